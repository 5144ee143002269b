// Random SAEs and writers that lay them out exactly as each publisher does (file names, key names, shapes), used
// by the unit tests and, through tests/harness/sae.ts, by the browser tests.
import { zipSync } from 'fflate';
import { SaeFormatError } from '../../../src/lib/sae/errors';
import type { SaeFolderReader } from '../../../src/lib/sae/remote';
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

/** One .npy file as numpy writes it (format 1.0: magic, version, u16 header length, dict header padded to 64). */
export function npyFile(data: Float32Array, shape: number[]): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Gemma Scope 1's params.npz (np.savez: a stored zip of W_enc.npy, W_dec.npy, b_enc.npy, b_dec.npy, threshold.npy). */
export function gemmaScopeNpz(sae: SaeWeights, compressed = false): Uint8Array {
  const { dIn, dSae } = sae.config;
  return zipSync(
    {
      'W_enc.npy': npyFile(sae.wEnc, [dIn, dSae]),
      'W_dec.npy': npyFile(sae.wDec, [dSae, dIn]),
      'b_enc.npy': npyFile(sae.bEnc, [dSae]),
      'b_dec.npy': npyFile(sae.bDec, [dIn]),
      'threshold.npy': npyFile(sae.threshold!, [dSae]),
    },
    { level: compressed ? 6 : 0 },
  );
}

/** Gemma Scope 2's params.safetensors (lower-case keys, as google/gemma-scope-2-* publish them). */
export function gemmaScope2Params(sae: SaeWeights): Uint8Array {
  const { dIn, dSae } = sae.config;
  return writeSafetensors({
    w_enc: { dtype: 'F32', shape: [dIn, dSae], data: sae.wEnc },
    w_dec: { dtype: 'F32', shape: [dSae, dIn], data: sae.wDec },
    b_enc: { dtype: 'F32', shape: [dSae], data: sae.bEnc },
    b_dec: { dtype: 'F32', shape: [dIn], data: sae.bDec },
    threshold: { dtype: 'F32', shape: [dSae], data: sae.threshold! },
  });
}

/** SAELens sae_weights.safetensors with the upper-case keys every SAELens version writes, plus any extra tensors. */
export function saeLensWeights(sae: SaeWeights, extra: Record<string, { shape: number[]; data: Float32Array }> = {}): Uint8Array {
  const { dIn, dSae } = sae.config;
  const tensors: Parameters<typeof writeSafetensors>[0] = {
    W_enc: { dtype: 'F32', shape: [dIn, dSae], data: sae.wEnc },
    W_dec: { dtype: 'F32', shape: [dSae, dIn], data: sae.wDec },
    b_enc: { dtype: 'F32', shape: [dSae], data: sae.bEnc },
    b_dec: { dtype: 'F32', shape: [dIn], data: sae.bDec },
  };
  if (sae.threshold) tensors.threshold = { dtype: 'F32', shape: [dSae], data: sae.threshold };
  for (const [name, t] of Object.entries(extra)) tensors[name] = { dtype: 'F32', ...t };
  return writeSafetensors(tensors);
}

/** An SAE folder held in memory (file name → bytes), read through the same reader interface as HTTP folders. */
export function memoryFolder(location: string, files: Record<string, Uint8Array | object>): SaeFolderReader {
  const bytes = (name: string) => {
    const f = files[name];
    if (f === undefined) return undefined;
    return f instanceof Uint8Array ? f : new TextEncoder().encode(JSON.stringify(f));
  };
  return {
    location,
    async optional(name) {
      return bytes(name);
    },
    async required(name, expected) {
      const b = bytes(name);
      if (!b) throw new SaeFormatError(`${location}${name} is not there: expected ${expected}.`);
      return b;
    },
  };
}
