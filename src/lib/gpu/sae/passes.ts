// One small class per SAE pass: each owns its pipeline (compiled once, `override` constants fixed at creation)
// and records its dispatches into a caller's command encoder with `run(encoder, ...)`.
import type { SaeConfig } from '../../sae/types';
import { createStorageBuffer } from '../device';
import { GpuKernelError } from '../errors';
import { Kernel } from '../kernel';
import { u32s, UniformPool } from '../uniforms';
import decodeWgsl from './decode.wgsl?raw';
import encodeFinalizeWgsl from './encodeFinalize.wgsl?raw';
import encodePromptWgsl from './encodePrompt.wgsl?raw';
import encodeTokenWgsl from './encodeToken.wgsl?raw';
import monitorWgsl from './monitor.wgsl?raw';
import nonzeroLatentsWgsl from './nonzeroLatents.wgsl?raw';
import prepareInputWgsl from './prepareInput.wgsl?raw';
import reconstructionErrorWgsl from './reconstructionError.wgsl?raw';
import steerComposeWgsl from './steerCompose.wgsl?raw';
import topkWgsl from './topk.wgsl?raw';
import topkScanSerialWgsl from './topkScanSerial.wgsl?raw';
import topkScanSharedWgsl from './topkScanShared.wgsl?raw';
import topkScanSubgroupsWgsl from './topkScanSubgroups.wgsl?raw';
import type { SaeGpuWeights } from './weights';

const NORM_CODES = { none: 0, constant_norm_rescale: 1, layer_norm: 2, expected_average_only_in: 3 } as const;

/** Where residual rows come from: `tokens` rows gathered as `tokensPerRow` consecutive positions per batch row. */
export interface ResidualSource {
  buffer: GPUBuffer;
  /** Float offset of the first gathered position. */
  offset: number;
  /** Floats between batch rows. */
  rowStride: number;
  tokensPerRow: number;
  tokens: number;
}

export class PrepareInputPass {
  private kernel: Kernel;
  private uniforms: UniformPool;
  constructor(
    device: GPUDevice,
    private config: SaeConfig,
  ) {
    this.kernel = new Kernel(device, {
      label: 'SaePrepareInput',
      code: prepareInputWgsl,
      constants: { CENTER: config.centerResidual ? 1 : 0, NORM: NORM_CODES[config.normalizeActivations] },
    });
    this.uniforms = new UniformPool(device, 'SaePrepareInput');
  }

  run(encoder: GPUCommandEncoder, source: ResidualSource, raw: GPUBuffer, xn: GPUBuffer): void {
    const u = this.uniforms.get(
      'main',
      [source.tokens, this.config.dIn, source.offset, source.rowStride, source.tokensPerRow, this.config.inputScale],
      ['u32', 'u32', 'u32', 'u32', 'u32', 'f32'],
    );
    this.kernel.dispatch(encoder, this.kernel.bind('bind', [u, source.buffer, raw, xn]), source.tokens);
  }
}

const GEMV_WG = 64;

/** Split-K for the GEMV: about `targetWorkgroups` workgroups to fill the device, at least 32 inputs per split. */
export function encodeTokenSplits(groups: number, dIn: number, targetWorkgroups = 64): number {
  const wgX = Math.ceil(groups / GEMV_WG);
  return Math.max(1, Math.min(Math.ceil(targetWorkgroups / wgX), Math.ceil(dIn / 32)));
}

/**
 * Workgroups worth keeping busy at once, from the adapter the device came from. A CPU rasteriser (SwiftShader,
 * llvmpipe) runs a workgroup per core, so extra splits only add partial sums to reduce: 1. A hardware GPU: 2048.
 * WebGPU does not expose a multiprocessor count, so the figure is measured: on an H200 (132 SMs) the one-token encode
 * with a target of 64 launched 64–96 workgroups and ran 8.6× (Voices 256→2048) and 7.9× (768→24576 F16) the copy
 * bound; a target of 2048 brought it to 5.3× and 3.8× (issue 13). A smaller GPU only reduces a few more partial sums.
 */
export function defaultTargetWorkgroups(device: GPUDevice): number {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info?.architecture === 'swiftshader' || /swiftshader|llvmpipe|lavapipe/i.test(`${info?.vendor ?? ''} ${info?.description ?? ''}`) ? 1 : 2048;
}

export class EncodeTokenPass {
  private gemv: Kernel;
  private finalize: Kernel;
  private uniforms: UniformPool;
  private targetWorkgroups: number;
  constructor(
    device: GPUDevice,
    private weights: SaeGpuWeights,
    targetWorkgroups?: number,
  ) {
    this.targetWorkgroups = targetWorkgroups ?? defaultTargetWorkgroups(device);
    this.gemv = new Kernel(device, { label: 'SaeEncodeToken', code: encodeTokenWgsl, constants: { WG: GEMV_WG, F16: weights.f16 ? 1 : 0 } });
    this.finalize = new Kernel(device, {
      label: 'SaeEncodeFinalize',
      code: encodeFinalizeWgsl,
      constants: { ACT: weights.sae.config.architecture === 'jumprelu' ? 1 : 0 },
    });
    this.uniforms = new UniformPool(device, 'SaeEncodeToken');
  }

  partialFloats(tokens: number): number {
    const dIn = this.weights.sae.config.dIn;
    return Math.max(...this.weights.encoderChunks.map((c) => encodeTokenSplits(c.groups, dIn, this.targetWorkgroups) * tokens * c.colsPad));
  }

  run(encoder: GPUCommandEncoder, tokens: number, xn: GPUBuffer, partial: GPUBuffer, acts: GPUBuffer): void {
    const { dIn, dSae } = this.weights.sae.config;
    this.weights.encoderChunks.forEach((chunk, c) => {
      const splits = encodeTokenSplits(chunk.groups, dIn, this.targetWorkgroups);
      const kPerSplit = Math.ceil(dIn / splits);
      const u1 = this.uniforms.get(`gemv${c}`, [tokens, dIn, chunk.groups, chunk.colsPad, kPerSplit], u32s(5));
      this.gemv.dispatch(encoder, this.gemv.bind(`chunk${c}`, [u1, xn, chunk.buffer, partial]), Math.ceil(chunk.groups / GEMV_WG), splits, tokens);
      const u2 = this.uniforms.get(`finalize${c}`, [tokens, chunk.count, chunk.colsPad, splits, chunk.start, dSae], u32s(6));
      this.finalize.dispatch(
        encoder,
        this.finalize.bind(`chunk${c}`, [u2, partial, this.weights.encoderBias, this.weights.threshold, acts]),
        Math.ceil(chunk.count / 64),
        tokens,
      );
    });
  }
}

export class EncodePromptPass {
  private kernel: Kernel;
  private uniforms: UniformPool;
  constructor(
    device: GPUDevice,
    private weights: SaeGpuWeights,
  ) {
    this.kernel = new Kernel(device, {
      label: 'SaeEncodePrompt',
      code: encodePromptWgsl,
      constants: { F16: weights.f16 ? 1 : 0, ACT: weights.sae.config.architecture === 'jumprelu' ? 1 : 0 },
    });
    this.uniforms = new UniformPool(device, 'SaeEncodePrompt');
  }

  run(encoder: GPUCommandEncoder, tokens: number, xn: GPUBuffer, acts: GPUBuffer): void {
    const { dIn, dSae } = this.weights.sae.config;
    this.weights.encoderChunks.forEach((chunk, c) => {
      const u = this.uniforms.get(`chunk${c}`, [tokens, dIn, chunk.groups, chunk.count, chunk.start, dSae], u32s(6));
      this.kernel.dispatch(
        encoder,
        this.kernel.bind(`chunk${c}`, [u, xn, chunk.buffer, this.weights.encoderBias, this.weights.threshold, acts]),
        Math.ceil(chunk.groups / 16),
        Math.ceil(tokens / 64),
      );
    });
  }
}

/** Smallest slice one workgroup takes in the two-stage top-k: below it the merge reads more than the slices save. */
const TOPK_MIN_SEGMENT = 256;

/**
 * Workgroups per row for the top-k pass. One per row (`segments` 1) when the rows alone fill `targetWorkgroups` or a
 * row is short; otherwise slices of `segWidth` ≥ max(256, 4k) elements, about targetWorkgroups / rows of them per
 * row, so the merge (stage 2) reads at most a quarter of the row. Why: on an H200 one workgroup per row took
 * 0.09 ms for one token at 24,576 latents, longer than the encode GEMV itself (issue 13's measurement); a decode step
 * has one to a few rows, so a single workgroup per row leaves the GPU idle. `targetWorkgroups` 1 (a CPU rasteriser)
 * always gives one per row.
 */
export function topkSegments(rows: number, width: number, k: number, targetWorkgroups: number): { segWidth: number; segments: number } {
  const single = { segWidth: width, segments: 1 };
  const perRow = Math.floor(targetWorkgroups / Math.max(1, rows));
  if (perRow < 2) return single;
  const segWidth = Math.max(TOPK_MIN_SEGMENT, 4 * k, Math.ceil(width / perRow));
  const segments = Math.ceil(width / segWidth);
  return segments < 2 ? single : { segWidth, segments };
}

/**
 * How the top-k kernel finds, after each radix byte-pass, the bin where the count from the top reaches the number
 * still to choose: `subgroups` (subgroup scans, topkScanSubgroups.wgsl), `shared` (a scan in workgroup memory,
 * topkScanShared.wgsl), or `serial` (one invocation walks the bins, topkScanSerial.wgsl: the baseline benchmarks
 * compare against).
 */
export type TopKScan = 'subgroups' | 'shared' | 'serial';

const TOPK_SCAN_WGSL: Record<TopKScan, string> = { subgroups: topkScanSubgroupsWgsl, shared: topkScanSharedWgsl, serial: topkScanSerialWgsl };

/**
 * The scan a top-k pass uses on a device with `features`: `requested` if the device can run it, else subgroups where
 * the device has the feature and the workgroup-memory scan where it does not.
 */
export function topkScanFor(features: { has(name: string): boolean }, requested?: TopKScan): TopKScan {
  if (requested === 'subgroups' && !features.has('subgroups'))
    throw new GpuKernelError("Top-k scan 'subgroups' needs a device created with the 'subgroups' feature; this device lacks it (ask for 'shared' instead).");
  return requested ?? (features.has('subgroups') ? 'subgroups' : 'shared');
}

/** topk.wgsl's module: the scan part first (a `enable` directive must precede every declaration), then the kernel. */
export function topkModuleCode(scan: TopKScan): string {
  return `${TOPK_SCAN_WGSL[scan]}\n${topkWgsl}`;
}

/**
 * Top-k per row (topk.wgsl): one workgroup per row, or slices of a row in parallel and a merge of their candidates
 * (see `topkSegments`), with the same result either way. With `mask`, the entries outside each row's top k are zeroed
 * in place (by the one-workgroup kernel itself, or by its `maskOutsideTopK` entry point after a merge).
 */
export class TopKPass {
  private kernels = new Map<boolean, Kernel>();
  private maskKernel: Kernel | null = null;
  private uniforms: UniformPool;
  private workgroupSize: number;
  private targetWorkgroups: number;
  /** The bin selection this pass's kernels were built with (see `topkScanFor`). */
  readonly scan: TopKScan;
  private code: string;
  private candidates: { floats: number; indices: GPUBuffer; values: GPUBuffer; chosen: GPUBuffer } | null = null;
  /** Bound as `inIndices` where a dispatch does not read it (one-stage and stage 1). */
  private none: GPUBuffer;
  constructor(
    private device: GPUDevice,
    options: { workgroupSize?: number; targetWorkgroups?: number; scan?: TopKScan } = {},
  ) {
    this.scan = topkScanFor(device.features, options.scan);
    this.code = topkModuleCode(this.scan);
    this.uniforms = new UniformPool(device, 'SaeTopK');
    this.targetWorkgroups = options.targetWorkgroups ?? defaultTargetWorkgroups(device);
    // On a CPU rasteriser every invocation pays for every barrier: fewer, busier threads win there.
    this.workgroupSize = options.workgroupSize ?? (defaultTargetWorkgroups(device) === 1 ? 64 : 256);
    this.none = createStorageBuffer(device, 'SaeTopK.none', 16);
  }

  private kernel(mask: boolean): Kernel {
    let k = this.kernels.get(mask);
    if (!k) {
      k = new Kernel(this.device, {
        label: `SaeTopK.${this.scan}${mask ? '.mask' : ''}`,
        code: this.code,
        constants: { MASK: mask ? 1 : 0, WG: this.workgroupSize },
      });
      this.kernels.set(mask, k);
    }
    return k;
  }

  private ensureCandidates(floats: number) {
    if (this.candidates && this.candidates.floats >= floats) return this.candidates;
    this.destroyCandidates();
    const f = (name: string) => createStorageBuffer(this.device, `SaeTopK.${name}`, floats * 4);
    this.candidates = { floats, indices: f('candidateIndices'), values: f('candidateValues'), chosen: f('candidateChosen') };
    return this.candidates;
  }

  /**
   * Top `k` of each of `rows` rows of `values` [rows, width] → indices/values [rows, k], sorted (larger value first,
   * then lower index); `scratch` holds rows·k u32. Requires 1 ≤ k ≤ width.
   */
  run(
    encoder: GPUCommandEncoder,
    io: { rows: number; width: number; k: number; values: GPUBuffer; indices: GPUBuffer; topValues: GPUBuffer; scratch: GPUBuffer; mask?: boolean; slot?: string },
  ): void {
    const { rows, width, k } = io;
    const slot = io.slot ?? 'main';
    const { segWidth, segments } = topkSegments(rows, width, k, this.targetWorkgroups);
    if (segments === 1) {
      const kernel = this.kernel(io.mask ?? false);
      const u = this.uniforms.get(slot, [rows, width, k, width, 1, 0], u32s(6));
      kernel.dispatch(encoder, kernel.bind('bind', [u, io.values, io.indices, io.topValues, io.scratch, this.none]), rows);
      return;
    }
    const c = this.ensureCandidates(rows * segments * k);
    const kernel = this.kernel(false);
    const u1 = this.uniforms.get(`${slot}.slices`, [rows, width, k, segWidth, segments, 0], u32s(6));
    kernel.dispatch(encoder, kernel.bind('slices', [u1, io.values, c.indices, c.values, c.chosen, this.none]), rows * segments);
    const candidates = segments * k;
    const u2 = this.uniforms.get(`${slot}.merge`, [rows, candidates, k, candidates, 1, 1], u32s(6));
    kernel.dispatch(encoder, kernel.bind('merge', [u2, c.values, io.indices, io.topValues, io.scratch, c.indices]), rows);
    if (io.mask) {
      this.maskKernel ??= new Kernel(this.device, { label: 'SaeTopKMask', code: this.code, entryPoint: 'maskOutsideTopK', constants: { WG: 256 } });
      const u3 = this.uniforms.get(`${slot}.mask`, [rows, width, k, width, 1, 0], u32s(6));
      this.maskKernel.dispatch(encoder, this.maskKernel.bind('bind', [u3, io.values, io.indices, io.topValues]), Math.ceil(width / 256), rows);
    }
  }

  private destroyCandidates(): void {
    if (this.candidates) for (const b of [this.candidates.indices, this.candidates.values, this.candidates.chosen]) b.destroy();
    this.candidates = null;
  }

  destroy(): void {
    this.destroyCandidates();
    this.none.destroy();
    this.uniforms.destroy();
  }
}

/** Where `DecodePass` keeps each token's non-zero latent ids: `list` [tokens × dSae] u32, `counts` [tokens] u32. */
export interface NonzeroLatents {
  list: GPUBuffer;
  counts: GPUBuffer;
}

/**
 * Reconstruction x̂ = a·W_dec + b_dec (and the relative error) from dense activations [tokens, dSae]. First the
 * non-zero latents of each token are listed in ascending order (nonzeroLatents.wgsl, one workgroup per token), then
 * each output element sums over that list only (decode.wgsl, one dispatch per W_dec chunk): work per element is the
 * token's L0 rather than d_sae (before this, every invocation read all d_sae activations of its token).
 */
export class DecodePass {
  private nonzero: Kernel;
  private decode: Kernel;
  private error: Kernel;
  private uniforms: UniformPool;
  constructor(
    device: GPUDevice,
    private weights: SaeGpuWeights,
  ) {
    this.nonzero = new Kernel(device, { label: 'SaeNonzeroLatents', code: nonzeroLatentsWgsl });
    this.decode = new Kernel(device, { label: 'SaeDecode', code: decodeWgsl });
    this.error = new Kernel(device, { label: 'SaeReconstructionError', code: reconstructionErrorWgsl });
    this.uniforms = new UniformPool(device, 'SaeDecode');
  }

  /** Bytes of the `NonzeroLatents` buffers for `tokens` rows: [list, counts]. */
  nonzeroBytes(tokens: number): [number, number] {
    return [tokens * this.weights.sae.config.dSae * 4, tokens * 4];
  }

  /** x̂ from dense activations `acts` [tokens, dSae]; then, when `error` is given, |x − x̂| / |x| per token. */
  run(encoder: GPUCommandEncoder, tokens: number, acts: GPUBuffer, nonzero: NonzeroLatents, xHat: GPUBuffer, x?: GPUBuffer, error?: GPUBuffer): void {
    const { dIn, dSae } = this.weights.sae.config;
    const u0 = this.uniforms.get('nonzero', [tokens, dSae], u32s(2));
    this.nonzero.dispatch(encoder, this.nonzero.bind('bind', [u0, acts, nonzero.list, nonzero.counts]), tokens);
    this.weights.decoderChunks.forEach((chunk, c) => {
      const u = this.uniforms.get(`chunk${c}`, [tokens, dIn, dSae, chunk.start, chunk.count, c > 0 ? 1 : 0], u32s(6));
      this.decode.dispatch(
        encoder,
        this.decode.bind(`chunk${c}`, [u, acts, nonzero.list, nonzero.counts, chunk.buffer, this.weights.decoderBias, xHat]),
        Math.ceil(dIn / 64),
        tokens,
      );
    });
    if (x && error) {
      const u = this.uniforms.get('error', [tokens, dIn], u32s(2));
      this.error.dispatch(encoder, this.error.bind('bind', [u, x, xHat, error]), tokens);
    }
  }
}

/** Steering terms per batch row, already flattened for the GPU (see `packSteeringRows`). */
export interface PackedSteering {
  rows: number;
  rowTerms: Uint32Array; // [rows × 4]
  latents: Uint32Array;
  latentCoefs: Float32Array;
  vectors: Float32Array; // [nVectors × dIn]
  vectorCoefs: Float32Array;
}

export interface SteeringRow {
  latents: { latent: number; coefficient: number }[];
  vectors: { vector: Float32Array; coefficient: number }[];
}

export function packSteeringRows(rows: SteeringRow[], dIn: number): PackedSteering {
  const rowTerms = new Uint32Array(rows.length * 4);
  const latents: number[] = [];
  const latentCoefs: number[] = [];
  const vectorCoefs: number[] = [];
  const vectorList: Float32Array[] = [];
  rows.forEach((row, r) => {
    rowTerms.set([latents.length, row.latents.length, vectorList.length, row.vectors.length], r * 4);
    for (const t of row.latents) {
      latents.push(t.latent);
      latentCoefs.push(t.coefficient);
    }
    for (const v of row.vectors) {
      vectorList.push(v.vector);
      vectorCoefs.push(v.coefficient);
    }
  });
  const vectors = new Float32Array(Math.max(1, vectorList.length) * dIn);
  vectorList.forEach((v, i) => vectors.set(v, i * dIn));
  return {
    rows: rows.length,
    rowTerms,
    latents: Uint32Array.from(latents.length ? latents : [0]),
    latentCoefs: Float32Array.from(latentCoefs.length ? latentCoefs : [0]),
    vectors,
    vectorCoefs: Float32Array.from(vectorCoefs.length ? vectorCoefs : [0]),
  };
}

export class SteerComposePass {
  private kernel: Kernel;
  private uniforms: UniformPool;
  constructor(
    device: GPUDevice,
    private weights: SaeGpuWeights,
  ) {
    this.kernel = new Kernel(device, { label: 'SaeSteerCompose', code: steerComposeWgsl });
    this.uniforms = new UniformPool(device, 'SaeSteerCompose');
  }

  /** Writes each row's direction into `out` at `offset + row·rowStride` (floats). `terms` are GPU copies of a PackedSteering. */
  run(
    encoder: GPUCommandEncoder,
    rows: number,
    terms: { rowTerms: GPUBuffer; latents: GPUBuffer; latentCoefs: GPUBuffer; vectors: GPUBuffer; vectorCoefs: GPUBuffer },
    out: { buffer: GPUBuffer; offset: number; rowStride: number },
  ): void {
    const { dIn } = this.weights.sae.config;
    this.weights.decoderChunks.forEach((chunk, c) => {
      const u = this.uniforms.get(`chunk${c}`, [rows, dIn, out.offset, out.rowStride, chunk.start, chunk.count, c > 0 ? 1 : 0], u32s(7));
      this.kernel.dispatch(
        encoder,
        this.kernel.bind(`chunk${c}`, [u, terms.rowTerms, terms.latents, terms.latentCoefs, terms.vectors, terms.vectorCoefs, chunk.buffer, out.buffer]),
        Math.ceil(dIn / 64),
        rows,
      );
    });
  }
}

export class MonitorPass {
  private kernel: Kernel;
  private uniforms: UniformPool;
  constructor(
    device: GPUDevice,
    private config: SaeConfig,
  ) {
    this.kernel = new Kernel(device, { label: 'SaeMonitor', code: monitorWgsl });
    this.uniforms = new UniformPool(device, 'SaeMonitor');
  }

  run(
    encoder: GPUCommandEncoder,
    tokens: number,
    personas: { count: number; table: GPUBuffer; latents: GPUBuffer; coefs: GPUBuffer; vectors: GPUBuffer },
    acts: GPUBuffer,
    raw: GPUBuffer,
    out: GPUBuffer,
  ): void {
    const u = this.uniforms.get('main', [tokens, personas.count, this.config.dIn, this.config.dSae], u32s(4));
    this.kernel.dispatch(
      encoder,
      this.kernel.bind('bind', [u, personas.table, personas.latents, personas.coefs, personas.vectors, acts, raw, out]),
      Math.ceil(personas.count / 64),
      tokens,
    );
  }
}
