// The SAE on the GPU: weights, every pass, and workspace buffers, wired into the two things the engine needs:
// `analyse` (residual rows → per-token top-k latents, reconstruction error and persona monitor readings, reading
// only those small results back) and `composeSteering` (steering directions written into the model's input buffer).
import type { SaeWeights } from '../../sae/types';
import { createStorageBuffer, uploadBuffer } from '../device';
import { GpuKernelError } from '../errors';
import {
  DecodePass,
  EncodePromptPass,
  EncodeTokenPass,
  MonitorPass,
  packSteeringRows,
  PrepareInputPass,
  SteerComposePass,
  TopKPass,
  type NonzeroLatents,
  type ResidualSource,
  type SteeringRow,
} from './passes';
import { SaeGpuWeights, type SaeGpuWeightsOptions } from './weights';

export interface SaeGpuOptions extends SaeGpuWeightsOptions {
  /** Prompts of at least this many tokens use the tiled matrix-matrix encode; fewer use the split-K GEMV. */
  promptThreshold?: number;
  /** Workgroups the one-token encode (split-K) and the top-k (slices of a row) aim for; default from the adapter (`defaultTargetWorkgroups`: 1 on a CPU rasteriser, else 2048). */
  targetWorkgroups?: number;
}

export interface MonitorSpec {
  id: string;
  latents: { latent: number; coefficient: number }[];
  /** When given, the reading is the projection of the raw residual on this vector normalised to unit length. */
  vector?: Float32Array;
}

export interface SaeGpuAnalysis {
  k: number;
  indices: Int32Array; // [tokens × k]
  values: Float32Array; // [tokens × k]
  reconstructionError: Float32Array; // [tokens]
  /** Per monitor id, one reading per token. */
  monitor: Record<string, Float32Array>;
}

type Workspace = Record<'raw' | 'xn' | 'partial' | 'acts' | 'xHat' | 'error' | 'indices' | 'values' | 'scratch' | 'monitor', GPUBuffer>;

export class SaeGpu {
  readonly weights: SaeGpuWeights;
  private prepare: PrepareInputPass;
  private encodeToken: EncodeTokenPass;
  private encodePrompt: EncodePromptPass;
  private topk: TopKPass;
  private decode: DecodePass;
  private steer: SteerComposePass;
  private monitorPass: MonitorPass;
  private workspace: Workspace | null = null;
  /** Decode's list of non-zero latents per token, made on the first analysis that asks for the reconstruction. */
  private nonzero: NonzeroLatents | null = null;
  private capacity = { tokens: 0, k: 0 };
  private monitors: { ids: string[]; buffers: { count: number; table: GPUBuffer; latents: GPUBuffer; coefs: GPUBuffer; vectors: GPUBuffer } } | null = null;
  private readonly promptThreshold: number;

  constructor(
    readonly device: GPUDevice,
    readonly sae: SaeWeights,
    options: SaeGpuOptions = {},
  ) {
    this.weights = new SaeGpuWeights(device, sae, options);
    this.prepare = new PrepareInputPass(device, sae.config);
    this.encodeToken = new EncodeTokenPass(device, this.weights, options.targetWorkgroups);
    this.encodePrompt = new EncodePromptPass(device, this.weights);
    this.topk = new TopKPass(device, { targetWorkgroups: options.targetWorkgroups });
    this.decode = new DecodePass(device, this.weights);
    this.steer = new SteerComposePass(device, this.weights);
    this.monitorPass = new MonitorPass(device, sae.config);
    this.promptThreshold = options.promptThreshold ?? 8;
  }

  private ensure(tokens: number, k: number): Workspace {
    if (this.workspace && tokens <= this.capacity.tokens && k <= this.capacity.k) return this.workspace;
    this.destroyWorkspace();
    tokens = Math.max(tokens, this.capacity.tokens);
    k = Math.max(k, this.capacity.k, this.sae.config.k ?? 0);
    const { dIn, dSae } = this.sae.config;
    const f = (name: string, floats: number) => createStorageBuffer(this.device, `SaeGpu.${name}`, floats * 4);
    this.workspace = {
      raw: f('raw', tokens * dIn),
      xn: f('xn', tokens * dIn),
      partial: f('partial', this.encodeToken.partialFloats(tokens)),
      acts: f('acts', tokens * dSae),
      xHat: f('xHat', tokens * dIn),
      error: f('error', tokens),
      indices: f('indices', tokens * k),
      values: f('values', tokens * k),
      scratch: f('scratch', tokens * k),
      monitor: f('monitor', tokens * 64),
    };
    this.capacity = { tokens, k };
    return this.workspace;
  }

  /** Decode's non-zero latent lists, sized for the workspace's token capacity. */
  private ensureNonzero(): NonzeroLatents {
    if (this.nonzero) return this.nonzero;
    const [list, counts] = this.decode.nonzeroBytes(this.capacity.tokens);
    this.nonzero = { list: createStorageBuffer(this.device, 'SaeGpu.nonzero.list', list), counts: createStorageBuffer(this.device, 'SaeGpu.nonzero.counts', counts) };
    return this.nonzero;
  }

  /** The individual passes, for benchmarks that time them one by one. */
  get passes() {
    return { prepare: this.prepare, encodeToken: this.encodeToken, encodePrompt: this.encodePrompt, topk: this.topk, decode: this.decode };
  }

  /** Workspace of the last run (dense activations `acts` [tokens, dSae] with TopK masked, `xHat`, `xn`, ...); for tests. */
  get buffers(): Readonly<Workspace> {
    if (!this.workspace) throw new GpuKernelError('SaeGpu.buffers read before any encode.');
    return this.workspace;
  }

  /** Decode's per-token lists of non-zero latents from the last analysis with a reconstruction (null before); for tests. */
  get nonzeroBuffers(): Readonly<NonzeroLatents> | null {
    return this.nonzero;
  }

  /** Records preprocessing + encode (+ the TopK mask) of `source` into `encoder`. */
  encode(encoder: GPUCommandEncoder, source: ResidualSource, mode: 'auto' | 'token' | 'prompt' = 'auto'): void {
    const ws = this.ensure(source.tokens, 1);
    const { dSae, architecture, k } = this.sae.config;
    this.prepare.run(encoder, source, ws.raw, ws.xn);
    const usePrompt = mode === 'prompt' || (mode === 'auto' && source.tokens >= this.promptThreshold);
    if (usePrompt) this.encodePrompt.run(encoder, source.tokens, ws.xn, ws.acts);
    else this.encodeToken.run(encoder, source.tokens, ws.xn, ws.partial, ws.acts);
    if (architecture === 'topk' && k! < dSae) {
      this.topk.run(encoder, { rows: source.tokens, width: dSae, k: k!, values: ws.acts, indices: ws.indices, topValues: ws.values, scratch: ws.scratch, mask: true, slot: 'mask' });
    }
  }

  /** Uploads the personas whose monitor readings `analyse` reports. */
  setMonitors(specs: MonitorSpec[]): void {
    this.destroyMonitors();
    if (specs.length === 0) return;
    const { dIn } = this.sae.config;
    const table = new ArrayBuffer(specs.length * 16);
    const view = new DataView(table);
    const latents: number[] = [];
    const coefs: number[] = [];
    const vectors: Float32Array[] = [];
    specs.forEach((s, q) => {
      view.setUint32(q * 16, latents.length, true);
      view.setUint32(q * 16 + 4, s.latents.length, true);
      if (s.vector) {
        const norm = Math.hypot(...s.vector) || 1;
        view.setInt32(q * 16 + 8, vectors.length, true);
        vectors.push(s.vector.map((v) => v / norm));
      } else view.setInt32(q * 16 + 8, -1, true);
      const sumAbs = s.latents.reduce((a, t) => a + Math.abs(t.coefficient), 0);
      view.setFloat32(q * 16 + 12, sumAbs > 0 ? 1 / sumAbs : 0, true);
      for (const t of s.latents) {
        latents.push(t.latent);
        coefs.push(t.coefficient);
      }
    });
    const vec = new Float32Array(Math.max(1, vectors.length) * dIn);
    vectors.forEach((v, i) => vec.set(v, i * dIn));
    this.monitors = {
      ids: specs.map((s) => s.id),
      buffers: {
        count: specs.length,
        table: uploadBuffer(this.device, 'SaeGpu.monitor.table', new Uint8Array(table)),
        latents: uploadBuffer(this.device, 'SaeGpu.monitor.latents', Uint32Array.from(latents.length ? latents : [0])),
        coefs: uploadBuffer(this.device, 'SaeGpu.monitor.coefs', Float32Array.from(coefs.length ? coefs : [0])),
        vectors: uploadBuffer(this.device, 'SaeGpu.monitor.vectors', vec),
      },
    };
  }

  /**
   * Encodes `source` and reads back only the per-token top-`topK` pairs, the reconstruction error and the monitor
   * readings. `extra` lets a caller record more work in the same submission (e.g. the next step's steering).
   */
  async analyse(source: ResidualSource, topK: number, options: { mode?: 'auto' | 'token' | 'prompt'; reconstruction?: boolean } = {}): Promise<SaeGpuAnalysis> {
    const { dSae, architecture, k: saeK } = this.sae.config;
    const k = Math.max(1, Math.min(topK, dSae));
    const tokens = source.tokens;
    // A TopK SAE's masking pass already leaves its k latents sorted: when that covers the request, reuse it.
    const reuseMask = architecture === 'topk' && saeK! < dSae && k <= saeK!;
    const stride = reuseMask ? saeK! : k;
    const ws = this.ensure(tokens, stride);
    const monitors = this.monitors;
    if (monitors && monitors.ids.length > 64) throw new GpuKernelError(`At most 64 monitored personas, found ${monitors.ids.length}.`);
    const encoder = this.device.createCommandEncoder({ label: 'SaeGpu.analyse' });
    this.encode(encoder, source, options.mode);
    const withError = options.reconstruction ?? true;
    if (withError) this.decode.run(encoder, tokens, ws.acts, this.ensureNonzero(), ws.xHat, ws.xn, ws.error);
    if (!reuseMask) this.topk.run(encoder, { rows: tokens, width: dSae, k, values: ws.acts, indices: ws.indices, topValues: ws.values, scratch: ws.scratch, slot: 'report' });
    if (monitors) this.monitorPass.run(encoder, tokens, monitors.buffers, ws.acts, ws.raw, ws.monitor);
    const P = monitors?.ids.length ?? 0;
    const sizes = [tokens * stride * 4, tokens * stride * 4, withError ? tokens * 4 : 0, tokens * P * 4];
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const total = offsets[3] + sizes[3];
    const staging = this.device.createBuffer({ label: 'SaeGpu.analyse.staging', size: Math.max(16, total), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(ws.indices, 0, staging, offsets[0], sizes[0]);
    encoder.copyBufferToBuffer(ws.values, 0, staging, offsets[1], sizes[1]);
    if (sizes[2]) encoder.copyBufferToBuffer(ws.error, 0, staging, offsets[2], sizes[2]);
    if (sizes[3]) encoder.copyBufferToBuffer(ws.monitor, 0, staging, offsets[3], sizes[3]);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    const monitorAll = new Float32Array(bytes, offsets[3], tokens * P);
    const monitor: Record<string, Float32Array> = {};
    monitors?.ids.forEach((id, q) => {
      const m = new Float32Array(tokens);
      for (let t = 0; t < tokens; t++) m[t] = monitorAll[t * P + q];
      monitor[id] = m;
    });
    const allIndices = new Int32Array(bytes, offsets[0], tokens * stride);
    const allValues = new Float32Array(bytes, offsets[1], tokens * stride);
    const indices = new Int32Array(tokens * k);
    const values = new Float32Array(tokens * k);
    for (let t = 0; t < tokens; t++) {
      indices.set(allIndices.subarray(t * stride, t * stride + k), t * k);
      values.set(allValues.subarray(t * stride, t * stride + k), t * k);
    }
    return {
      k,
      indices,
      values,
      reconstructionError: withError ? new Float32Array(bytes, offsets[2], tokens) : new Float32Array(tokens),
      monitor,
    };
  }

  /** Records the steering composition of `rows` into `out` (one direction of dIn floats per row). */
  composeSteering(encoder: GPUCommandEncoder, rows: SteeringRow[], out: { buffer: GPUBuffer; offset: number; rowStride: number }): () => void {
    const { dIn, dSae } = this.sae.config;
    for (const row of rows) {
      for (const t of row.latents) if (!(Number.isInteger(t.latent) && t.latent >= 0 && t.latent < dSae)) throw new GpuKernelError(`Steering latent ${t.latent} is outside 0..${dSae - 1}.`);
      for (const v of row.vectors) if (v.vector.length !== dIn) throw new GpuKernelError(`Steering vector has ${v.vector.length} values, expected ${dIn}.`);
    }
    const packed = packSteeringRows(rows, dIn);
    const buffers = {
      rowTerms: uploadBuffer(this.device, 'SaeGpu.steer.rowTerms', packed.rowTerms),
      latents: uploadBuffer(this.device, 'SaeGpu.steer.latents', packed.latents),
      latentCoefs: uploadBuffer(this.device, 'SaeGpu.steer.latentCoefs', packed.latentCoefs),
      vectors: uploadBuffer(this.device, 'SaeGpu.steer.vectors', packed.vectors),
      vectorCoefs: uploadBuffer(this.device, 'SaeGpu.steer.vectorCoefs', packed.vectorCoefs),
    };
    this.steer.run(encoder, rows.length, buffers, out);
    return () => Object.values(buffers).forEach((b) => b.destroy());
  }

  private destroyWorkspace(): void {
    if (this.workspace) for (const b of Object.values(this.workspace)) b.destroy();
    this.workspace = null;
    if (this.nonzero) for (const b of Object.values(this.nonzero)) b.destroy();
    this.nonzero = null;
  }

  private destroyMonitors(): void {
    if (this.monitors) for (const b of Object.values(this.monitors.buffers)) if (typeof b !== 'number') b.destroy();
    this.monitors = null;
  }

  destroy(): void {
    this.destroyWorkspace();
    this.destroyMonitors();
    this.topk.destroy();
    this.weights.destroy();
  }
}
