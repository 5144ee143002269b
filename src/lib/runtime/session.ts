// One forward step of an instrumented decoder: builds the feeds (ids, mask, positions, KV cache, steering and
// clamp inputs), runs, and keeps the KV cache where ORT left it (GPU buffers on WebGPU) for the next step.
import type { GraphIO } from '../graph';
import { captureName, clampNames, steerName } from '../graph';
import type { InferenceSession, OrtApi, Tensor } from './ort-types';
import { readRows } from '../gpu/readback';
import { halfsToFloats, type DecoderLayout, type FeedType } from './layout';

/**
 * What is added to one layer's residual. `data` is [rows, 1, hidden] (one vector per row, every position) or
 * [rows, positions, hidden] (per position; the count follows from the length). A GPU buffer on ORT's device holds
 * the same layout and is read when the step runs, so a kernel can write it without a CPU round trip.
 */
export type SteerSource = { data: Float32Array } | { gpuBuffer: GPUBuffer; positions?: number };

/** In-graph latent clamp for one layer, `slots` latents (see `InstrumentOptions.clampSlots`). */
export interface ClampSource {
  enc: Float32Array; // [slots, hidden]
  bias: Float32Array; // [slots]
  threshold: Float32Array; // [slots]
  dec: Float32Array; // [slots, hidden]
  /** [rows, slots] (every position), or [rows, positions, slots] (per position; the count follows from the length). */
  target: Float32Array;
  /** Same layout as `target`: 1 where the slot clamps that row (and position), else 0. */
  mask: Float32Array;
}

export interface StepInput {
  /** Token ids [rows][positions]; every row has the same length. */
  ids: number[][];
  steer?: Map<number, SteerSource>;
  clamp?: Map<number, ClampSource>;
  /** Layers whose residual to return (must be instrumented). */
  capture?: number[];
}

/**
 * A step's logits left on the GPU (`StepOptions.logitsOnGpu`): ORT's output buffer, [rows, positions, vocab] of
 * `type`, with the element offset of row 0's last position and the elements between rows. Valid until `dispose()`,
 * which hands the buffer back to ORT; call it once the commands reading it are submitted.
 */
export interface GpuLogits {
  buffer: GPUBuffer;
  type: 'float32' | 'float16';
  offset: number;
  rowStride: number;
  dispose(): void;
}

export interface StepOptions {
  /**
   * Leave the logits in ORT's GPU buffer (`StepOutput.gpuLogits`) instead of reading them back. Honoured only when
   * the session keeps its outputs on the GPU (`onGpu`); otherwise the logits are read back as usual.
   */
  logitsOnGpu?: boolean;
}

export interface StepOutput {
  /** Logits at the last position of each row, [rows * vocab]. */
  lastLogits: Float32Array;
  /** Captured residual per layer: [rows, positions, hidden], on the GPU when the session is on WebGPU. */
  captures: Map<number, Tensor>;
}

/** A step run with `StepOptions`: exactly one of `lastLogits` (read back) and `gpuLogits` (left on the GPU) is set. */
export interface StepOutputWithOptions extends Omit<StepOutput, 'lastLogits'> {
  lastLogits?: Float32Array;
  /** The logits where ORT left them, when asked for with `logitsOnGpu` and the session is on WebGPU. */
  gpuLogits?: GpuLogits;
}

export interface DecoderShape {
  hidden: number;
  vocab: number;
  nLayer: number;
  kvHeads: number;
  headDim: number;
  instrumented: number[];
  clampSlots: number;
}


export class DecoderSession {
  private past = new Map<string, Tensor>();
  private pastLength = 0;
  private readonly pastNames: string[];
  private readonly presentNames: Map<string, string>;
  private zeros = new Map<string, Tensor>();
  private zeroBuffers: GPUBuffer[] = [];

  constructor(
    private readonly ort: OrtApi,
    readonly session: InferenceSession,
    readonly io: GraphIO,
    readonly shape: DecoderShape,
    /** Names and dtypes the graph declares (see runtime/layout.ts). */
    readonly layout: DecoderLayout,
    /** True when outputs stay on the GPU (WebGPU with gpu-buffer locations). */
    readonly onGpu: boolean,
    /** ORT's device on WebGPU: constant zero inputs live there instead of being uploaded every step. */
    private device?: GPUDevice,
  ) {
    this.pastNames = layout.kv.map((p) => p.past);
    this.presentNames = new Map(layout.kv.map((p) => [p.past, p.present]));
  }

  /** For sessions on a device ORT created itself, known only once the session exists. */
  attachDevice(device: GPUDevice): void {
    this.device = device;
  }

  get hasCache(): boolean {
    return this.pastNames.length > 0;
  }

  /** Where the KV cache lives between steps: 'gpu-buffer' on WebGPU, 'cpu' on WASM, 'none' when empty. */
  get cacheLocation(): string {
    const first = this.past.values().next().value;
    return first ? first.location : 'none';
  }

  get cachedLength(): number {
    return this.pastLength;
  }

  /** Forgets the KV cache (frees GPU buffers). Call before a new prompt. */
  reset(): void {
    for (const t of this.past.values()) t.dispose();
    this.past.clear();
    this.pastLength = 0;
  }

  /** ORT's GPUDevice when the session runs on WebGPU and it is known (our kernels bind ORT's buffers on it). */
  get gpuDevice(): GPUDevice | undefined {
    return this.device;
  }

  /** Runs one step on top of the cached prefix; with `useCache` false the cache is ignored and not updated. */
  step(input: StepInput, useCache?: boolean): Promise<StepOutput>;
  step(input: StepInput, useCache: boolean, options: StepOptions): Promise<StepOutputWithOptions>;
  async step(input: StepInput, useCache = true, options: StepOptions = {}): Promise<StepOutputWithOptions> {
    const rows = input.ids.length;
    const positions = input.ids[0].length;
    const past = useCache ? this.pastLength : 0;
    const { Tensor } = this.ort;
    const feeds: Record<string, Tensor> = {};
    const layout = this.layout;
    feeds.input_ids = integerTensor(Tensor, layout.inputIds, input.ids.flat(), [rows, positions]);
    if (layout.attentionMask)
      feeds.attention_mask = onesTensor(Tensor, layout.attentionMask, [rows, past + positions]);
    if (layout.positionIds) {
      const pos: number[] = [];
      for (let r = 0; r < rows; r++) for (let j = 0; j < positions; j++) pos.push(past + j);
      feeds.position_ids = integerTensor(Tensor, layout.positionIds, pos, [rows, positions]);
    }
    // transformers' logits_to_keep: 1 keeps the last position, all we sample from.
    if (layout.logitsToKeep) feeds[layout.logitsToKeep] = new Tensor('int64', BigInt64Array.of(1n), []);
    const emptyCache = [rows, this.shape.kvHeads, 0, this.shape.headDim];
    for (const name of this.pastNames) {
      feeds[name] =
        useCache && this.past.has(name)
          ? this.past.get(name)!
          : layout.kvType === 'float16'
            ? new Tensor('float16', new Uint16Array(0), emptyCache)
            : new Tensor('float32', new Float32Array(0), emptyCache);
    }
    this.feedSteering(feeds, input, rows);
    const presents = this.pastNames.map((n) => this.presentNames.get(n)!);
    const fetches = ['logits', ...presents, ...(input.capture ?? []).map(captureName)];
    const out = await this.session.run(feeds, fetches);
    const logits = out.logits;
    let lastLogits: Float32Array | undefined;
    let gpuLogits: GpuLogits | undefined;
    if (options.logitsOnGpu && logits.location === 'gpu-buffer') {
      const positions = Number(logits.dims[1]);
      const vocab = this.shape.vocab;
      gpuLogits = {
        buffer: logits.gpuBuffer as GPUBuffer,
        type: logits.type === 'float16' ? 'float16' : 'float32',
        offset: (positions - 1) * vocab,
        rowStride: positions * vocab,
        dispose: () => logits.dispose(),
      };
    } else {
      lastLogits = await lastPosition(logits, rows, this.shape.vocab, this.device);
      logits.dispose();
    }
    if (useCache && this.hasCache) {
      for (const t of this.past.values()) t.dispose();
      this.pastNames.forEach((name, i) => this.past.set(name, out[presents[i]]));
      this.pastLength = past + positions;
    } else {
      for (const name of presents) out[name].dispose();
    }
    const captures = new Map<number, Tensor>();
    for (const l of input.capture ?? []) captures.set(l, out[captureName(l)]);
    return { lastLogits, gpuLogits, captures };
  }

  private feedSteering(feeds: Record<string, Tensor>, input: StepInput, rows: number): void {
    const { Tensor } = this.ort;
    const d = this.shape.hidden;
    for (const l of this.shape.instrumented) {
      const s = input.steer?.get(l);
      if (!s) feeds[steerName(l)] = this.zero(`steer:${rows}`, [rows, 1, d]);
      else if ('gpuBuffer' in s)
        feeds[steerName(l)] = Tensor.fromGpuBuffer(s.gpuBuffer, {
          dataType: 'float32',
          dims: [rows, s.positions ?? 1, d],
        }) as unknown as Tensor;
      else feeds[steerName(l)] = new Tensor('float32', s.data, [rows, s.data.length / (rows * d), d]);
      const n = this.shape.clampSlots;
      if (n === 0) continue;
      const c = input.clamp?.get(l);
      const names = clampNames(l);
      if (!c) {
        feeds[names.enc] = this.zero(`enc`, [n, d]);
        feeds[names.bias] = this.zero(`bias`, [n]);
        feeds[names.threshold] = this.zero(`bias`, [n]);
        feeds[names.dec] = this.zero(`enc`, [n, d]);
        feeds[names.target] = this.zero(`mask:${rows}`, [rows, 1, n]);
        feeds[names.mask] = this.zero(`mask:${rows}`, [rows, 1, n]);
      } else {
        feeds[names.enc] = new Tensor('float32', c.enc, [n, d]);
        feeds[names.bias] = new Tensor('float32', c.bias, [n]);
        feeds[names.threshold] = new Tensor('float32', c.threshold, [n]);
        feeds[names.dec] = new Tensor('float32', c.dec, [n, d]);
        feeds[names.target] = new Tensor('float32', c.target, [rows, c.target.length / (rows * n), n]);
        feeds[names.mask] = new Tensor('float32', c.mask, [rows, c.mask.length / (rows * n), n]);
      }
    }
  }

  /**
   * Zero tensors are reused across steps: they never change. On WebGPU they are GPU buffers (new buffers are
   * zero-filled by the spec), so an unsteered layer costs no upload per step.
   */
  private zero(key: string, dims: number[]): Tensor {
    let t = this.zeros.get(key);
    if (!t) {
      const count = dims.reduce((a, b) => a * b, 1);
      if (this.device) {
        const buffer = this.device.createBuffer({
          label: `DecoderSession.zero.${key}`,
          size: Math.max(16, Math.ceil((count * 4) / 16) * 16),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        this.zeroBuffers.push(buffer);
        t = this.ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims }) as unknown as Tensor;
      } else t = new this.ort.Tensor('float32', new Float32Array(count), dims);
      this.zeros.set(key, t);
    }
    return t;
  }

  async release(): Promise<void> {
    this.reset();
    for (const b of this.zeroBuffers) b.destroy();
    this.zeroBuffers = [];
    this.zeros.clear();
    await this.session.release();
  }
}

type TensorClass = OrtApi['Tensor'];

function integerTensor(Tensor: TensorClass, type: FeedType, values: number[], dims: number[]): Tensor {
  return type === 'int32' ? new Tensor('int32', Int32Array.from(values), dims) : new Tensor('int64', BigInt64Array.from(values, BigInt), dims);
}

/** An all-ones attention mask in the dtype the graph declares (1.0 as float16 is 0x3c00). */
function onesTensor(Tensor: TensorClass, type: FeedType, dims: number[]): Tensor {
  const n = dims[0] * dims[1];
  switch (type) {
    case 'int64': return new Tensor('int64', new BigInt64Array(n).fill(1n), dims);
    case 'int32': return new Tensor('int32', new Int32Array(n).fill(1), dims);
    case 'float32': return new Tensor('float32', new Float32Array(n).fill(1), dims);
    case 'float16': return new Tensor('float16', new Uint16Array(n).fill(0x3c00), dims);
    case 'bool': return new Tensor('bool', new Uint8Array(n).fill(1), dims);
  }
}

/** Logits [rows, positions, vocab] (positions is 1 when the graph keeps only the last) → last position per row. */
/**
 * Logits at the last position of each row, [rows × vocab] float32. From a GPU buffer with several positions (a
 * prefill) only those rows' slices are copied back (`readRows`), not the whole [rows, positions, vocab] tensor.
 */
async function lastPosition(logits: Tensor, rows: number, vocab: number, device?: GPUDevice): Promise<Float32Array> {
  const positions = Number(logits.dims[1]);
  const half = logits.type === 'float16';
  if (logits.location === 'gpu-buffer' && positions > 1 && device) {
    const slice = { elementBytes: half ? 2 : 4, rows, offset: (positions - 1) * vocab, rowStride: positions * vocab, length: vocab };
    const bytes = await readRows(device, logits.gpuBuffer as GPUBuffer, slice);
    if (bytes) return half ? halfsToFloats(new Uint16Array(bytes)) : new Float32Array(bytes);
  }
  const raw = logits.location === 'cpu' ? logits.data : await logits.getData();
  const all = half ? halfsToFloats(raw as Uint16Array) : (raw as Float32Array);
  if (positions === 1) return new Float32Array(all);
  const out = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++)
    out.set(all.subarray((r * positions + positions - 1) * vocab, (r * positions + positions) * vocab), r * vocab);
  return out;
}

/** Reads a captured residual to the CPU wherever it lives. */
export async function readTensor(t: Tensor): Promise<Float32Array> {
  return (t.location === 'cpu' ? t.data : await t.getData()) as Float32Array;
}
