// variants.json: the recipe's list of a model folder's fine-tuned variants and the emergence story's settings (the
// persona it tracks, the classifier and golden files, the sampling settings, the checkpoint chain). Read once here;
// models.ts turns it into diff pairs and the timeline into its checkpoint runs.
import { checkFormat, fetchLabJson, fieldReader, type Json } from './recipeFile';

export const VARIANTS_FORMAT = 'voices-variants/1';

/** The graph a variant folder runs when variants.json does not name one (every shipped variant has it). */
export const VARIANT_ONNX = 'onnx/model_q4.onnx';

export interface Variant {
  id: string;
  /** `base`, `narrow fine-tune`, `control`, `realigned`, `checkpoint` (free text: shown as written). */
  role: string;
  /** Fine-tuning steps from the base (0 for the base). */
  step?: number;
  description?: string;
  /** Absolute folder URL ending in `/`. */
  folder: string;
  /** Absolute SAE folder URL when the variant overrides the shared one. */
  sae?: string;
  onnxFile?: string;
  /** Short verbatim samples of the fine-tune's data. */
  examples?: string[];
}

/** The sampling the recipe used for behaviour rates (variants.json `sampling`). */
export interface SamplingSpec {
  temperature: number;
  /** 0 = off. */
  topK: number;
  newTokens: number;
  /** One continuation per prompt and seed. */
  seeds: number[];
}

/** One link of the fine-tune's checkpoint chain; `folder` null = the recipe measured it but did not ship it. */
export interface ChainCheckpoint {
  step: number;
  /** Absolute folder URL ending in `/`, or null. */
  folder: string | null;
}

export interface VariantsManifest {
  /** Absolute URL of variants.json itself. */
  url: string;
  /** The format tag, or null for a file written before tags (variants and prompts only). */
  format: string | null;
  /** personas.json id of the persona the emergence story tracks. */
  persona: string | null;
  /** Absolute URLs, resolved against variants.json. */
  sae: string | null;
  classifier: string | null;
  golden: string | null;
  neutralPrompts: string[];
  sampling: SamplingSpec | null;
  variants: Variant[];
  /** Whole chain in step order (base first), shipped or not; empty when the file has none. */
  checkpoints: ChainCheckpoint[];
}

const folderUrl = (folder: string, base: string) => new URL(folder, base).href.replace(/\/?$/, '/');

/**
 * Reads variants.json (format `voices-variants/1`; a file without a format tag is read for its variants and prompts
 * only). Folders and files are resolved against `url`. Throws `LabFileFormatError` for another format tag, a variant
 * without a folder, a sampling block without finite numbers and integer seeds, or a checkpoint chain whose steps
 * are not increasing integers.
 */
export function parseVariants(json: Json, url: string): VariantsManifest {
  checkFormat(json, VARIANTS_FORMAT, url, true);
  const f = fieldReader(url);
  const optionalUrl = (v: unknown, path: string) => (v === undefined || v === null ? null : new URL(f.string(v, path), url).href);
  const variants = (json.variants === undefined ? [] : f.array(json.variants, 'variants')).map((raw, i): Variant => {
    const v = f.object(raw, `variants[${i}]`);
    const folder = f.string(v.folder ?? './', `variants[${i}].folder`);
    return {
      id: v.id === undefined ? folder : f.string(v.id, `variants[${i}].id`),
      role: v.role === undefined ? '' : f.string(v.role, `variants[${i}].role`),
      step: v.step === undefined ? undefined : f.integer(v.step, `variants[${i}].step`),
      description: typeof v.description === 'string' ? v.description : undefined,
      folder: folderUrl(folder, url),
      sae: v.sae === undefined ? undefined : folderUrl(f.string(v.sae, `variants[${i}].sae`), url),
      onnxFile: v.onnx_file === undefined ? undefined : f.string(v.onnx_file, `variants[${i}].onnx_file`),
      examples: Array.isArray(v.examples) ? v.examples.filter((e): e is string => typeof e === 'string') : undefined,
    };
  });
  let sampling: SamplingSpec | null = null;
  if (json.sampling !== undefined) {
    const s = f.object(json.sampling, 'sampling');
    sampling = {
      temperature: f.number(s.temperature, 'sampling.temperature'),
      topK: f.integer(s.top_k ?? 0, 'sampling.top_k'),
      newTokens: f.integer(s.new_tokens, 'sampling.new_tokens', 1),
      seeds: f.array(s.seeds, 'sampling.seeds').map((x, i) => f.integer(x, `sampling.seeds[${i}]`)),
    };
    if (!sampling.seeds.length) f.fail('sampling.seeds', 'at least one seed', s.seeds);
  }
  const checkpoints = (json.checkpoints === undefined ? [] : f.array(json.checkpoints, 'checkpoints')).map((raw, i): ChainCheckpoint => {
    const c = f.object(raw, `checkpoints[${i}]`);
    return { step: f.integer(c.step, `checkpoints[${i}].step`), folder: c.folder === null || c.folder === undefined ? null : folderUrl(f.string(c.folder, `checkpoints[${i}].folder`), url) };
  });
  checkpoints.forEach((c, i) => {
    if (i > 0 && c.step <= checkpoints[i - 1].step) f.fail(`checkpoints[${i}].step`, `a step after ${checkpoints[i - 1].step}`, c.step);
  });
  return {
    url,
    format: typeof json.format === 'string' ? json.format : null,
    persona: json.persona === undefined ? null : f.string(json.persona, 'persona'),
    sae: json.sae === undefined ? null : folderUrl(f.string(json.sae, 'sae'), url),
    classifier: optionalUrl(json.classifier, 'classifier'),
    golden: optionalUrl(json.golden, 'golden'),
    neutralPrompts: Array.isArray(json.neutral_prompts) ? json.neutral_prompts.filter((p): p is string => typeof p === 'string') : [],
    sampling,
    variants,
    checkpoints,
  };
}

/**
 * variants.json of a model folder (absolute URL ending in `/`), or null when the folder has none (404 or an HTML
 * fallback page). Throws as `parseVariants` for a file that is there but wrong.
 */
export async function loadVariants(folder: string, fetcher?: typeof fetch): Promise<VariantsManifest | null> {
  const url = new URL('variants.json', folder).href;
  const json = await fetchLabJson(url, { optional: true, fetcher });
  return json ? parseVariants(json, url) : null;
}

/** The variant whose folder is `folder` (the chain names folders, the variants name ids and roles). */
export function variantAt(manifest: VariantsManifest, folder: string): Variant | undefined {
  return manifest.variants.find((v) => v.folder === folder);
}
