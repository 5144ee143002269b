// The SAE's feature catalogue (`features.json`, written by the model recipe) and the per-text summaries the feature
// panel shows: which latents are most specific to the current tokens, histograms of a latent's activations.

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
  /** Where the label came from (features.json `label_source`), e.g. "automatic (recipe labels.py v1): …". */
  label_source?: string;
  density: number;
  max_activation: number;
  voice_distribution: number[];
  top_promoted: TokenLogit[];
  top_suppressed: TokenLogit[];
  /** Inline examples (older or third-party features.json); empty when they live in examples files. */
  examples: FeatureExample[];
}

/** Latents at or above this density are "dense" unless features.json says otherwise (`dense_threshold`). */
export const DEFAULT_DENSE_THRESHOLD = 0.1;

/** features.json `examples`: top examples split into files of `perFile` latents, fetched when a card opens. */
export interface ExamplesLayout {
  /** Absolute URL of the SAE folder the path is relative to. */
  folderUrl: string;
  /** e.g. `examples/{index}.json`; `{index}` is floor(latent / perFile) written with four digits. */
  path: string;
  perFile: number;
}

export interface FeatureCatalogue {
  hookName: string;
  dSae: number;
  voices: string[];
  byId: Map<number, FeatureEntry>;
  /** Density at or above which a latent is dense: folded under "frequent features", never the default colour. */
  denseThreshold: number;
  /** Held-out tokens the dashboards scanned (a latent never seen there has density below 1 / scanTokens). */
  scanTokens: number;
  examples: ExamplesLayout | null;
}

export class CatalogueError extends Error {
  override name = 'CatalogueError';
}

/** An examples file that got no response at all (offline without the service worker's copy, server unreachable). */
export class ExamplesUnreachableError extends CatalogueError {
  override name = 'ExamplesUnreachableError';
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/**
 * Validates the parts the UI reads; entries with a bad id are skipped rather than failing the whole catalogue.
 * `folderUrl` resolves a split examples layout; without it such a layout is ignored (cards show no examples).
 */
export function parseCatalogue(json: unknown, folderUrl?: string): FeatureCatalogue {
  if (!isObject(json) || !Array.isArray(json.latents))
    throw new CatalogueError('features.json: expected an object with a "latents" array.');
  const voices = Array.isArray(json.voices) ? json.voices.map(String) : [];
  const byId = new Map<number, FeatureEntry>();
  for (const raw of json.latents) {
    if (!isObject(raw) || typeof raw.id !== 'number' || !Number.isInteger(raw.id)) continue;
    byId.set(raw.id, {
      id: raw.id,
      label: typeof raw.label === 'string' && raw.label ? raw.label : `latent ${raw.id}`,
      ...(typeof raw.label_source === 'string' ? { label_source: raw.label_source } : {}),
      density: typeof raw.density === 'number' ? raw.density : NaN,
      max_activation: typeof raw.max_activation === 'number' ? raw.max_activation : NaN,
      voice_distribution: Array.isArray(raw.voice_distribution) ? raw.voice_distribution.map(Number) : [],
      top_promoted: Array.isArray(raw.top_promoted) ? (raw.top_promoted as TokenLogit[]) : [],
      top_suppressed: Array.isArray(raw.top_suppressed) ? (raw.top_suppressed as TokenLogit[]) : [],
      examples: Array.isArray(raw.examples) ? (raw.examples as FeatureExample[]) : [],
    });
  }
  const layout = json.examples;
  const examples =
    folderUrl && isObject(layout) && typeof layout.path === 'string' && typeof layout.per_file === 'number' && layout.per_file >= 1
      ? { folderUrl, path: layout.path, perFile: Math.floor(layout.per_file) }
      : null;
  return {
    hookName: typeof json.hook_name === 'string' ? json.hook_name : '',
    dSae: typeof json.d_sae === 'number' ? json.d_sae : byId.size,
    voices,
    byId,
    denseThreshold:
      typeof json.dense_threshold === 'number' && json.dense_threshold > 0 ? json.dense_threshold : DEFAULT_DENSE_THRESHOLD,
    scanTokens: typeof json.scan_tokens === 'number' && json.scan_tokens > 0 ? json.scan_tokens : 0,
    examples,
  };
}

export async function fetchCatalogue(saeFolderUrl: string, signal?: AbortSignal): Promise<FeatureCatalogue | null> {
  const response = await fetch(new URL('features.json', saeFolderUrl), { signal });
  if (response.status === 404) return null;
  if (!response.ok) throw new CatalogueError(`features.json: HTTP ${response.status} from ${response.url}`);
  return parseCatalogue(await response.json(), saeFolderUrl);
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

/**
 * Latents that fire on a text, strongest total first. Positions where `skip(t)` is true (special tokens: BOS, EOS,
 * chat markers) are left out.
 */
export function summariseLatents(rows: TopRows, tokenCount: number, skip?: (t: number) => boolean): LatentSummary[] {
  const byLatent = new Map<number, LatentSummary>();
  for (let t = 0; t < tokenCount; t++) {
    if (skip?.(t)) continue;
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

/** `summariseLatents` over an analysis, leaving out its special tokens. */
export function summariseText(analysis: { top: TopRows; tokens: { special?: boolean }[] }): LatentSummary[] {
  return summariseLatents(analysis.top, analysis.tokens.length, (t) => !!analysis.tokens[t].special);
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

/** Whether a latent is dense: its density in the dashboards' scan is at or above the catalogue's threshold. */
export function isDenseLatent(catalogue: FeatureCatalogue | null, latent: number): boolean {
  const entry = catalogue?.byId.get(latent);
  return !!entry && entry.density >= catalogue!.denseThreshold;
}

/** A latent on the text with its specificity score and whether it is dense. */
export interface RankedLatent extends LatentSummary {
  /** See `specificity`; NaN when the catalogue has no density or maximum for the latent. */
  score: number;
  dense: boolean;
}

/**
 * How specific a latent's firing is to this text: (its largest activation on the text ÷ the largest activation the
 * dashboards saw) × ln(1 / density). The first factor (0..1, can pass 1 on unusual text) says how strongly it fires
 * here for this latent; the second is the information in a firing (a latent on 30% of tokens gets 1.2, one on
 * 0.3% gets 5.8), so a latent firing everywhere ranks low even at full strength. A latent never seen in the scan
 * counts as density 1 / scanTokens. NaN without dashboard data.
 */
export function specificity(summary: LatentSummary, entry: FeatureEntry | undefined, scanTokens = 0): number {
  if (!entry || !(entry.max_activation > 0) || !Number.isFinite(entry.density)) return NaN;
  const floor = scanTokens > 0 ? 1 / scanTokens : 1e-6;
  const density = Math.min(1, Math.max(entry.density, floor));
  return (summary.max / entry.max_activation) * Math.log(1 / density);
}

export interface Ranking {
  /** Non-dense latents, most specific first (the default order and the default colour). */
  specific: RankedLatent[];
  /** Dense latents (density ≥ the catalogue's threshold), most specific first: folded under "frequent features". */
  frequent: RankedLatent[];
}

/** Splits and orders a text's latents by specificity; without a catalogue, by total activation. */
export function rankLatents(summaries: LatentSummary[], catalogue: FeatureCatalogue | null): Ranking {
  const ranked: RankedLatent[] = summaries.map((s) => {
    const entry = catalogue?.byId.get(s.latent);
    const score = specificity(s, entry, catalogue?.scanTokens);
    return { ...s, score, dense: isDenseLatent(catalogue, s.latent) };
  });
  const key = (r: RankedLatent) => (Number.isFinite(r.score) ? r.score : -Infinity);
  ranked.sort((a, b) => key(b) - key(a) || b.total - a.total || a.latent - b.latent);
  return { specific: ranked.filter((r) => !r.dense), frequent: ranked.filter((r) => r.dense) };
}

/** URL of the examples file that holds `latent`. */
export function examplesUrl(layout: ExamplesLayout, latent: number): string {
  const index = String(Math.floor(latent / layout.perFile)).padStart(4, '0');
  return new URL(layout.path.replace('{index}', index), layout.folderUrl).href;
}

const examplesFiles = new Map<string, Promise<{ first: number; latents: FeatureExample[][] }>>();

/**
 * Top examples of one latent: inline ones when features.json has them, else from its examples file (fetched once
 * per file and kept; a failed fetch is forgotten so that a later card can retry). Throws CatalogueError on a bad file or
 * an HTTP error, ExamplesUnreachableError (a CatalogueError) on no response at all (offline, server unreachable).
 */
export async function loadExamples(catalogue: FeatureCatalogue, latent: number): Promise<FeatureExample[]> {
  const entry = catalogue.byId.get(latent);
  if (entry?.examples.length || !catalogue.examples) return entry?.examples ?? [];
  const url = examplesUrl(catalogue.examples, latent);
  let file = examplesFiles.get(url);
  if (!file) {
    // fetch rejects (a TypeError, "Failed to fetch") only when no response came at all: offline without the service
    // worker's copy, DNS, refused connection, CORS. Say so in words; navigator.onLine alone does not tell (it stays
    // true behind a dead network and under some browsers' offline emulation).
    const download = fetch(url).catch((e: unknown) => {
      throw new ExamplesUnreachableError(`examples: no response for ${url} (offline, or the server cannot be reached): ${e instanceof Error ? e.message : String(e)}`);
    });
    file = download.then(async (response) => {
      if (!response.ok) throw new CatalogueError(`examples: HTTP ${response.status} from ${url}`);
      const json: unknown = await response.json();
      if (!isObject(json) || typeof json.first !== 'number' || !Array.isArray(json.latents))
        throw new CatalogueError(`${url}: expected {"first": number, "latents": [...]}.`);
      return { first: json.first, latents: json.latents as FeatureExample[][] };
    });
    examplesFiles.set(url, file);
    file.catch(() => examplesFiles.delete(url));
  }
  const { first, latents } = await file;
  return latents[latent - first] ?? [];
}
