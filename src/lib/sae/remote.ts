// Loads an SAE folder over HTTP: cfg.json (if any) says which publisher's layout it is, then the weights file.
// Works against static hosting that answers unknown paths with an HTML page (Vite's SPA fallback) as well as 404.
import { MissingFileError } from '../runtime/errors';
import { fetchBytes, resolveUrl } from '../runtime/loader';
import { SaeFormatError } from './errors';
import { loadSae, WEIGHT_FILES } from './formats';
import type { SaeFormat, SaeWeights } from './types';

/** A JSON file that may be absent: 404, or an HTML fallback page, gives undefined; a network failure throws. */
export async function fetchOptionalJson(url: string): Promise<Record<string, unknown> | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await fetchBytes(url);
  } catch (e) {
    if (e instanceof MissingFileError) return undefined;
    throw e;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

export function detectFormat(cfg: Record<string, unknown> | undefined): SaeFormat {
  if (!cfg) return 'gemma-scope';
  if ('num_latents' in cfg || 'expansion_factor' in cfg) return 'sparsify';
  if ('d_sae' in cfg || 'architecture' in cfg || 'hook_name' in cfg || 'metadata' in cfg || 'hook_point' in cfg) return 'saelens';
  return 'gemma-scope';
}

export async function fetchSae(baseUrl: string, onBytes?: (loaded: number, total?: number) => void): Promise<SaeWeights> {
  const cfg = await fetchOptionalJson(resolveUrl(baseUrl, 'cfg.json'));
  const format = detectFormat(cfg);
  const url = resolveUrl(baseUrl, WEIGHT_FILES[format]);
  const weights = await fetchBytes(url, (_f, loaded, total) => onBytes?.(loaded, total));
  if (weights.byteLength > 0 && weights[0] === 0x3c /* '<' */) {
    throw new SaeFormatError(`${url} is not there (the server answered with an HTML page): expected ${WEIGHT_FILES[format]} for a ${format} SAE folder.`);
  }
  return loadSae({ format, cfg, weights, hookHint: baseUrl });
}
