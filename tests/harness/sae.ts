// Browser-side entry points for the SAE kernel tests and benchmarks: each builds its inputs, runs the GPU kernels
// and the TypeScript reference, and returns plain numbers for Playwright to assert on.
import { createPlaygroundEngine, type InThreadPlaygroundEngine } from '../../src/lib/engine/playground';
import type { GenerateRequest, PersonaPreset, PlaygroundEngine, PromptMode } from '../../src/lib/engine/api';
import { CopyKernel } from '../../src/lib/gpu/copy';
import { createStorageBuffer, readFloat32, requestGpuDevice, uploadBuffer } from '../../src/lib/gpu/device';
import { SaeGpu, TopKPass, topkSegments, type NonzeroLatents, type TopKScan } from '../../src/lib/gpu/sae';
import { fetchSae, readSaeFolder } from '../../src/lib/sae/remote';
import { f16BitsToFloat, floatToF16Bits, loadSae, saeReference, type SaeArchitecture, type SaeWeights } from '../../src/lib/sae';
import { gemmaScopeFiles, memoryFolder, randomArray, randomSae, rng, saeLensLegacyFiles, saeLensV6Files, saeLensWeights, sparsifyFiles } from '../unit/sae/fixtures';

let devicePromise: Promise<GPUDevice> | null = null;
const device = () => (devicePromise ??= requestGpuDevice('harness.sae.device'));

function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / (scale || 1);
}

function roundToF16(a: Float32Array): Float32Array {
  return a.map((v) => f16BitsToFloat(floatToF16Bits(v)));
}

export interface KernelCase {
  dIn: number;
  dSae: number;
  tokens: number;
  architecture: SaeArchitecture;
  /** TopK SAE's k. */
  saeK?: number;
  /** k of the reported per-token top-k. */
  topK: number;
  f16?: boolean;
  maxBindingBytes?: number;
  mode?: 'token' | 'prompt';
  seed?: number;
  normalize?: SaeWeights['config']['normalizeActivations'];
  center?: boolean;
  /** Gather the tokens from a padded [rows, positions, dIn] buffer (generation layout) instead of a packed one. */
  rows?: number;
  /** Forces the GEMV's split-K target (SwiftShader's default of 1 would leave the split path untested). */
  targetWorkgroups?: number;
}

/**
 * Decode's per-token non-zero latent lists read back and compared with `saeReference.nonzeroLatents` on `acts`:
 * the counts on both sides and the entries (a differing count, or an id) that disagree.
 */
async function compareNonzero(gpu: GPUDevice, buffers: NonzeroLatents | null, acts: Float32Array, tokens: number, dSae: number) {
  if (!buffers) throw new Error('No non-zero lists: the analysis did not decode.');
  const list = new Uint32Array((await readFloat32(gpu, buffers.list, tokens * dSae)).buffer);
  const counts = new Uint32Array((await readFloat32(gpu, buffers.counts, tokens)).buffer);
  const want = saeReference.nonzeroLatents(acts, tokens, dSae);
  let mismatches = 0;
  for (let t = 0; t < tokens; t++) {
    if (counts[t] !== want.counts[t]) mismatches++;
    for (let n = 0; n < Math.min(counts[t], want.counts[t]); n++) if (list[t * dSae + n] !== want.list[t * dSae + n]) mismatches++;
  }
  return { counts: Array.from(counts), wantCounts: Array.from(want.counts), mismatches };
}

export interface DecodeCase {
  dIn: number;
  dSae: number;
  /** One activation row per pattern: 'zero' (no latent on), 'dense' (every latent on), 'first' / 'last' (only
   * latent 0 / dSae − 1), 'sparse' (about one in `every`, random magnitudes and signs), 'negzero' (−0 everywhere
   * but one latent in the middle). */
  rows: ('zero' | 'dense' | 'first' | 'last' | 'sparse' | 'negzero')[];
  every?: number;
  maxBindingBytes?: number;
  seed?: number;
}

/**
 * Decode alone (nonzeroLatents.wgsl + decode.wgsl + the error) on activation rows built to the edge cases of the
 * compaction (empty, full, first/last latent, −0), against `saeReference.nonzeroLatents` (exact) and `decode`.
 */
async function decodeCase(c: DecodeCase) {
  const gpu = await device();
  gpu.pushErrorScope('validation');
  const sae = randomSae({ dIn: c.dIn, dSae: c.dSae, architecture: 'standard', seed: c.seed ?? 3 });
  const random = rng((c.seed ?? 3) + 50);
  const tokens = c.rows.length;
  const acts = new Float32Array(tokens * c.dSae);
  c.rows.forEach((kind, t) => {
    const row = acts.subarray(t * c.dSae, (t + 1) * c.dSae);
    if (kind === 'dense') for (let j = 0; j < c.dSae; j++) row[j] = random() * 4 - 2 || 0.5;
    if (kind === 'first') row[0] = 1.25;
    if (kind === 'last') row[c.dSae - 1] = -3.5;
    if (kind === 'sparse') for (let j = 0; j < c.dSae; j++) if (random() * (c.every ?? 7) < 1) row[j] = random() * 6 - 3 || 1;
    if (kind === 'negzero') {
      row.fill(-0);
      row[c.dSae >> 1] = 2;
    }
  });
  const saeGpu = new SaeGpu(gpu, sae, { maxBindingBytes: c.maxBindingBytes });
  const f = (name: string, bytes: number) => createStorageBuffer(gpu, `harness.decode.${name}`, bytes);
  const [listBytes, countBytes] = saeGpu.passes.decode.nonzeroBytes(tokens);
  const nonzero = { list: f('list', listBytes), counts: f('counts', countBytes) };
  const actsBuffer = uploadBuffer(gpu, 'harness.decode.acts', acts);
  const x = randomArray(tokens * c.dIn, random, 2);
  const xBuffer = uploadBuffer(gpu, 'harness.decode.x', x);
  const xHatBuffer = f('xHat', tokens * c.dIn * 4);
  const errorBuffer = f('error', tokens * 4);
  const encoder = gpu.createCommandEncoder({ label: 'harness.decode' });
  saeGpu.passes.decode.run(encoder, tokens, actsBuffer, nonzero, xHatBuffer, xBuffer, errorBuffer);
  gpu.queue.submit([encoder.finish()]);
  const xHat = await readFloat32(gpu, xHatBuffer, tokens * c.dIn);
  const error = await readFloat32(gpu, errorBuffer, tokens);
  const lists = await compareNonzero(gpu, nonzero, acts, tokens, c.dSae);
  const refXHat = saeReference.decode(sae, acts, tokens);
  const result = {
    decoderChunks: saeGpu.weights.decoderChunks.length,
    counts: lists.counts,
    wantCounts: lists.wantCounts,
    listMismatches: lists.mismatches,
    decodeRel: relError(xHat, refXHat),
    errorRel: relError(error, saeReference.reconstructionError(x, refXHat, tokens, c.dIn)),
    // A row with no latent on must decode to b_dec exactly.
    zeroRowsExact: c.rows.every((kind, t) => kind !== 'zero' || xHat.subarray(t * c.dIn, (t + 1) * c.dIn).every((v, i) => v === sae.bDec[i])),
  };
  for (const b of [actsBuffer, xBuffer, xHatBuffer, errorBuffer, nonzero.list, nonzero.counts]) b.destroy();
  saeGpu.destroy();
  const validation = await gpu.popErrorScope();
  if (validation) throw new Error(`GPU validation error: ${validation.message}`);
  return result;
}

/** Runs every SAE kernel on random data and returns its relative error against the TypeScript reference. */
async function kernelCase(c: KernelCase) {
  const gpu = await device();
  gpu.pushErrorScope('validation');
  const result = await kernelCaseInner(gpu, c);
  const error = await gpu.popErrorScope();
  if (error) throw new Error(`GPU validation error: ${error.message}`);
  return result;
}

async function kernelCaseInner(gpu: GPUDevice, c: KernelCase) {
  const sae = randomSae({ dIn: c.dIn, dSae: c.dSae, architecture: c.architecture, k: c.saeK, seed: c.seed ?? 7 });
  sae.config.normalizeActivations = c.normalize ?? 'none';
  sae.config.centerResidual = c.center ?? false;
  sae.config.inputScale = 0.75;
  if (c.f16) {
    sae.wEnc = roundToF16(sae.wEnc);
    sae.config.weightDtype = 'F16';
  }
  const random = rng((c.seed ?? 7) + 100);
  const x = randomArray(c.tokens * c.dIn, random, 3);
  // Generation layout: rows × positions, gather the last position of each row.
  const rows = c.rows ?? 1;
  const positions = rows > 1 ? 3 : c.tokens;
  const tokensPerRow = rows > 1 ? 1 : c.tokens;
  const padded = new Float32Array(5 + rows * positions * c.dIn);
  const offset = 5 + (rows > 1 ? (positions - 1) * c.dIn : 0);
  for (let t = 0; t < c.tokens; t++) padded.set(x.subarray(t * c.dIn, (t + 1) * c.dIn), rows > 1 ? offset + t * positions * c.dIn : offset + t * c.dIn);
  const residual = uploadBuffer(gpu, 'harness.residual', padded);
  const saeGpu = new SaeGpu(gpu, sae, { maxBindingBytes: c.maxBindingBytes, targetWorkgroups: c.targetWorkgroups });
  const source = { buffer: residual, offset, rowStride: positions * c.dIn, tokensPerRow, tokens: c.tokens };
  const t0 = performance.now();
  const analysis = await saeGpu.analyse(source, c.topK, { mode: c.mode });
  const ms = performance.now() - t0;
  const ws = saeGpu.buffers;
  const acts = await readFloat32(gpu, ws.acts, c.tokens * c.dSae);
  const xn = await readFloat32(gpu, ws.xn, c.tokens * c.dIn);
  const xHat = await readFloat32(gpu, ws.xHat, c.tokens * c.dIn);

  const refXn = saeReference.preprocess(sae.config, x, c.tokens);
  const refActs = saeReference.encode(sae, x, c.tokens);
  // Top-k and decode are checked on the GPU's own activations, so that a near-tie flipped by rounding in the
  // encode cannot masquerade as a top-k error.
  const refTop = saeReference.topK(acts, c.tokens, c.dSae, analysis.k);
  const refXHat = saeReference.decode(sae, acts, c.tokens);
  const refErr = saeReference.reconstructionError(xn, refXHat, c.tokens, c.dIn);
  let topIndexMismatches = 0;
  for (let i = 0; i < refTop.indices.length; i++) if (refTop.indices[i] !== analysis.indices[i]) topIndexMismatches++;
  // Steering composition: row 0 latents only, row 1 latents + a raw vector, written at an offset with a stride.
  const v = randomArray(c.dIn, random);
  const steerRows = [
    { latents: [{ latent: 0, coefficient: 2 }, { latent: c.dSae - 1, coefficient: -1.5 }], vectors: [] },
    { latents: [{ latent: Math.floor(c.dSae / 2), coefficient: 4 }], vectors: [{ vector: v, coefficient: 0.5 }] },
  ];
  const out = createStorageBuffer(gpu, 'harness.steerOut', (3 + 2 * (c.dIn + 2)) * 4);
  const encoder = gpu.createCommandEncoder({ label: 'harness.steer' });
  const cleanup = saeGpu.composeSteering(encoder, steerRows, { buffer: out, offset: 3, rowStride: c.dIn + 2 });
  gpu.queue.submit([encoder.finish()]);
  cleanup();
  const steerGot = await readFloat32(gpu, out, 3 + 2 * (c.dIn + 2));
  let steerErr = 0;
  steerRows.forEach((row, r) => {
    const want = saeReference.composeSteering(sae, row.latents, row.vectors);
    steerErr = Math.max(steerErr, relError(steerGot.subarray(3 + r * (c.dIn + 2), 3 + r * (c.dIn + 2) + c.dIn), want));
  });
  const result = {
    chunks: { encoder: saeGpu.weights.encoderChunks.length, decoder: saeGpu.weights.decoderChunks.length },
    k: analysis.k,
    ms,
    preprocessRel: relError(xn, refXn),
    encodeRel: relError(acts, refActs),
    topIndexMismatches,
    topValueRel: relError(analysis.values, refTop.values),
    decodeRel: relError(xHat, refXHat),
    nonzeroMismatches: (await compareNonzero(gpu, saeGpu.nonzeroBuffers, acts, c.tokens, c.dSae)).mismatches,
    errorRel: relError(analysis.reconstructionError, refErr),
    steerRel: steerErr,
    nonzeroPerToken: Array.from({ length: Math.min(c.tokens, 3) }, (_, t) => acts.subarray(t * c.dSae, (t + 1) * c.dSae).filter((a) => a !== 0).length),
  };
  saeGpu.destroy();
  residual.destroy();
  out.destroy();
  return result;
}

/** Each fixture format, same weights, same input: returns the dense activations' max difference to SAELens v6. */
async function formatsAgree(architecture: 'topk' | 'jumprelu') {
  const gpu = await device();
  const dIn = 19;
  const dSae = 70;
  const base = randomSae({ dIn, dSae, architecture, k: 6, applyBDecToInput: architecture === 'topk', seed: 3 });
  const variants =
    architecture === 'topk'
      ? { saelensV6: saeLensV6Files(base), saelensLegacy: saeLensLegacyFiles(base), sparsify: sparsifyFiles(base) }
      : { saelensV6: saeLensV6Files(base), gemmaScope: gemmaScopeFiles(base) };
  const x = randomArray(4 * dIn, rng(5), 2);
  const residual = uploadBuffer(gpu, 'harness.formats.residual', x);
  const outputs: Record<string, number[]> = {};
  for (const [name, files] of Object.entries(variants)) {
    const sae = loadSae(files);
    const saeGpu = new SaeGpu(gpu, sae);
    const encoder = gpu.createCommandEncoder();
    saeGpu.encode(encoder, { buffer: residual, offset: 0, rowStride: 0, tokensPerRow: 4, tokens: 4 });
    gpu.queue.submit([encoder.finish()]);
    outputs[name] = Array.from(await readFloat32(gpu, saeGpu.buffers.acts, 4 * dSae));
    saeGpu.destroy();
  }
  residual.destroy();
  const ref = outputs.saelensV6;
  const maxDiff: Record<string, number> = {};
  for (const [name, acts] of Object.entries(outputs)) maxDiff[name] = Math.max(...acts.map((a, i) => Math.abs(a - ref[i])));
  const nonzero = ref.filter((a) => a !== 0).length;
  return { maxDiff, nonzero, refRel: relError(ref, saeReference.encode(base, x, 4)) };
}

/**
 * SAELens scaling factors on the GPU kernels: a v6 folder with `normalize_activations: expected_average_only_in`
 * (factor 0.4 from activation_scaler.json) and a per-latent `scaling_factor` with `finetuning_scaling_factor`,
 * loaded through the folder reader; GPU encode, reconstruction and steering against SAELens's rule computed here
 * from the raw weights: a = relu((0.4·x − b_dec)·W_enc + b_enc), x̂ = ((a ⊙ s)·W_dec + b_dec) / 0.4, steering
 * c·s_j·W_dec[j] / 0.4.
 */
async function scalingFactorsCase() {
  const gpu = await device();
  const dIn = 23;
  const dSae = 77;
  const tokens = 5;
  const raw = randomSae({ dIn, dSae, architecture: 'standard', seed: 31 });
  const scale = randomArray(dSae, rng(32), 0.8).map((v) => 1.2 + v);
  const norm = 0.4;
  const cfg = {
    architecture: 'standard',
    d_in: dIn,
    d_sae: dSae,
    apply_b_dec_to_input: true,
    normalize_activations: 'expected_average_only_in',
    finetuning_scaling_factor: true,
    metadata: { hook_name: 'blocks.1.hook_resid_post', sae_lens_version: '6.3.0' },
  };
  const sae = await readSaeFolder(
    memoryFolder('sae/blocks.1.hook_resid_post/', {
      'cfg.json': cfg,
      'sae_weights.safetensors': saeLensWeights(raw, { scaling_factor: { shape: [dSae], data: scale } }),
      'activation_scaler.json': { scaling_factor: norm },
    }),
  );
  const x = randomArray(tokens * dIn, rng(33), 3);
  const want = new Float32Array(tokens * dSae);
  const wantXHat = new Float32Array(tokens * dIn);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < dSae; j++) {
      let pre = raw.bEnc[j];
      for (let i = 0; i < dIn; i++) pre += (norm * x[t * dIn + i] - raw.bDec[i]) * raw.wEnc[i * dSae + j];
      want[t * dSae + j] = Math.max(pre, 0);
    }
    for (let i = 0; i < dIn; i++) {
      let acc = raw.bDec[i];
      for (let j = 0; j < dSae; j++) acc += want[t * dSae + j] * scale[j] * raw.wDec[j * dIn + i];
      wantXHat[t * dIn + i] = acc / norm;
    }
  }
  const residual = uploadBuffer(gpu, 'harness.scaling.residual', x);
  const saeGpu = new SaeGpu(gpu, sae);
  await saeGpu.analyse({ buffer: residual, offset: 0, rowStride: 0, tokensPerRow: tokens, tokens }, 4);
  const acts = await readFloat32(gpu, saeGpu.buffers.acts, tokens * dSae);
  const xHat = await readFloat32(gpu, saeGpu.buffers.xHat, tokens * dIn);
  const out = createStorageBuffer(gpu, 'harness.scaling.steer', dIn * 4);
  const encoder = gpu.createCommandEncoder({ label: 'harness.scaling.steer' });
  const cleanup = saeGpu.composeSteering(encoder, [{ latents: [{ latent: 5, coefficient: 3 }], vectors: [] }], { buffer: out, offset: 0, rowStride: dIn });
  gpu.queue.submit([encoder.finish()]);
  cleanup();
  const steer = await readFloat32(gpu, out, dIn);
  const wantSteer = Float32Array.from({ length: dIn }, (_, i) => (3 * scale[5] * raw.wDec[5 * dIn + i]) / norm);
  saeGpu.destroy();
  residual.destroy();
  out.destroy();
  return {
    gpuEncodeRel: relError(acts, want),
    gpuDecodeRel: relError(xHat, wantXHat),
    gpuSteerRel: relError(steer, wantSteer),
    refEncodeRel: relError(saeReference.encode(sae, x, tokens), want),
    refDecodeRel: relError(saeReference.decode(sae, want, tokens), wantXHat),
    refSteerRel: relError(saeReference.composeSteering(sae, [{ latent: 5, coefficient: 3 }], []), wantSteer),
    nonzero: want.filter((v) => v !== 0).length,
    unscaledDecodeRel: relError(saeReference.decode(raw, want, tokens), wantXHat),
  };
}

/** The shipped SAE on real residual rows (from the recipe's golden file): GPU encode/top-k vs the reference. */
async function realSaeCase(saeUrl: string, rows: number[][], topK: number) {
  const gpu = await device();
  const sae = await fetchSae(saeUrl);
  const tokens = rows.length;
  const x = Float32Array.from(rows.flat());
  const residual = uploadBuffer(gpu, 'harness.real.residual', x);
  const out: Record<string, number> = {};
  for (const mode of ['token', 'prompt'] as const) {
    const saeGpu = new SaeGpu(gpu, sae);
    const analysis = await saeGpu.analyse({ buffer: residual, offset: 0, rowStride: 0, tokensPerRow: tokens, tokens }, topK, { mode });
    const acts = await readFloat32(gpu, saeGpu.buffers.acts, tokens * sae.config.dSae);
    const refTop = saeReference.topK(acts, tokens, sae.config.dSae, analysis.k);
    out[`${mode}EncodeRel`] = relError(acts, saeReference.encode(sae, x, tokens));
    out[`${mode}TopIndexMismatches`] = refTop.indices.reduce((n, j, i) => n + (j !== analysis.indices[i] ? 1 : 0), 0);
    out[`${mode}TopValueRel`] = relError(analysis.values, refTop.values);
    saeGpu.destroy();
  }
  residual.destroy();
  return { ...out, dIn: sae.config.dIn, dSae: sae.config.dSae, weightDtype: sae.config.weightDtype };
}

export interface TopKCase {
  rows: number;
  width: number;
  k: number;
  /** Draw each value from this many levels (tie-heavy rows); 0: continuous values. */
  levels: number;
  mask?: boolean;
  /** Workgroups the pass aims for: 1 gives one workgroup per row, more slices each row (see topkSegments). */
  targetWorkgroups: number;
  seed?: number;
  /** The bin selection to build; the device's default (subgroups where offered) when absent. */
  scan?: TopKScan;
  /** Invocations per workgroup; the pass's default (64 on SwiftShader) when absent. */
  workgroupSize?: number;
}

/**
 * The GPU top-k pass alone (one workgroup per row, or slices + merge) against the TypeScript reference on the same
 * rows: index mismatches, the largest value difference, and with `mask` the entries the in-place mask got wrong.
 */
async function topkCase(c: TopKCase) {
  const gpu = await device();
  gpu.pushErrorScope('validation');
  const random = rng(c.seed ?? 11);
  // Levels avoid −0 (it orders below +0 on the GPU's keys and equal to it in JavaScript; activations are never −0).
  const x = Float32Array.from({ length: c.rows * c.width }, () => (c.levels > 0 ? Math.floor(random() * c.levels) - Math.floor(c.levels / 3) : random() * 4 - 1) || 0);
  const values = uploadBuffer(gpu, 'harness.topk.values', x);
  const f = (name: string, n: number) => createStorageBuffer(gpu, `harness.topk.${name}`, n * 4);
  const indices = f('indices', c.rows * c.k);
  const topValues = f('topValues', c.rows * c.k);
  const scratch = f('scratch', c.rows * c.k);
  const pass = new TopKPass(gpu, { targetWorkgroups: c.targetWorkgroups, scan: c.scan, workgroupSize: c.workgroupSize });
  const scan = pass.scan;
  const encoder = gpu.createCommandEncoder({ label: 'harness.topk' });
  pass.run(encoder, { rows: c.rows, width: c.width, k: c.k, values, indices, topValues, scratch, mask: c.mask });
  gpu.queue.submit([encoder.finish()]);
  const gotIndices = new Int32Array((await readFloat32(gpu, indices, c.rows * c.k)).buffer);
  const gotValues = await readFloat32(gpu, topValues, c.rows * c.k);
  const masked = await readFloat32(gpu, values, c.rows * c.width);
  const error = await gpu.popErrorScope();
  pass.destroy();
  for (const b of [values, indices, topValues, scratch]) b.destroy();
  if (error) throw new Error(`GPU validation error: ${error.message}`);
  const ref = saeReference.topK(x, c.rows, c.width, c.k);
  let indexMismatches = 0;
  let valueDiff = 0;
  for (let i = 0; i < ref.indices.length; i++) {
    if (ref.indices[i] !== gotIndices[i]) indexMismatches++;
    valueDiff = Math.max(valueDiff, Math.abs(ref.values[i] - gotValues[i]));
  }
  let maskMismatches = 0;
  for (let r = 0; r < c.rows; r++) {
    const keep = new Set(ref.indices.subarray(r * c.k, (r + 1) * c.k));
    for (let j = 0; j < c.width; j++) {
      const want = c.mask && !keep.has(j) ? 0 : x[r * c.width + j];
      if (masked[r * c.width + j] !== want) maskMismatches++;
    }
  }
  // Ties at the k-th value: how many of the threshold's equals fell outside (so the index passes were exercised).
  let tiesOutside = 0;
  for (let r = 0; r < c.rows; r++) {
    const kth = ref.values[r * c.k + c.k - 1];
    const inside = ref.values.subarray(r * c.k, (r + 1) * c.k).filter((v) => v === kth).length;
    tiesOutside += x.subarray(r * c.width, (r + 1) * c.width).filter((v) => v === kth).length - inside;
  }
  return { ...topkSegments(c.rows, c.width, c.k, c.targetWorkgroups), scan, indexMismatches, valueDiff, maskMismatches, tiesOutside };
}

/**
 * What the harness device offers for the top-k's subgroup scan: the adapter's feature and subgroup sizes, whether
 * the device was created with the feature, and the scan a TopKPass builds by default on it.
 */
async function topkScanInfo() {
  const gpu = await device();
  const info = (gpu as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const adapter = await navigator.gpu.requestAdapter();
  const pass = new TopKPass(gpu);
  const scan = pass.scan;
  pass.destroy();
  return {
    architecture: info?.architecture ?? '',
    adapterHasSubgroups: adapter?.features.has('subgroups') ?? false,
    deviceHasSubgroups: gpu.features.has('subgroups'),
    subgroupMinSize: info?.subgroupMinSize ?? 0,
    subgroupMaxSize: info?.subgroupMaxSize ?? 0,
    scan,
  };
}

window.harness ??= {};
window.harness.sae = { decodeCase, kernelCase, formatsAgree, realSaeCase, scalingFactorsCase, topkCase, topkScanInfo };
export {};

// --- The in-thread PlaygroundEngine, driven scenario by scenario (typed arrays become plain arrays here). ---

let engine: PlaygroundEngine | null = null;

async function caught<T>(f: () => Promise<T>): Promise<T | { error: string; message: string }> {
  try {
    return await f();
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message };
  }
}

const playground = {
  async load(modelUrl: string, saeUrl: string, options: { onnxFile?: string; backend?: 'webgpu' | 'wasm' | 'auto'; layers?: number[] } = {}) {
    await engine?.dispose();
    engine = createPlaygroundEngine();
    const model = await engine.loadModel({ baseUrl: modelUrl, onnxFile: options.onnxFile }, { backend: options.backend ?? 'auto', layers: options.layers });
    const saeProgress: string[] = [];
    const sae = await engine.loadSae(saeUrl, (p) => saeProgress.push(p.message));
    const personas = (await engine.personas()).map((p) => ({ id: p.id, latents: p.latents, hasVector: !!p.vector, defaultUse: p.defaultUse }));
    return { model, sae, personas, saeProgress };
  },
  loadSae: (url: string) => caught(() => engine!.loadSae(url)),
  async analyse(prompt: string, topK: number, mode?: PromptMode) {
    const a = await engine!.analyse(prompt, topK, mode);
    return {
      ids: a.tokens.map((t) => t.id),
      texts: a.tokens.map((t) => t.text),
      special: a.tokens.map((t) => t.special === true),
      k: a.top.k,
      indices: Array.from(a.top.indices),
      values: Array.from(a.top.values),
      reconstructionError: Array.from(a.reconstructionError),
      monitor: Object.fromEntries(Object.entries(a.monitor).map(([k, v]) => [k, Array.from(v)])),
    };
  },
  async generate(request: Omit<GenerateRequest, 'steering'> & { steering: { positions: 'all' | 'generated'; terms: any[] } }) {
    const req = {
      ...request,
      steering: {
        ...request.steering,
        terms: request.steering.terms.map((t) => (t.kind === 'vector' ? { ...t, vector: Float32Array.from(t.vector) } : t)),
      },
    } as GenerateRequest;
    const events: { step: number; rows: { id: number; text: string; top?: number[]; values?: number[]; monitor: Record<string, number> }[] }[] = [];
    const result = await engine!.generate(req, (e) =>
      events.push({
        step: e.step,
        rows: e.rows.map((r) => ({ id: r.id, text: r.text, top: r.topIndices && Array.from(r.topIndices), values: r.topValues && Array.from(r.topValues), monitor: r.monitor })),
      }),
    );
    return { rows: result.rows.map((r) => ({ ids: r.tokens.map((t) => t.id), texts: r.tokens.map((t) => t.text), text: r.text, stopReason: r.stopReason })), events, tps: result.decodeTokensPerSecond };
  },
  definePersona: (p: Omit<PersonaPreset, 'vector'> & { vector?: number[] }) =>
    caught(async () => {
      await engine!.definePersona({ ...p, vector: p.vector ? Float32Array.from(p.vector) : undefined } as PersonaPreset);
      return { ok: true };
    }),
  dispose: async () => {
    await engine?.dispose();
    engine = null;
  },
  /**
   * Destroys every GPUDevice the engine created (as a driver reset would), then analyses again: the engine must
   * tell its listener (device-lost, then device-restored) and give the same reading on the new device.
   */
  async deviceLoss(modelUrl: string, saeUrl: string, prompt: string) {
    const devices: GPUDevice[] = [];
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
      const device = await requestDevice.call(this, descriptor);
      devices.push(device);
      return device;
    };
    try {
      await engine?.dispose();
      const local = createPlaygroundEngine() as InThreadPlaygroundEngine;
      engine = local;
      const notices: { kind: string; message: string }[] = [];
      local.onNotice((n) => notices.push(n));
      await local.loadModel({ baseUrl: modelUrl, onnxFile: 'onnx/model.onnx' }, { backend: 'webgpu' });
      await local.loadSae(saeUrl);
      const before = await local.analyse(prompt, 4);
      const created = devices.length;
      for (const d of devices) d.destroy();
      const end = performance.now() + 30_000;
      while (!notices.some((n) => n.kind !== 'device-lost') && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
      const after = await local.analyse(prompt, 4);
      return {
        created,
        notices,
        before: Array.from(before.top.indices),
        after: Array.from(after.top.indices),
        maxValueDiff: Math.max(...Array.from(before.top.values, (v, i) => Math.abs(v - after.top.values[i]))),
      };
    } finally {
      GPUAdapter.prototype.requestDevice = requestDevice;
    }
  },
};

(window.harness.sae as Record<string, unknown>).playground = playground;

/** Milliseconds per repetition of `record`, timed over `reps` repetitions in one submission (after a warm-up). */
async function timeGpu(gpu: GPUDevice, record: (encoder: GPUCommandEncoder) => void, reps: number): Promise<number> {
  const once = gpu.createCommandEncoder();
  record(once);
  gpu.queue.submit([once.finish()]);
  await gpu.queue.onSubmittedWorkDone();
  const encoder = gpu.createCommandEncoder({ label: 'bench' });
  for (let i = 0; i < reps; i++) record(encoder);
  const t0 = performance.now();
  gpu.queue.submit([encoder.finish()]);
  await gpu.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / reps;
}

/** Kernel timings for one SAE: one-token encode (all its passes) vs a copy kernel moving W_enc's bytes; 256-token encode. */
async function benchKernels(sae: SaeWeights, reps = 50, breakdown = false) {
  const gpu = await device();
  const { dIn, dSae } = sae.config;
  const saeGpu = new SaeGpu(gpu, sae);
  const weightBytes = saeGpu.weights.encoderChunks.reduce((a, c) => a + c.buffer.size, 0);
  const x = uploadBuffer(gpu, 'bench.residual', randomArray(256 * dIn, rng(1), 1));
  const tokenSource = { buffer: x, offset: 0, rowStride: 0, tokensPerRow: 1, tokens: 1 };
  const encodeTokenMs = await timeGpu(gpu, (e) => saeGpu.encode(e, tokenSource, 'token'), reps);
  const copySrc = createStorageBuffer(gpu, 'bench.copySrc', weightBytes);
  const copyDst = createStorageBuffer(gpu, 'bench.copyDst', weightBytes);
  const copy = new CopyKernel(gpu, copySrc, copyDst, weightBytes);
  const copyMs = await timeGpu(gpu, (e) => copy.run(e), reps);
  const promptSource = { buffer: x, offset: 0, rowStride: 0, tokensPerRow: 256, tokens: 256 };
  const encodePromptMs = await timeGpu(gpu, (e) => saeGpu.encode(e, promptSource, 'prompt'), Math.max(3, Math.floor(reps / 10)));
  const parts: Record<string, number> = {};
  if (breakdown) {
    const passes = saeGpu.passes;
    const ws = saeGpu.buffers;
    parts.prepare_token_ms = await timeGpu(gpu, (e) => passes.prepare.run(e, tokenSource, ws.raw, ws.xn), reps);
    parts.gemv_token_ms = await timeGpu(gpu, (e) => passes.encodeToken.run(e, 1, ws.xn, ws.partial, ws.acts), reps);
    parts.topk_mask_token_ms = await timeGpu(gpu, (e) => passes.topk.run(e, { rows: 1, width: dSae, k: sae.config.k ?? 8, values: ws.acts, indices: ws.indices, topValues: ws.values, scratch: ws.scratch, mask: true }), reps);
    parts.prepare_prompt_ms = await timeGpu(gpu, (e) => passes.prepare.run(e, promptSource, ws.raw, ws.xn), 3);
    parts.gemm_prompt_ms = await timeGpu(gpu, (e) => passes.encodePrompt.run(e, 256, ws.xn, ws.acts), 3);
    parts.gemv_prompt_ms = await timeGpu(gpu, (e) => passes.encodeToken.run(e, 256, ws.xn, ws.partial, ws.acts), 3);
    parts.topk_mask_prompt_ms = await timeGpu(gpu, (e) => passes.topk.run(e, { rows: 256, width: dSae, k: sae.config.k ?? 8, values: ws.acts, indices: ws.indices, topValues: ws.values, scratch: ws.scratch, mask: true }), 3);
  }
  const f16 = saeGpu.weights.f16;
  saeGpu.destroy();
  x.destroy();
  copySrc.destroy();
  copyDst.destroy();
  return {
    d_in: dIn,
    d_sae: dSae,
    sae_weight_dtype_on_gpu: f16 ? 'f16 (packed)' : 'f32',
    sae_encode_token_ms: encodeTokenMs,
    copy_bound_ms: copyMs,
    ratio_sae_encode_vs_copy: encodeTokenMs / copyMs,
    sae_encode_prompt_ms: encodePromptMs,
    sae_encode_prompt_gflops: (2 * 256 * dIn * dSae) / (encodePromptMs * 1e6),
    ...parts,
  };
}

/** benchKernels on a random SAE of the given size (the Voices SAE's shape by default). */
async function benchRandomKernels(o: { dIn?: number; dSae?: number; k?: number; f16?: boolean; reps?: number }) {
  const sae = randomSae({ dIn: o.dIn ?? 256, dSae: o.dSae ?? 2048, architecture: 'topk', k: o.k ?? 32 });
  if (o.f16 ?? true) sae.config.weightDtype = 'F16';
  return benchKernels(sae, o.reps, true);
}

/**
 * The top-k pass alone on one row (24,576 latents, k 32 by default: a decode step of a GPT-2-small-sized TopK SAE)
 * with each bin selection the device can build, in the pass's default launch shape (slices + merge on a GPU) and in
 * one workgroup (where the serial walk weighed most: 0.09 ms on an H200, issue 13). Values are continuous, so each
 * repetition sees the same row (no mask: masking in place would turn the next repetition's row into ties).
 */
async function benchTopK(o: { width?: number; k?: number; reps?: number } = {}) {
  const gpu = await device();
  const width = o.width ?? 24576;
  const k = o.k ?? 32;
  const reps = o.reps ?? 50;
  const values = uploadBuffer(gpu, 'bench.topk.values', randomArray(width, rng(3), 1));
  const f = (name: string) => createStorageBuffer(gpu, `bench.topk.${name}`, k * 4);
  const io = { rows: 1, width, k, values, indices: f('indices'), topValues: f('topValues'), scratch: f('scratch') };
  const scans: TopKScan[] = gpu.features.has('subgroups') ? ['serial', 'shared', 'subgroups'] : ['serial', 'shared'];
  const key = { serial: 'serial', shared: 'shared_scan', subgroups: 'subgroups' } as const;
  const out: Record<string, number> = { topk_width: width, topk_k: k };
  for (const scan of scans)
    for (const [shape, targetWorkgroups] of [['', undefined], ['_one_workgroup', 1]] as const) {
      const pass = new TopKPass(gpu, { scan, targetWorkgroups });
      out[`topk${shape}_ms_${key[scan]}`] = await timeGpu(gpu, (e) => pass.run(e, io), reps);
      pass.destroy();
    }
  for (const b of [values, io.indices, io.topValues, io.scratch]) b.destroy();
  return out;
}

/**
 * SAE kernel and engine figures for `npm run bench`: encode of one token vs a copy kernel moving W_enc's bytes,
 * a 256-token prompt encode, and decode speed with capture + per-token SAE top-k + one persona (steering and
 * monitor) against the same engine with interpretability off.
 */
async function benchSae(o: { modelUrl: string; saeUrl: string; onnxFile: string; newTokens: number; reps?: number }) {
  const kernels = await benchKernels(await fetchSae(o.saeUrl), o.reps);

  const pg = createPlaygroundEngine();
  await pg.loadModel({ baseUrl: o.modelUrl, onnxFile: o.onnxFile }, { backend: 'webgpu' });
  await pg.loadSae(o.saeUrl);
  const persona = (await pg.personas())[0];
  const sampling = { maxNewTokens: o.newTokens, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 0 };
  const prompt = 'The old man looked out over the water and said';
  const plainRequest: GenerateRequest = { prompt, sampling, steering: { positions: 'all', terms: [] }, withBaseline: false, monitor: [], topK: 0 };
  const interpRequest: GenerateRequest = {
    ...plainRequest,
    steering: { positions: 'all', terms: persona ? [{ kind: 'persona', personaId: persona.id, strength: persona.strength.recommended }] : [] },
    monitor: persona ? [persona.id] : [],
    topK: 8,
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const measure = async (request: GenerateRequest) => {
    await pg.generate({ ...request, sampling: { ...sampling, maxNewTokens: 4 } });
    const tps: number[] = [];
    for (let i = 0; i < 3; i++) tps.push((await pg.generate(request)).decodeTokensPerSecond);
    return median(tps);
  };
  const plainTps = await measure(plainRequest);
  const interpTps = await measure(interpRequest);
  await pg.dispose();
  return {
    ...kernels,
    decode_tps_playground_plain: plainTps,
    decode_tps_engine_interp: interpTps,
    persona: persona?.id ?? 'none',
  };
}

(window.harness.sae as Record<string, unknown>).benchSae = benchSae;
(window.harness.sae as Record<string, unknown>).benchRandomKernels = benchRandomKernels;
(window.harness.sae as Record<string, unknown>).benchTopK = benchTopK;

/**
 * A model folder at real size (models/recipe/gpt2_small.py) through the playground engine on one backend: load time,
 * peak JS heap and peak live GPU buffer bytes (every buffer created on any device in this page, ORT's included),
 * the tokenizer on a known string, one analysis, and a baseline + latent-steered generation with its decode speed.
 */
async function realSize(o: { modelUrl: string; saeUrl: string; backend: 'webgpu' | 'wasm'; newTokens: number; latent: number; coefficient: number }) {
  let live = 0;
  let peakGpu = 0;
  const sizes = new WeakMap<GPUBuffer, number>();
  const create = GPUDevice.prototype.createBuffer;
  const destroy = GPUBuffer.prototype.destroy;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor) {
    const b = create.call(this, d);
    sizes.set(b, d.size);
    live += d.size;
    peakGpu = Math.max(peakGpu, live);
    return b;
  };
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    live -= sizes.get(this) ?? 0;
    sizes.delete(this);
    return destroy.call(this);
  };
  const heap = () => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN;
  let peakHeap = heap();
  const timer = setInterval(() => (peakHeap = Math.max(peakHeap, heap())), 50);
  const pg = createPlaygroundEngine();
  try {
    const hook = new URL(o.saeUrl, location.href).pathname.replace(/\/$/, '').split('/').pop()!;
    const layer = Number(hook.match(/^blocks\.(\d+)\./)?.[1]);
    const t0 = performance.now();
    const model = await pg.loadModel({ baseUrl: o.modelUrl }, { backend: o.backend, layers: Number.isFinite(layer) ? [layer] : undefined });
    const sae = await pg.loadSae(o.saeUrl);
    const loadMs = performance.now() - t0;
    const helloIds = (await pg.analyse('Hello world', 1)).tokens.map((t) => t.id);
    const t1 = performance.now();
    const a = await pg.analyse('The quick brown fox jumps over the lazy dog', 8);
    const analyseMs = performance.now() - t1;
    const sampling = { maxNewTokens: o.newTokens, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 0 };
    const request: GenerateRequest = {
      prompt: 'The quick brown fox',
      sampling,
      steering: { positions: 'all', terms: [{ kind: 'latent', latent: o.latent, coefficient: o.coefficient, method: 'add' }] },
      withBaseline: true,
      monitor: [],
      topK: 4,
    };
    const g = await pg.generate(request);
    // What the page holds once loading is over and the work done: after a full collection, when the browser exposes
    // one (the bench runs Chromium with --js-flags=--expose-gc); NaN otherwise.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const settledHeap = gc ? heap() : NaN;
    return {
      device: model.device,
      sae,
      loadMs,
      analyseMs,
      peakHeapMb: peakHeap / 2 ** 20,
      settledHeapMb: settledHeap / 2 ** 20,
      peakGpuMb: peakGpu / 2 ** 20,
      helloIds,
      analysis: { k: a.top.k, tokens: a.tokens.length, indices: Array.from(a.top.indices), values: Array.from(a.top.values) },
      rows: g.rows.map((r) => r.tokens.map((t) => t.id)),
      decodeTps: g.decodeTokensPerSecond,
    };
  } finally {
    clearInterval(timer);
    await pg.dispose();
    GPUDevice.prototype.createBuffer = create;
    GPUBuffer.prototype.destroy = destroy;
  }
}

(window.harness.sae as Record<string, unknown>).realSize = realSize;
