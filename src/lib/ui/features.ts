// The SAE's feature catalogue (`features.json`, written by the model recipe) and the per-text summaries the feature
// panel shows: which latents fire most on the current tokens, histograms of a latent's activations.

export interface TokenLogit {
  token: string;
  id: number;
  logit: number;
}

export interface FeatureExample {
  voice: string;
  tokens: string[];
  activations: number[];
  max: number;
}

export interface FeatureEntry {
  id: number;
  label: string;
  density: number;
  max_activation: number;
  voice_distribution: number[];
  top_promoted: TokenLogit[];
  top_suppressed: TokenLogit[];
  examples: FeatureExample[];
}

export interface FeatureCatalogue {
  hookName: string;
  dSae: number;
  voices: string[];
  byId: Map<number, FeatureEntry>;
}

export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** Validates the parts the UI reads; entries with a bad id are skipped rather than failing the whole catalogue. */
export function parseCatalogue(json: unknown): FeatureCatalogue {
  if (!isObject(json) || !Array.isArray(json.latents))
    throw new CatalogueError('features.json: expected an object with a "latents" array.');
  const voices = Array.isArray(json.voices) ? json.voices.map(String) : [];
  const byId = new Map<number, FeatureEntry>();
  for (const raw of json.latents) {
    if (!isObject(raw) || typeof raw.id !== 'number' || !Number.isInteger(raw.id)) continue;
    byId.set(raw.id, {
      id: raw.id,
      label: typeof raw.label === 'string' && raw.label ? raw.label : `latent ${raw.id}`,
      density: typeof raw.density === 'number' ? raw.density : NaN,
      max_activation: typeof raw.max_activation === 'number' ? raw.max_activation : NaN,
      voice_distribution: Array.isArray(raw.voice_distribution) ? raw.voice_distribution.map(Number) : [],
      top_promoted: Array.isArray(raw.top_promoted) ? (raw.top_promoted as TokenLogit[]) : [],
      top_suppressed: Array.isArray(raw.top_suppressed) ? (raw.top_suppressed as TokenLogit[]) : [],
      examples: Array.isArray(raw.examples) ? (raw.examples as FeatureExample[]) : [],
    });
  }
  return {
    hookName: typeof json.hook_name === 'string' ? json.hook_name : '',
    dSae: typeof json.d_sae === 'number' ? json.d_sae : byId.size,
    voices,
    byId,
  };
}

export async function fetchCatalogue(saeFolderUrl: string, signal?: AbortSignal): Promise<FeatureCatalogue | null> {
  const response = await fetch(new URL('features.json', saeFolderUrl), { signal });
  if (response.status === 404) return null;
  if (!response.ok) throw new CatalogueError(`features.json: HTTP ${response.status} from ${response.url}`);
  return parseCatalogue(await response.json());
}

export function featureLabel(catalogue: FeatureCatalogue | null, id: number): string {
  return catalogue?.byId.get(id)?.label ?? `latent ${id}`;
}

/** Top-k rows as the token view and feature panel read them: one row of k (latent, value) pairs per token. */
export interface TopRows {
  k: number;
  indices: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface LatentSummary {
  latent: number;
  /** Largest activation on any token of the text. */
  max: number;
  /** Sum over tokens, counting only tokens where the latent is in the top k. */
  total: number;
  /** Tokens where it is in the top k with a positive value. */
  count: number;
}

/** Latents that fire most on a text, strongest total first. */
export function summariseLatents(rows: TopRows, tokenCount: number): LatentSummary[] {
  const byLatent = new Map<number, LatentSummary>();
  for (let t = 0; t < tokenCount; t++) {
    for (let j = 0; j < rows.k; j++) {
      const v = rows.values[t * rows.k + j];
      if (!(v > 0)) continue;
      const latent = rows.indices[t * rows.k + j];
      const s = byLatent.get(latent) ?? { latent, max: 0, total: 0, count: 0 };
      s.max = Math.max(s.max, v);
      s.total += v;
      s.count += 1;
      byLatent.set(latent, s);
    }
  }
  return [...byLatent.values()].sort((a, b) => b.total - a.total || a.latent - b.latent);
}

/** Activation of `latent` at token `t`, or 0 when it is not among that token's top k. */
export function activationAt(rows: TopRows, t: number, latent: number): number {
  for (let j = 0; j < rows.k; j++) if (rows.indices[t * rows.k + j] === latent) return rows.values[t * rows.k + j];
  return 0;
}

/** Case-insensitive search by label words or by id ("#12", "12"). */
export function matchesQuery(query: string, id: number, label: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const idQuery = q.replace(/^#/, '');
  if (/^\d+$/.test(idQuery)) return String(id) === idQuery || String(id).startsWith(idQuery);
  return label.toLowerCase().includes(q);
}

export interface Histogram {
  edges: number[];
  counts: number[];
}

/** Equal-width bins over (0, max]; values ≤ 0 are not counted (a latent is off there). */
export function histogram(values: Iterable<number>, bins: number, max?: number): Histogram {
  const positive = [...values].filter((v) => v > 0 && Number.isFinite(v));
  const top = max && max > 0 ? max : Math.max(0, ...positive);
  const edges = Array.from({ length: bins + 1 }, (_, i) => (top * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  if (top > 0) for (const v of positive) counts[Math.min(bins - 1, Math.floor((v / top) * bins))] += 1;
  return { edges, counts };
}
