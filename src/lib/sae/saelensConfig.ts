// Reads a SAELens cfg.json of any version the way SAELens itself does: configs written before SAELens 6.0 are
// migrated by the rules of handle_config_defaulting / handle_pre_6_0_config (jbloomAus/SAELens,
// sae_lens/loading/pretrained_sae_loaders.py, commit 91ca16c), so old uploads such as gpt2-small-res-jb read right.
import { SaeFormatError } from './errors';

/** SAELens's LLM_METADATA_KEYS: the keys a pre-6.0 config keeps at top level and 6.0 moves under `metadata`. */
const LLM_METADATA_KEYS = [
  'model_name',
  'hook_name',
  'model_class_name',
  'hook_head_index',
  'model_from_pretrained_kwargs',
  'prepend_bos',
  'exclude_special_tokens',
  'neuronpedia_id',
  'context_size',
  'seqpos_slice',
  'dataset_path',
  'sae_lens_version',
  'sae_lens_training_version',
  'hook_name_out',
  'hook_head_index_out',
];

/** A SAELens config in its 6.0 shape: the fields the playground reads. */
export interface SaeLensConfig {
  architecture: string;
  /** TopK's k (6.0 `k`, or pre-6.0 `activation_fn_kwargs.k`). */
  k?: number;
  applyBDecToInput: boolean;
  /** One of none | expected_average_only_in | constant_norm_rescale | layer_norm (booleans already mapped). */
  normalizeActivations: string;
  finetuningScalingFactor: boolean;
  rescaleActsByDecoderNorm: boolean;
  dIn?: number;
  dSae?: number;
  metadata: Record<string, unknown>;
  /** True when the pre-6.0 migration ran (no `sae_lens_version` >= 6 in the file). */
  migrated: boolean;
}

/** Major version of `sae_lens_version` ("6.0.0-rc.0" → 6), or undefined when absent or unreadable. */
function majorVersion(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = v.match(/^v?(\d+)\./);
  return m ? Number(m[1]) : undefined;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function optionalNumber(cfg: Record<string, unknown>, key: string): number | undefined {
  const v = cfg[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SaeFormatError(`cfg.json: "${key}" must be a number, found ${JSON.stringify(v)}.`);
  return v;
}

/**
 * SAELens handle_config_defaulting: a config whose `sae_lens_version` (top level or in `metadata`) is absent or
 * below 6.0.0-rc.0 goes through handle_pre_6_0_config: `hook_point` → `hook_name`, `hook_point_head_index` →
 * `hook_head_index`, `activation_fn_str` → `activation_fn`; defaults prepend_bos = true, apply_b_dec_to_input = true,
 * finetuning_scaling_factor = false, activation_fn = "relu", architecture = "standard"; `activation_fn: "topk"` with
 * `activation_fn_kwargs.k` becomes architecture "topk" with that k; boolean `normalize_activations` becomes
 * "expected_average_only_in" (true) or "none" (false), null becomes "none"; the LLM metadata keys are gathered from
 * the top level. One deliberate difference: a `metadata` object already in the file is kept under those keys
 * (SAELens would drop it), so a 6.0-style file that merely lacks its version still names its hook.
 */
export function readSaeLensConfig(raw: Record<string, unknown>): SaeLensConfig {
  const rawMetadata = asRecord(raw.metadata);
  const version = majorVersion(raw.sae_lens_version ?? rawMetadata.sae_lens_version);
  const migrated = version === undefined || version < 6;
  let cfg: Record<string, unknown> = raw;
  let metadata: Record<string, unknown> = rawMetadata;
  if (migrated) {
    const renames: Record<string, string> = { hook_point: 'hook_name', hook_point_head_index: 'hook_head_index', activation_fn_str: 'activation_fn' };
    cfg = Object.fromEntries(Object.entries(raw).map(([key, v]) => [renames[key] ?? key, v]));
    const setDefault = (key: string, v: unknown) => {
      if (!(key in cfg)) cfg[key] = v;
    };
    setDefault('prepend_bos', true);
    setDefault('apply_b_dec_to_input', true);
    setDefault('finetuning_scaling_factor', false);
    setDefault('activation_fn', 'relu');
    setDefault('architecture', 'standard');
    const kwargs = asRecord(cfg.activation_fn_kwargs);
    if (cfg.activation_fn === 'topk' && kwargs.k !== undefined && kwargs.k !== null) {
      cfg.architecture = 'topk';
      cfg.k = kwargs.k;
    }
    if (typeof cfg.normalize_activations === 'boolean') cfg.normalize_activations = cfg.normalize_activations ? 'expected_average_only_in' : 'none';
    if (cfg.normalize_activations === undefined || cfg.normalize_activations === null) cfg.normalize_activations = 'none';
    const fromTop = Object.fromEntries(LLM_METADATA_KEYS.filter((key) => key in cfg).map((key) => [key, cfg[key]]));
    // An explicit `metadata` object wins over the migrated top-level keys and their defaults.
    metadata = { ...fromTop, ...rawMetadata };
  }
  const architecture = typeof cfg.architecture === 'string' ? cfg.architecture : 'standard';
  // A pre-6.0 "standard" config with activation_fn "topk" but no k would load in SAELens as plain ReLU: refuse.
  if (migrated && cfg.activation_fn === 'topk' && architecture !== 'topk') {
    throw new SaeFormatError('SAELens SAE: activation_fn is "topk" but activation_fn_kwargs.k is missing: expected {"activation_fn_kwargs": {"k": <int>}}.');
  }
  if (migrated && typeof cfg.activation_fn === 'string' && !['relu', 'topk'].includes(cfg.activation_fn) && architecture === 'standard') {
    throw new SaeFormatError(`SAELens SAE: activation_fn "${cfg.activation_fn}" is not supported: expected "relu" or "topk".`);
  }
  const normalize = cfg.normalize_activations ?? 'none';
  return {
    architecture,
    k: optionalNumber(cfg, 'k'),
    // SAEConfig's default (6.0 and the pre-6.0 migration alike) is true.
    applyBDecToInput: cfg.apply_b_dec_to_input !== false,
    normalizeActivations: typeof normalize === 'string' ? normalize : JSON.stringify(normalize),
    finetuningScalingFactor: cfg.finetuning_scaling_factor === true,
    rescaleActsByDecoderNorm: cfg.rescale_acts_by_decoder_norm === true,
    dIn: optionalNumber(cfg, 'd_in'),
    dSae: optionalNumber(cfg, 'd_sae'),
    metadata,
    migrated,
  };
}

/** Keys only SAELens writes (any version): a cfg.json holding one is SAELens's, even beside `expansion_factor`. */
export const SAELENS_KEYS = [
  'd_sae',
  'hook_point',
  'hook_name',
  'hook_layer',
  'hook_point_layer',
  'architecture',
  'activation_fn',
  'activation_fn_str',
  'apply_b_dec_to_input',
  'metadata',
  'sae_lens_version',
  'normalize_activations',
];
