// Random SAEs and writers that lay them out exactly as each publisher does (file names, key names, shapes), used
// by the unit tests and, through tests/harness/sae.ts, by the browser tests.
import { writeSafetensors, type SafetensorsDtype } from '../../../src/lib/sae/safetensors';
import type { SaeFiles } from '../../../src/lib/sae/formats';
import type { SaeArchitecture, SaeWeights } from '../../../src/lib/sae/types';

/** Deterministic PRNG (mulberry32) so fixtures are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, random: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}

export function randomSae(opts: { dIn: number; dSae: number; architecture: SaeArchitecture; k?: number; seed?: number; applyBDecToInput?: boolean }): SaeWeights {
  const r = rng(opts.seed ?? 1);
  const { dIn, dSae } = opts;
  return {
    config: {
      format: 'saelens',
      architecture: opts.architecture,
      dIn,
      dSae,
      k: opts.architecture === 'topk' ? (opts.k ?? 4) : null,
      applyBDecToInput: opts.applyBDecToInput ?? true,
      normalizeActivations: 'none',
      inputScale: 1,
      centerResidual: false,
      hookName: 'blocks.1.hook_resid_post',
      layer: 1,
      weightDtype: 'F32',
    },
    wEnc: randomArray(dIn * dSae, r, 1 / Math.sqrt(dIn)),
    wDec: randomArray(dSae * dIn, r, 1 / Math.sqrt(dSae)),
    bEnc: randomArray(dSae, r, 0.1),
    bDec: randomArray(dIn, r, 0.1),
    threshold: opts.architecture === 'jumprelu' ? randomArray(dSae, r, 0.1).map(Math.abs) : null,
  };
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** SAELens v6 folder: cfg.json + sae_weights.safetensors. */
export function saeLensV6Files(sae: SaeWeights, dtype: SafetensorsDtype = 'F32'): SaeFiles {
  const { dIn, dSae, architecture, k, applyBDecToInput, hookName } = sae.config;
  const tensors: Parameters<typeof writeSafetensors>[0] = {
    W_enc: { dtype, shape: [dIn, dSae], data: sae.wEnc },
    W_dec: { dtype, shape: [dSae, dIn], data: sae.wDec },
    b_enc: { dtype, shape: [dSae], data: sae.bEnc },
    b_dec: { dtype, shape: [dIn], data: sae.bDec },
  };
  if (sae.threshold) tensors.threshold = { dtype, shape: [dSae], data: sae.threshold };
  const cfg: Record<string, unknown> = {
    architecture,
    d_in: dIn,
    d_sae: dSae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: applyBDecToInput,
    normalize_activations: 'none',
    reshape_activations: 'none',
    metadata: { model_name: 'voices', hook_name: hookName, hook_head_index: null, prepend_bos: false, context_size: 256 },
  };
  if (architecture === 'topk') {
    cfg.k = k;
    cfg.rescale_acts_by_decoder_norm = false;
  }
  return { format: 'saelens', cfg, weights: writeSafetensors(tensors) };
}

/** SAELens pre-6.0 cfg keys (hook_name/hook_layer, activation_fn_str, activation_fn_kwargs). */
export function saeLensLegacyFiles(sae: SaeWeights): SaeFiles {
  const v6 = saeLensV6Files(sae);
  const { dIn, dSae, architecture, k, applyBDecToInput, hookName, layer } = sae.config;
  const cfg: Record<string, unknown> = {
    architecture: architecture === 'topk' ? 'standard' : architecture,
    d_in: dIn,
    d_sae: dSae,
    hook_name: hookName,
    hook_layer: layer,
    activation_fn_str: architecture === 'topk' ? 'topk' : 'relu',
    activation_fn_kwargs: architecture === 'topk' ? { k } : {},
    apply_b_dec_to_input: applyBDecToInput,
    normalize_activations: 'none',
    finetuning_scaling_factor: false,
  };
  return { ...v6, cfg };
}

/** Gemma Scope: params.safetensors with lower-case keys, JumpReLU, no b_dec subtraction, no cfg.json. */
export function gemmaScopeFiles(sae: SaeWeights): SaeFiles {
  const { dIn, dSae } = sae.config;
  return {
    format: 'gemma-scope',
    hookHint: `layer_${sae.config.layer}/width_${dSae}/average_l0_10`,
    weights: writeSafetensors({
      w_enc: { dtype: 'F32', shape: [dIn, dSae], data: sae.wEnc },
      w_dec: { dtype: 'F32', shape: [dSae, dIn], data: sae.wDec },
      b_enc: { dtype: 'F32', shape: [dSae], data: sae.bEnc },
      b_dec: { dtype: 'F32', shape: [dIn], data: sae.bDec },
      threshold: { dtype: 'F32', shape: [dSae], data: sae.threshold! },
    }),
  };
}

/** EleutherAI sparsify: sae.safetensors with encoder.weight [M, d] (transposed), cfg.json with k and num_latents. */
export function sparsifyFiles(sae: SaeWeights): SaeFiles {
  const { dIn, dSae, k } = sae.config;
  return {
    format: 'sparsify',
    hookHint: `layers.${sae.config.layer}`,
    cfg: { expansion_factor: dSae / dIn, normalize_decoder: true, num_latents: dSae, k, multi_topk: false, skip_connection: false, transcode: false, d_in: dIn },
    weights: writeSafetensors({
      'encoder.weight': { dtype: 'F32', shape: [dSae, dIn], data: transpose(sae.wEnc, dIn, dSae) },
      'encoder.bias': { dtype: 'F32', shape: [dSae], data: sae.bEnc },
      W_dec: { dtype: 'F32', shape: [dSae, dIn], data: sae.wDec },
      b_dec: { dtype: 'F32', shape: [dIn], data: sae.bDec },
    }),
  };
}
