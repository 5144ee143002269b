// Which models the lab can compare, and the check that they can be compared at all (same residual width as each
// other and as the SAE) before anything is downloaded beyond three small JSON files.
//
// variants.json (read by variants.ts; its format is in that module and the recipe's formats): the lab offers base vs
// every other variant, in the file's order, each with the file's shared SAE unless the variant names its own, and the
// file's neutral prompts. Without the file it offers the folder's fp32 graph against its q4 graph: what quantisation
// changed.
import { LabFileFormatError, LabWidthMismatchError } from './errors';
import { loadVariants, type Variant, type VariantsManifest } from './variants';

export interface LabModel {
  label: string;
  /** Absolute folder URL in Hugging Face layout, ending in `/`. */
  folder: string;
  onnxFile?: string;
}

export interface ModelPair {
  id: string;
  label: string;
  a: LabModel;
  b: LabModel;
  /** Absolute SAE folder URL. */
  sae: string;
  /** The prompt set the pair comes with (variants.json `neutral_prompts`), if any. */
  prompts?: string[];
}

/** The recipe's evaluation prompts (models/recipe/analyze.py `NEUTRAL_PROMPTS`): modern openings in no voice. */
export const NEUTRAL_PROMPTS = [
  'The weather today is', 'To open the door,', 'My favourite thing about the city is',
  'The meeting will start at', 'She picked up the phone and', 'The best way to learn a new skill is',
  'Yesterday I went to the market and', 'When the train finally arrived,',
  'The new laptop comes with', 'If the battery is low, the', 'Click the button to',
  'The website was down because', 'Our team uses a spreadsheet to', 'The printer in the office',
  'To install the app, first', 'The password must contain',
  'A bicycle is a', 'The word carpool refers to', 'Football is a game in which',
  'A refrigerator keeps food', 'The museum is famous for', 'Coffee is made from',
  'The traffic light turned', 'Plastic bottles can be',
];

/**
 * Pairs for a model folder: from its variants.json when it has one with two or more variants, else fp32 vs q4 of the
 * folder itself. `saeUrl` is the SAE the playground uses for this folder. A variants.json that is there but wrong
 * throws `LabFileFormatError`; one that cannot be fetched at all (a folder opened from disk) counts as absent.
 */
export async function modelPairs(folderUrl: string, saeUrl: string, name: string, fetcher: typeof fetch = fetch): Promise<ModelPair[]> {
  const manifest = await loadVariants(folderUrl, fetcher).catch((error: unknown) => {
    if (error instanceof LabFileFormatError) throw error;
    return null;
  });
  return pairsOf(manifest, folderUrl, saeUrl, name);
}

/** The pairs a read variants.json offers (see `modelPairs`); null or fewer than two variants: fp32 vs q4. */
export function pairsOf(manifest: VariantsManifest | null, folderUrl: string, saeUrl: string, name: string): ModelPair[] {
  const variants = manifest?.variants ?? [];
  if (manifest && variants.length > 1) {
    const prompts = manifest.neutralPrompts.length ? manifest.neutralPrompts : undefined;
    const shared = manifest.sae ?? saeUrl;
    const toModel = (v: Variant): LabModel => ({
      label: `${v.id}${v.role ? ` (${v.role}${v.step !== undefined ? `, step ${v.step}` : ''})` : ''}`,
      folder: v.folder,
      onnxFile: v.onnxFile,
    });
    const base = variants.find((v) => v.role === 'base') ?? variants[0];
    return variants
      .filter((v) => v !== base)
      .map((v) => ({
        id: `${base.id}~${v.id}`,
        label: `${base.id} → ${v.id}${v.description ? `: ${v.description}` : ''}`,
        a: toModel(base),
        b: toModel(v),
        sae: v.sae ?? shared,
        prompts,
      }));
  }
  return [
    {
      id: 'fp32~q4',
      label: `${name}: fp32 graph → q4 graph (what quantisation changed)`,
      a: { label: `${name} fp32`, folder: folderUrl, onnxFile: 'onnx/model.onnx' },
      b: { label: `${name} q4`, folder: folderUrl, onnxFile: 'onnx/model_q4.onnx' },
      sae: saeUrl,
    },
  ];
}

/** Residual width from a Hugging Face config.json (GPT-2 `n_embd`, Llama-style `hidden_size`, `d_model`). */
export function hiddenSize(config: Record<string, unknown>): number | null {
  const v = config.n_embd ?? config.hidden_size ?? config.d_model;
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}

export interface PairShape {
  dModel: number;
  /** The SAE's latents per token when it is a TopK SAE (cfg.json `k`), else null. */
  saeK: number | null;
}

/**
 * Reads both config.json files and the SAE's cfg.json and checks the widths agree; throws `LabWidthMismatchError`
 * saying which widths were found, before any model is loaded. SAE widths follow SAELens `d_in` and sparsify's
 * `d_in`; a cfg without one is left to the engine's own check when the SAE loads.
 */
export async function checkPair(pair: ModelPair, fetcher: typeof fetch = fetch): Promise<PairShape> {
  const json = async (url: string) => {
    const r = await fetcher(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return (await r.json()) as Record<string, unknown>;
  };
  const [ca, cb, cs] = await Promise.all([
    json(new URL('config.json', pair.a.folder).href),
    json(new URL('config.json', pair.b.folder).href),
    json(new URL('cfg.json', pair.sae).href).catch(() => ({}) as Record<string, unknown>),
  ]);
  const wa = hiddenSize(ca);
  const wb = hiddenSize(cb);
  if (wa === null || wb === null) throw new LabWidthMismatchError(`Could not read the residual width (n_embd or hidden_size) from ${wa === null ? pair.a.label : pair.b.label}'s config.json.`);
  if (wa !== wb)
    throw new LabWidthMismatchError(`${pair.a.label} has residual width ${wa} and ${pair.b.label} has ${wb}: a diff needs two models of the same width read by one SAE.`);
  const dIn = typeof cs.d_in === 'number' ? cs.d_in : null;
  if (dIn !== null && dIn !== wa) throw new LabWidthMismatchError(`The SAE reads width ${dIn} but both models have width ${wa}.`);
  const k = cs.k ?? (cs.activation_fn_kwargs as Record<string, unknown> | undefined)?.k;
  const topk = cs.architecture === 'topk' || cs.activation_fn === 'topk' || cs.activation_fn_str === 'topk' || (typeof k === 'number' && cs.num_latents !== undefined);
  return { dModel: wa, saeK: topk && typeof k === 'number' ? k : null };
}
