// Loaders for the SAE layouts people publish: SAELens (v6 and pre-6.0 cfg.json), Gemma Scope 1 (params.npz) and 2
// (config.json + params.safetensors), and EleutherAI sparsify (sae.safetensors). Each normalises to SaeWeights,
// validates shapes and finiteness, and refuses SAEs that do not read the residual stream.
import { SaeFormatError, SaeModelMismatchError, SaeNonFiniteError, UnknownArchitectureError, UnsupportedSaeKindError } from './errors';
import { describeSite, residualHookName, residualLayer, siteFromFolder, siteFromHookName, type SaeSite } from './hooks';
import { parseNpz } from './npz';
import { findRelease } from './releases';
import { readSaeLensConfig } from './saelensConfig';
import { parseSafetensors, tensorToFloat32, type RawTensor, type SafetensorsFile } from './safetensors';
import {
  SUPPORTED_ARCHITECTURES,
  SUPPORTED_NORMALIZATIONS,
  type ActivationNormalization,
  type SaeArchitecture,
  type SaeConfig,
  type SaeFormat,
  type SaeWeights,
} from './types';

export { layerFromHookName } from './hooks';

/** The weights file each format uses (Gemma Scope 1 uses params.npz instead: see GEMMA_SCOPE_NPZ). */
export const WEIGHT_FILES: Record<SaeFormat, string> = {
  saelens: 'sae_weights.safetensors',
  'gemma-scope': 'params.safetensors',
  sparsify: 'sae.safetensors',
};

/** Gemma Scope 1's weights file (google/gemma-scope-*: layer_{L}/width_{W}/average_l0_{N}/params.npz). */
export const GEMMA_SCOPE_NPZ = 'params.npz';

export interface SaeFiles {
  format: SaeFormat;
  /** Parsed cfg.json (SAELens, sparsify) or config.json (Gemma Scope 2); Gemma Scope 1 folders have none. */
  cfg?: Record<string, unknown>;
  weights: Uint8Array | ArrayBuffer;
  /** Name of the weights file when it is not the format's default (`params.npz` for Gemma Scope 1). */
  weightsFile?: string;
  /**
   * The folder's URL or path: names the layer and kind where the files do not (`layer_5/...`, `layers.5.mlp`, a
   * gemma-scope-*-mlp repository) and, for a hub URL, the release whose registry facts apply.
   */
  hookHint?: string;
  /** SAELens training checkpoints' activation_scaler.json ({"scaling_factor": number | null}), if the folder has it. */
  activationScaler?: Record<string, unknown>;
}

export function loadSae(files: SaeFiles): SaeWeights {
  const fileName = files.weightsFile ?? WEIGHT_FILES[files.format];
  const file = fileName.endsWith('.npz') ? parseNpz(files.weights, fileName) : parseSafetensors(files.weights, fileName);
  switch (files.format) {
    case 'saelens':
      return loadSaeLens(files.cfg ?? {}, file, files.hookHint, files.activationScaler);
    case 'gemma-scope':
      return loadGemmaScope(files.cfg ?? {}, file, files.hookHint);
    case 'sparsify':
      return loadSparsify(files.cfg ?? {}, file, files.hookHint);
  }
}

function parseArchitecture(name: string): SaeArchitecture {
  const lower = name.toLowerCase();
  if (lower === 'relu' || lower === 'standard') return 'standard';
  if (lower === 'jumprelu' || lower === 'jump_relu') return 'jumprelu';
  if (lower === 'topk') return 'topk';
  throw new UnknownArchitectureError(name, [...SUPPORTED_ARCHITECTURES, 'relu']);
}

function num(cfg: Record<string, unknown>, key: string): number | undefined {
  const v = cfg[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SaeFormatError(`cfg.json: "${key}" must be a number, found ${JSON.stringify(v)}.`);
  return v;
}

function requireTensor(file: SafetensorsFile, names: string[], shape: number[] | null, what: string): RawTensor {
  const t = names.map((n) => file.tensors.get(n)).find((x) => x !== undefined);
  if (!t) {
    throw new SaeFormatError(
      `${what}: expected tensor ${names.map((n) => `"${n}"`).join(' or ')}, found only ${[...file.tensors.keys()].map((n) => `"${n}"`).join(', ') || 'no tensors'}.`,
    );
  }
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new SaeFormatError(`${what}: tensor "${t.name}" should have shape [${shape}], found [${t.shape}].`);
  }
  return t;
}

function finite(name: string, data: Float32Array): Float32Array {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count > 0) throw new SaeNonFiniteError(name, first, count);
  return data;
}

function readFinite(t: RawTensor): Float32Array {
  return finite(t.name, tensorToFloat32(t));
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The scaling folds SAELens applies at load, in place on the weights, so that the GPU kernels and the TypeScript
 * reference (which both read SaeWeights) agree with SAELens without knowing about them:
 * - `expected_average_only_in` with a known factor s: SAE.fold_activation_norm_scaling_factor (sae_lens/saes/sae.py):
 *   W_enc *= s, W_dec /= s, b_dec /= s, then normalize_activations = "none".
 * - a per-latent `scaling_factor` tensor with `finetuning_scaling_factor` true: SAELens (5.x sae.py decode) computes
 *   (a * scaling_factor) @ W_dec + b_dec, the same as scaling row i of W_dec by scaling_factor[i], which also makes
 *   a steering coefficient c on latent i add c * scaling_factor[i] * W_dec[i].
 */
function foldNormScalingFactor(wEnc: Float32Array, wDec: Float32Array, bDec: Float32Array, s: number): void {
  for (let i = 0; i < wEnc.length; i++) wEnc[i] *= s;
  for (let i = 0; i < wDec.length; i++) wDec[i] /= s;
  for (let i = 0; i < bDec.length; i++) bDec[i] /= s;
}

function foldFinetuningScalingFactor(wDec: Float32Array, scale: Float32Array, dIn: number): void {
  for (let j = 0; j < scale.length; j++) for (let i = 0; i < dIn; i++) wDec[j * dIn + i] *= scale[j];
}

export function loadSaeLens(
  rawCfg: Record<string, unknown>,
  file: SafetensorsFile,
  hookHint?: string,
  activationScaler?: Record<string, unknown>,
): SaeWeights {
  const what = 'SAELens SAE';
  const cfg = readSaeLensConfig(rawCfg);
  const meta = cfg.metadata;
  const hookName = str(meta.hook_name);
  if (!hookName) throw new SaeFormatError(`${what}: cfg.json names no hook: expected metadata.hook_name (v6) or hook_name / hook_point (pre-6.0).`);
  const site: SaeSite = /transcoder|clt/i.test(cfg.architecture)
    ? { kind: 'transcoder', layer: -1, hookName }
    : siteFromHookName(hookName, str(meta.hook_name_out));
  const layer = residualLayer(site);
  const architecture = parseArchitecture(cfg.architecture);
  const k = architecture === 'topk' ? cfg.k : undefined;
  if (architecture === 'topk' && (k === undefined || !Number.isInteger(k) || k < 1)) {
    throw new SaeFormatError(`${what}: TopK SAE needs a positive integer "k" (or activation_fn_kwargs.k), found ${JSON.stringify(k)}.`);
  }
  if (cfg.rescaleActsByDecoderNorm) {
    throw new SaeFormatError(`${what}: rescale_acts_by_decoder_norm = true is not supported; expected false (fold the decoder norms into W_enc first).`);
  }
  let normalize = cfg.normalizeActivations;
  if (!(SUPPORTED_NORMALIZATIONS as readonly string[]).includes(normalize)) {
    throw new SaeFormatError(`${what}: normalize_activations "${normalize}" is not supported; expected one of ${SUPPORTED_NORMALIZATIONS.join(', ')}.`);
  }
  const wEncT = requireTensor(file, ['W_enc'], null, what);
  if (wEncT.shape.length !== 2) throw new SaeFormatError(`${what}: W_enc should be 2-D [d_in, d_sae], found [${wEncT.shape}].`);
  const dIn = cfg.dIn ?? wEncT.shape[0];
  const dSae = cfg.dSae ?? wEncT.shape[1];
  requireTensor(file, ['W_enc'], [dIn, dSae], `${what} (cfg d_in=${dIn}, d_sae=${dSae})`);
  const wEnc = readFinite(wEncT);
  const wDec = readFinite(requireTensor(file, ['W_dec'], [dSae, dIn], what));
  const bEnc = readFinite(requireTensor(file, ['b_enc'], [dSae], what));
  const bDec = readFinite(requireTensor(file, ['b_dec'], [dIn], what));
  let threshold: Float32Array | null = null;
  if (architecture === 'jumprelu') {
    const t = requireTensor(file, ['threshold', 'log_threshold'], [dSae], what);
    threshold = readFinite(t);
    if (t.name === 'log_threshold') threshold = threshold.map(Math.exp);
  }
  const warnings: string[] = [];
  const notes: string[] = [];
  const known = findRelease(hookHint);

  // SAELens read_sae_components_from_disk: an all-ones scaling_factor is dropped; any other needs
  // finetuning_scaling_factor = true ("Scaling factor is present but finetuning_scaling_factor is False").
  const scalingTensor = file.tensors.get('scaling_factor') ?? file.tensors.get('finetuning_scaling_factor');
  if (scalingTensor) {
    const scale = readFinite(requireTensor(file, [scalingTensor.name], [dSae], what));
    if (scale.some((v) => Math.abs(v - 1) > 1e-6)) {
      if (!cfg.finetuningScalingFactor) {
        throw new SaeFormatError(
          `${what}: sae_weights.safetensors holds a "${scalingTensor.name}" vector that is not all ones, but cfg.json has finetuning_scaling_factor = false: expected true (SAELens refuses this too).`,
        );
      }
      foldFinetuningScalingFactor(wDec, scale, dIn);
      notes.push('Latent activations are multiplied by the saved per-latent scaling_factor before W_dec (SAELens finetuning_scaling_factor).');
    }
  }
  // No tensor: SAELens sets finetuning_scaling_factor = false and decodes unscaled, whatever cfg.json said.

  if (normalize === 'expected_average_only_in') {
    const fromRelease = known?.release.normScalingFactor?.[known.folder];
    const fromScaler = typeof activationScaler?.scaling_factor === 'number' ? activationScaler.scaling_factor : undefined;
    const fromCfg = num(rawCfg, 'scaling_factor');
    const factor = fromRelease ?? fromScaler ?? fromCfg;
    if (factor !== undefined) {
      if (!(factor > 0)) throw new SaeFormatError(`${what}: norm scaling factor must be a positive number, found ${factor}.`);
      foldNormScalingFactor(wEnc, wDec, bDec, factor);
      normalize = 'none';
      notes.push(
        `Input norm scaling factor ${factor} folded into the weights (from ${fromRelease !== undefined ? known!.release.source : fromScaler !== undefined ? 'activation_scaler.json' : 'cfg.json scaling_factor'}).`,
      );
    } else {
      // SAELens warns ("norm_scaling_factor not found ... Skipping normalization folding") and runs unscaled.
      normalize = 'none';
      warnings.push(
        'Norm scaling factor not saved: cfg.json says normalize_activations = "expected_average_only_in" but neither the release registry nor an activation_scaler.json gives the factor, so activations are read unscaled (as SAELens does) and latent values may be off by a constant factor.',
      );
    }
  }

  // Centring: an explicit model_from_pretrained_kwargs.center_writing_weights in the file wins; otherwise the
  // release registry's config_overrides (SAELens applies them over cfg.json at load).
  const kwargs = (meta.model_from_pretrained_kwargs ?? rawCfg.model_from_pretrained_kwargs ?? {}) as Record<string, unknown>;
  let centerResidual = rawCfg.center_residual === true || rawCfg.mean_center_input === true;
  if (typeof kwargs.center_writing_weights === 'boolean') centerResidual ||= kwargs.center_writing_weights;
  else if (known?.release.centerWritingWeights) {
    centerResidual = true;
    notes.push(`Residuals are mean-centred (TransformerLens center_writing_weights), which ${known.release.source} states and the files omit.`);
  }

  const config: SaeConfig = {
    format: 'saelens',
    architecture,
    dIn,
    dSae,
    k: k ?? null,
    applyBDecToInput: cfg.applyBDecToInput,
    normalizeActivations: normalize as ActivationNormalization,
    inputScale: 1,
    centerResidual,
    hookName,
    layer,
    weightDtype: wEncT.dtype,
    prependBos: typeof meta.prepend_bos === 'boolean' ? meta.prepend_bos : undefined,
    neuronpediaId: str(meta.neuronpedia_id) ?? known?.release.neuronpedia?.[known.folder],
    warnings,
    notes,
  };
  return { config, wEnc, wDec, bEnc, bDec, threshold };
}

/**
 * Gemma Scope 1 (params.npz, no config; the kind is in the repository name) and Gemma Scope 2 (config.json with
 * `hf_hook_point_in`, optional `hf_hook_point_out`, `type`, `architecture: "jump_relu"`; params.safetensors). Keys
 * `w_enc`/`W_enc` [d_in, d_sae], `w_dec`/`W_dec`, `b_enc`, `b_dec`, `threshold` (SAELens gemma_2_sae_huggingface_loader
 * maps `w_` to `W_`; gemma_3_sae_huggingface_loader reads the lower-case keys). JumpReLU, apply_b_dec_to_input false,
 * prepend_bos true, as both SAELens loaders configure them.
 */
export function loadGemmaScope(cfg: Record<string, unknown>, file: SafetensorsFile, hookHint?: string): SaeWeights {
  const what = 'Gemma Scope SAE';
  const hookIn = str(cfg.hf_hook_point_in) ?? str(cfg.hook_name);
  let site: SaeSite = hookIn ? siteFromHookName(hookIn, str(cfg.hf_hook_point_out)) : siteFromFolder(hookHint ?? '', what);
  const type = str(cfg.type);
  if (type !== undefined && type !== 'sae') site = { ...site, kind: 'transcoder' };
  if (file.tensors.has('affine_skip_connection') || file.tensors.has('W_skip')) site = { ...site, kind: 'transcoder' };
  if (site.kind !== 'residual') {
    throw new UnsupportedSaeKindError(`${describeSite(site)}${type !== undefined ? `, config.json type "${type}"` : ''}`);
  }
  const layer = residualLayer(site);
  const architecture = parseArchitecture(str(cfg.architecture) ?? 'jump_relu');
  if (architecture !== 'jumprelu') throw new UnknownArchitectureError(str(cfg.architecture) ?? '', ['jump_relu']);
  const wEncT = requireTensor(file, ['w_enc', 'W_enc'], null, what);
  if (wEncT.shape.length !== 2) throw new SaeFormatError(`${what}: w_enc should be 2-D [d_in, d_sae], found [${wEncT.shape}].`);
  const [dIn, dSae] = wEncT.shape;
  const width = num(cfg, 'width');
  if (width !== undefined && width !== dSae) throw new SaeFormatError(`${what}: config.json width = ${width} but w_enc has ${dSae} columns.`);
  const config: SaeConfig = {
    format: 'gemma-scope',
    architecture: 'jumprelu',
    dIn,
    dSae,
    k: null,
    applyBDecToInput: false,
    normalizeActivations: 'none',
    inputScale: 1,
    centerResidual: false,
    hookName: hookIn && /^blocks\./.test(hookIn) ? hookIn : residualHookName(layer),
    layer,
    weightDtype: wEncT.dtype,
    prependBos: true,
    warnings: [],
    notes: [],
  };
  return {
    config,
    wEnc: readFinite(wEncT),
    wDec: readFinite(requireTensor(file, ['w_dec', 'W_dec'], [dSae, dIn], what)),
    bEnc: readFinite(requireTensor(file, ['b_enc'], [dSae], what)),
    bDec: readFinite(requireTensor(file, ['b_dec'], [dIn], what)),
    threshold: readFinite(requireTensor(file, ['threshold'], [dSae], what)),
  };
}

/**
 * EleutherAI sparsify: sae.safetensors (`encoder.weight` [M, d], `encoder.bias`, `W_dec` [M, d], `b_dec`), cfg.json
 * with `k` and `num_latents`; the hookpoint is the folder name. Transcoders (`transcode`, `skip_connection`/`W_skip`)
 * and non-residual hookpoints are refused.
 */
export function loadSparsify(cfg: Record<string, unknown>, file: SafetensorsFile, hookHint?: string): SaeWeights {
  const what = 'sparsify SAE';
  const named = str(cfg.hook_name) ?? str(cfg.hookpoint);
  let site = named ? siteFromHookName(named) : siteFromFolder(hookHint ?? '', what);
  if (cfg.transcode === true || cfg.skip_connection === true || file.tensors.has('W_skip')) site = { ...site, kind: 'transcoder' };
  const layer = residualLayer(site);
  const encT = requireTensor(file, ['encoder.weight'], null, what);
  if (encT.shape.length !== 2) throw new SaeFormatError(`${what}: encoder.weight should be 2-D [num_latents, d_in], found [${encT.shape}].`);
  const [dSae, dIn] = encT.shape;
  const numLatents = num(cfg, 'num_latents');
  if (numLatents !== undefined && numLatents !== 0 && numLatents !== dSae) {
    throw new SaeFormatError(`${what}: cfg num_latents = ${numLatents} but encoder.weight has ${dSae} rows.`);
  }
  const k = num(cfg, 'k');
  if (k === undefined || !Number.isInteger(k) || k < 1) throw new SaeFormatError(`${what}: cfg.json needs a positive integer "k", found ${JSON.stringify(cfg.k)}.`);
  const config: SaeConfig = {
    format: 'sparsify',
    architecture: 'topk',
    dIn,
    dSae,
    k,
    // sparsify encodes (x - b_dec) (sparsify/sparse_coder.py SparseCoder.encode).
    applyBDecToInput: true,
    normalizeActivations: 'none',
    inputScale: 1,
    centerResidual: false,
    hookName: named && /^blocks\./.test(named) ? named : residualHookName(layer),
    layer,
    weightDtype: encT.dtype,
    warnings: [],
    notes: [],
  };
  return {
    config,
    wEnc: transpose(readFinite(encT), dSae, dIn),
    wDec: readFinite(requireTensor(file, ['W_dec'], [dSae, dIn], what)),
    bEnc: readFinite(requireTensor(file, ['encoder.bias'], [dSae], what)),
    bDec: readFinite(requireTensor(file, ['b_dec'], [dIn], what)),
    threshold: null,
  };
}

/** Checks that an SAE reads a residual the model has, at the model's width. */
export function checkSaeFitsModel(config: SaeConfig, model: { nLayer: number; dModel: number }): void {
  if (config.dIn !== model.dModel) {
    throw new SaeModelMismatchError(
      `SAE d_in = ${config.dIn} does not match the model's hidden size ${model.dModel}: expected an SAE trained on this model's residual stream.`,
    );
  }
  if (config.layer < 0 || config.layer >= model.nLayer) {
    throw new SaeModelMismatchError(
      `SAE hook "${config.hookName}" reads the residual after block ${config.layer}, but the model has blocks 0..${model.nLayer - 1}` +
        (config.layer < 0 ? ' (the embedding output is not instrumented)' : '') +
        '.',
    );
  }
}
