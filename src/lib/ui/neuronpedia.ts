// Feature labels people already wrote: Neuronpedia's explanation exports, read as feature labels beside or instead of
// the SAE folder's features.json. An export row is a row of Neuronpedia's `Explanation` table (hijohnnylin/neuronpedia,
// apps/webapp/prisma/schema.prisma: modelId, layer, index (a string), description, typeName, explanationModelName,
// scoreV1, ...), one JSON object per line, gzipped, in `v1/<modelId>/<layer>/explanations/batch-<n>.jsonl.gz` of the
// neuronpedia-datasets bucket (apps/webapp/app/api/admin/import/route.ts reads them so); the retired
// /api/explanation/export answered the same rows as a JSON array.
import { gunzipSync } from 'fflate';
import { DEFAULT_DENSE_THRESHOLD, type FeatureCatalogue, type FeatureEntry } from './features';

/** The export cannot be read, or does not belong to the loaded SAE; the message says what was found and expected. */
export class LabelImportError extends Error {
  override name = 'LabelImportError';
}

export interface NeuronpediaLabels {
  /** Neuronpedia model and source ids found in the rows (e.g. "gpt2-small", "8-res-jb"), when they agree. */
  modelId?: string;
  layer?: string;
  /** Latent index → description (the best-scored explanation when a latent has several). */
  labels: Map<number, string>;
}

function rowsOf(text: string, fileName: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown[];
    } catch (e) {
      throw new LabelImportError(`${fileName}: not valid JSON (${(e as Error).message}): expected a Neuronpedia explanations export.`);
    }
  }
  return trimmed
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new LabelImportError(`${fileName}: line ${i + 1} is not JSON: expected one explanation object per line (.jsonl).`);
      }
    });
}

/**
 * Reads an explanations export: `.jsonl` (one row per line), `.jsonl.gz` (gzip, as the bucket serves it) or a JSON
 * array. Rows need `index` (integer or integer string) and a non-empty `description`; other rows are skipped.
 * Throws LabelImportError when nothing usable is found or the rows name several SAEs.
 */
export function parseNeuronpediaExplanations(input: Uint8Array | string, fileName = 'explanations'): NeuronpediaLabels {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    let bytes = input;
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes);
      } catch (e) {
        throw new LabelImportError(`${fileName}: gzip data is corrupt (${(e as Error).message}).`);
      }
    }
    text = new TextDecoder().decode(bytes);
  }
  const labels = new Map<number, string>();
  const scores = new Map<number, number>();
  const models = new Set<string>();
  const layers = new Set<string>();
  for (const row of rowsOf(text, fileName)) {
    if (!row || typeof row !== 'object') continue;
    const r = row as Record<string, unknown>;
    const index = typeof r.index === 'number' ? r.index : typeof r.index === 'string' && /^\d+$/.test(r.index) ? Number(r.index) : NaN;
    const description = typeof r.description === 'string' ? r.description.trim() : '';
    if (!Number.isInteger(index) || index < 0 || !description) continue;
    if (typeof r.modelId === 'string') models.add(r.modelId);
    if (typeof r.layer === 'string') layers.add(r.layer);
    const score = typeof r.scoreV1 === 'number' ? r.scoreV1 : -Infinity;
    if (!labels.has(index) || score > (scores.get(index) ?? -Infinity)) {
      labels.set(index, description);
      scores.set(index, score);
    }
  }
  if (labels.size === 0) {
    throw new LabelImportError(`${fileName}: no explanations found: expected rows with "index" and "description" (a Neuronpedia explanations export).`);
  }
  if (models.size > 1 || layers.size > 1) {
    throw new LabelImportError(
      `${fileName}: the rows belong to several SAEs (${[...models].join(', ')} / ${[...layers].join(', ')}): expected the export of one Neuronpedia source.`,
    );
  }
  return { modelId: [...models][0], layer: [...layers][0], labels };
}

function blankEntry(id: number, label: string, label_source: string): FeatureEntry {
  return { id, label, label_source, density: NaN, max_activation: NaN, voice_distribution: [], top_promoted: [], top_suppressed: [], examples: [] };
}

/**
 * The catalogue with Neuronpedia's labels: `instead` replaces every label the export has, `beside` only fills
 * latents that features.json does not label. Throws LabelImportError when the export names a latent the SAE does
 * not have, or (when the SAE says which Neuronpedia source it is, SAELens `neuronpedia_id`) another source.
 */
export function applyNeuronpediaLabels(
  catalogue: FeatureCatalogue | null,
  imported: NeuronpediaLabels,
  sae: { hookName: string; dSae: number; neuronpediaId?: string },
  mode: 'beside' | 'instead',
): FeatureCatalogue {
  const largest = Math.max(...imported.labels.keys());
  if (largest >= sae.dSae) {
    throw new LabelImportError(`The export labels latent ${largest}, but this SAE has ${sae.dSae} latents (0..${sae.dSae - 1}): expected the export of this SAE.`);
  }
  const source = imported.modelId && imported.layer ? `${imported.modelId}/${imported.layer}` : undefined;
  if (sae.neuronpediaId && source && sae.neuronpediaId !== source) {
    throw new LabelImportError(`The export is for Neuronpedia source ${source}, but this SAE is ${sae.neuronpediaId}: expected its own export.`);
  }
  const byId = new Map(catalogue?.byId ?? []);
  for (const [id, label] of imported.labels) {
    const entry = byId.get(id);
    const unlabeled = !entry || entry.label === `latent ${id}`;
    const label_source = `Neuronpedia explanation export${source ? ` (${source})` : ''}, imported`;
    if (mode === 'instead' || unlabeled) byId.set(id, entry ? { ...entry, label, label_source } : blankEntry(id, label, label_source));
  }
  return {
    hookName: catalogue?.hookName ?? sae.hookName,
    dSae: catalogue?.dSae ?? sae.dSae,
    voices: catalogue?.voices ?? [],
    byId,
    denseThreshold: catalogue?.denseThreshold ?? DEFAULT_DENSE_THRESHOLD,
    scanTokens: catalogue?.scanTokens ?? 0,
    examples: catalogue?.examples ?? null,
  };
}
