// Loads an SAE folder: its config file (cfg.json, or Gemma Scope 2's config.json) says which publisher's layout it
// is, then the weights file is read. The folder is read through a small reader, so an HTTP folder (static hosting
// that answers unknown paths with an HTML page as well as 404, or a hub) and a folder opened from disk load alike.
import { MissingFileError } from '../runtime/errors';
import { fetchBytes, resolveUrl } from '../runtime/loader';
import { SaeFormatError } from './errors';
import { GEMMA_SCOPE_NPZ, loadSae, WEIGHT_FILES } from './formats';
import { SAELENS_KEYS } from './saelensConfig';
import type { SaeFormat, SaeWeights } from './types';

/** Reads files of one SAE folder by name. */
export interface SaeFolderReader {
  /** The folder's URL or path: names the layer and kind where the files do not, and the release on a hub. */
  readonly location: string;
  /** The file's bytes, or undefined when the folder does not have it. */
  optional(name: string, onBytes?: (loaded: number, total?: number) => void): Promise<Uint8Array | undefined>;
  /** The file's bytes; throws SaeFormatError naming the file when it is absent. */
  required(name: string, expected: string, onBytes?: (loaded: number, total?: number) => void): Promise<Uint8Array>;
}

function isHtml(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return i < bytes.length && bytes[i] === 0x3c; /* '<' */
}

/** An SAE folder over HTTP. A 404 or an HTML fallback page means "absent"; a network failure throws. */
export function httpSaeFolder(baseUrl: string): SaeFolderReader {
  return {
    location: baseUrl,
    async optional(name, onBytes) {
      try {
        const bytes = await fetchBytes(resolveUrl(baseUrl, name), (_f, loaded, total) => onBytes?.(loaded, total));
        return isHtml(bytes) ? undefined : bytes;
      } catch (e) {
        if (e instanceof MissingFileError) return undefined;
        throw e;
      }
    },
    async required(name, expected, onBytes) {
      const url = resolveUrl(baseUrl, name);
      let bytes: Uint8Array;
      try {
        bytes = await fetchBytes(url, (_f, loaded, total) => onBytes?.(loaded, total));
      } catch (e) {
        if (e instanceof MissingFileError) throw new SaeFormatError(`${url} answered HTTP ${e.status}: expected ${expected}.`);
        throw e;
      }
      if (isHtml(bytes)) throw new SaeFormatError(`${url} is not there (the server answered with an HTML page): expected ${expected}.`);
      return bytes;
    },
  };
}

function parseJson(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (!bytes) return undefined;
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON file that may be absent: 404, or an HTML fallback page, gives undefined; a network failure throws. */
export async function fetchOptionalJson(url: string): Promise<Record<string, unknown> | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await fetchBytes(url);
  } catch (e) {
    if (e instanceof MissingFileError) return undefined;
    throw e;
  }
  return parseJson(bytes);
}

/**
 * Which loader a folder's config belongs to. SAELens keys (any version: `hook_point`, `hook_name`, `d_sae`,
 * `architecture`, `activation_fn_str`, `metadata`, ...) win over sparsify's `expansion_factor`, which old SAELens
 * uploads also carry; Gemma Scope 2's config.json has `hf_hook_point_in`; no config at all is Gemma Scope 1.
 */
export function detectFormat(cfg: Record<string, unknown> | undefined): SaeFormat {
  if (!cfg) return 'gemma-scope';
  if ('hf_hook_point_in' in cfg) return 'gemma-scope';
  if (SAELENS_KEYS.some((key) => key in cfg)) return 'saelens';
  if ('num_latents' in cfg || 'expansion_factor' in cfg || 'k' in cfg) return 'sparsify';
  return 'gemma-scope';
}

const EXPECTED: Record<SaeFormat, string> = {
  saelens: 'sae_weights.safetensors beside a SAELens cfg.json',
  'gemma-scope': 'params.safetensors (Gemma Scope 2) or params.npz (Gemma Scope 1)',
  sparsify: 'sae.safetensors beside a sparsify cfg.json',
};

/** Reads and loads an SAE folder through `reader` (see detectFormat for how the layout is told). */
export async function readSaeFolder(reader: SaeFolderReader, onBytes?: (loaded: number, total?: number) => void): Promise<SaeWeights> {
  const cfg = parseJson(await reader.optional('cfg.json')) ?? parseJson(await reader.optional('config.json'));
  const format = detectFormat(cfg);
  let weightsFile = WEIGHT_FILES[format];
  let weights: Uint8Array | undefined;
  if (format === 'gemma-scope') {
    weights = await reader.optional(weightsFile, onBytes);
    if (!weights) {
      weightsFile = GEMMA_SCOPE_NPZ;
      weights = await reader.required(weightsFile, EXPECTED[format], onBytes);
    }
  } else {
    weights = await reader.required(weightsFile, EXPECTED[format], onBytes);
  }
  const needsScaler = format === 'saelens' && cfg && (cfg.normalize_activations === 'expected_average_only_in' || cfg.normalize_activations === true);
  const activationScaler = needsScaler ? parseJson(await reader.optional('activation_scaler.json')) : undefined;
  return loadSae({ format, cfg, weights, weightsFile, hookHint: reader.location, activationScaler });
}

export async function fetchSae(baseUrl: string, onBytes?: (loaded: number, total?: number) => void): Promise<SaeWeights> {
  return readSaeFolder(httpSaeFolder(baseUrl), onBytes);
}
