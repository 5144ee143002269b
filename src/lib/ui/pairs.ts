// Well-known model + SAE pairs that live on the hub, offered in the model picker. Nothing loads until asked: the
// picker first asks the hub how large the files are (HEAD requests), so the user sees the download size, and an
// unreachable hub is a clear message rather than a failed load half-way.
import { DEFAULT_HUB, hubFolderUrl } from '../runtime/hub';
import { onnxCandidates } from '../runtime/layout';
import { HUB_PREFIX, hubSaeFolderUrl } from './models';

export interface KnownPair {
  /** Picker value, `pair:<id>`. */
  id: string;
  name: string;
  description: string;
  /** Model as the picker loads it: `hf:owner/name`. */
  model: string;
  /** SAE as the picker loads it: `hf:owner/repo/folder`. */
  sae: string;
  /**
   * Files the model load reads, in the model repository. `onnx/model.onnx` stands for the ONNX file
   * LanguageModel.load picks (the first of onnxCandidates the repository has), with its `.onnx_data` if any.
   */
  modelFiles: string[];
  /** Files the SAE load reads, in the SAE folder. */
  saeFiles: string[];
  /** Where the pairing comes from. */
  source: string;
}

export const PAIR_PREFIX = 'pair:';

/**
 * GPT-2 small (OpenAI's 124M GPT-2 as transformers.js publishes it in ONNX, `Xenova/gpt2`) with Joseph Bloom's
 * residual-stream SAE before block 8 (SAELens release gpt2-small-res-jb, `jbloom/GPT2-Small-SAEs-Reformatted`,
 * folder `blocks.8.hook_resid_pre`: cfg.json + sae_weights.safetensors, per SAELens pretrained_saes.yaml).
 */
export const KNOWN_PAIRS: KnownPair[] = [
  {
    id: 'gpt2-small-res-jb-8',
    name: 'GPT-2 small + res-jb (layer 8)',
    description: 'OpenAI GPT-2 small with the gpt2-small-res-jb residual SAE before block 8 (24,576 latents), from the hub',
    model: 'hf:Xenova/gpt2',
    sae: 'hf:jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre',
    modelFiles: ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'],
    saeFiles: ['cfg.json', 'sae_weights.safetensors'],
    source: 'SAELens sae_lens/pretrained_saes.yaml (release gpt2-small-res-jb, model gpt2-small)',
  },
  /**
   * Gemma 3 270M instruction-tuned as transformers.js publishes it (`onnx-community/gemma-3-270m-it-ONNX`) with
   * Gemma Scope 2's residual-stream SAE after block 12, 16k latents, medium L0 (`google/gemma-scope-2-270m-it`,
   * folder `resid_post/layer_12_width_16k_l0_medium`: config.json + params.safetensors). SAELens
   * sae_lens/pretrained_saes.yaml (decoderesearch/SAELens): release gemma-scope-2-270m-pt-res lists repo_id
   * google/gemma-scope-2-270m-pt, `resid_post/layer_{5,9,12,15}_width_{16k,65k,262k,1m}_l0_{small,medium,big}`, the
   * medium one carrying the Neuronpedia id (gemma-3-270m/12-gemmascope-2-res-16k, l0 60); the instruction-tuned
   * releases (gemma-scope-2-270m-it-mlp, -att-all, …) use repo_id google/gemma-scope-2-270m-it with model
   * google/gemma-3-270m-it and the same folder names; all with conversion_func gemma_3.
   */
  {
    id: 'gemma-3-270m-it-gemmascope-2-res-16k-12',
    name: 'Gemma 3 270M IT + Gemma Scope 2 (layer 12, 16k)',
    description: 'Google Gemma 3 270M instruction-tuned with the Gemma Scope 2 residual SAE after block 12 (16,384 latents, medium L0), from the hub',
    model: 'hf:onnx-community/gemma-3-270m-it-ONNX',
    sae: 'hf:google/gemma-scope-2-270m-it/resid_post/layer_12_width_16k_l0_medium',
    modelFiles: ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'],
    saeFiles: ['config.json', 'params.safetensors'],
    source: 'SAELens sae_lens/pretrained_saes.yaml (gemma-scope-2-270m-it releases, conversion_func gemma_3)',
  },
];

/** The hub answered nothing (offline, blocked, or down): nothing was loaded. */
export class PairUnavailableError extends Error {
  override name = 'PairUnavailableError';
}

export interface PairSize {
  /** Total bytes to download. */
  bytes: number;
  files: { url: string; bytes: number }[];
}

/** Size of one hub file: LFS files answer `X-Linked-Size` on the resolve URL (the hub), else `Content-Length`. */
async function fileSize(url: string, fetchImpl: typeof fetch): Promise<number> {
  const response = await fetchImpl(url, { method: 'HEAD' });
  if (!response.ok) throw new PairUnavailableError(`${url} answered HTTP ${response.status}: expected the file to exist on the hub.`);
  const size = Number(response.headers.get('x-linked-size') ?? response.headers.get('content-length'));
  if (!Number.isFinite(size) || size <= 0) throw new PairUnavailableError(`${url} did not say its size (no Content-Length).`);
  return size;
}

/**
 * Asks the hub for the size of every file a pair downloads. Throws PairUnavailableError saying the hub could not be
 * reached (with the pair and the hub named) when offline, or which file is missing.
 */
export async function pairDownloadSize(
  pair: KnownPair,
  options: { hub?: string; fetchImpl?: typeof fetch; webgpu?: boolean } = {},
): Promise<PairSize> {
  const { hub = DEFAULT_HUB, fetchImpl = fetch, webgpu = false } = options;
  const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
  const host = new URL(hub).host;
  if (offline) throw new PairUnavailableError(`You are offline: ${pair.name} downloads its files from ${host}. Nothing was loaded; the current model stays.`);
  const modelFolder = hubFolderUrl(pair.model.slice(HUB_PREFIX.length), hub);
  const saeFolder = hubSaeFolderUrl(pair.sae, hub);
  const urls = [...pair.modelFiles.map((f) => modelFolder + f), ...pair.saeFiles.map((f) => saeFolder + f)];
  let sizes: number[];
  try {
    // Size what LanguageModel.load will fetch: the first ONNX file of onnxCandidates the repository has (q4 first),
    // and its external weights, which transformers.js names `<file>_data` (then `_data_1`, … past 2 GB).
    const plain = urls.indexOf(modelFolder + 'onnx/model.onnx');
    if (plain >= 0) {
      let chosen = urls[plain];
      for (const file of onnxCandidates(webgpu ? 'webgpu' : 'wasm')) {
        if ((await fetchImpl(modelFolder + file, { method: 'HEAD' })).ok) {
          chosen = modelFolder + file;
          break;
        }
      }
      const data: string[] = [];
      for (let i = 0; ; i++) {
        const url = `${chosen}_data${i === 0 ? '' : `_${i}`}`;
        if (!(await fetchImpl(url, { method: 'HEAD' })).ok) break;
        data.push(url);
      }
      urls.splice(plain, 1, chosen, ...data);
    }
    sizes = await Promise.all(urls.map((url) => fileSize(url, fetchImpl)));
  } catch (e) {
    if (e instanceof PairUnavailableError) throw e;
    throw new PairUnavailableError(
      `${host} could not be reached (${(e as Error).message}): ${pair.name} downloads its files from there. Check the connection; nothing was loaded and the current model stays.`,
    );
  }
  return { bytes: sizes.reduce((a, b) => a + b, 0), files: urls.map((url, i) => ({ url, bytes: sizes[i] })) };
}

/** "151 MB": bytes in the units people read. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} B`;
}
