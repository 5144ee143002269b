// Next-token sampling on the GPU (tokenSampler.wgsl), so a generation step reads back one id per row instead of the
// row's logits. runtime/sampling.ts `sampleToken` stays the definition; this pass reproduces its choice.
import type { SamplingSettings, TokenHistory } from '../../runtime/sampling';
import { createStorageBuffer, readBuffer, writeUniform } from '../device';
import { GpuKernelError } from '../errors';
import { Kernel } from '../kernel';
import { defaultTargetWorkgroups } from '../sae/passes';
import tokenSamplerWgsl from './tokenSampler.wgsl?raw';

/** Where a step's logits are: ORT's output buffer, [rows, positions, vocab] of `type`. */
export interface LogitsSource {
  buffer: GPUBuffer;
  type: 'float32' | 'float16';
  /** Element index (not bytes) of row 0's last position. */
  offset: number;
  /** Elements from one row to the next (positions · vocab). */
  rowStride: number;
}

/**
 * One row's part in a step: `null` for a row that has stopped (skipped, its history untouched), else the uniform
 * number in [0, 1) its draw uses — `Prng.next()` of that row, taken only when the settings sample (greedy rows
 * consume none, as in `sampleToken`; pass 0).
 */
export type RowDraw = number | null;

export interface TokenSamplerOptions {
  rows: number;
  vocab: number;
  settings: SamplingSettings;
  /** Threads per workgroup; default 64 on a CPU rasteriser (SwiftShader), else 256. */
  workgroupSize?: number;
  /** Largest logits range bound directly (default: the device's maxStorageBufferBindingSize); tests lower it. */
  maxBindingBytes?: number;
}

/** Why `settings` cannot be sampled on the GPU (values `sampleToken` accepts but this pass does not), or null. */
export function gpuSamplingUnsupported(s: SamplingSettings): string | null {
  if (!Number.isFinite(s.temperature)) return `temperature must be a finite number (got ${s.temperature})`;
  if (!Number.isInteger(s.topK)) return `topK must be an integer (got ${s.topK})`;
  if (Number.isNaN(s.topP)) return 'topP must be a number (got NaN)';
  if (!(s.repetitionPenalty > 0) || !Number.isFinite(s.repetitionPenalty))
    return `repetitionPenalty must be a positive finite number (got ${s.repetitionPenalty})`;
  if (!Number.isFinite(s.frequencyPenalty)) return `frequencyPenalty must be a finite number (got ${s.frequencyPenalty})`;
  return null;
}

/** A float64 as hi + lo float32 (hi = the nearest float32, lo the nearest float32 to the rest). */
function splitDouble(x: number): [number, number] {
  const hi = Math.fround(x);
  return [hi, Math.fround(x - hi)];
}

/** tokenSampler.wgsl's `Params` for `settings` and `vocab`: the words and their types, in declaration order. */
export function samplerParams(s: SamplingSettings, vocab: number): { words: number[]; types: ('u32' | 'f32')[] } {
  const reason = gpuSamplingUnsupported(s);
  if (reason) throw new GpuKernelError(`GPU sampling: ${reason}.`);
  const greedy = s.temperature <= 0;
  const topK = s.topK > 0 && s.topK < vocab ? s.topK : 0;
  const topPOn = s.topP < 1;
  const topP = topPOn ? Math.max(0, Math.floor(s.topP * 2 ** 32)) : 0;
  const [repetitionHi, repetitionLo] = splitDouble(s.repetitionPenalty);
  const [frequencyHi, frequencyLo] = splitDouble(s.frequencyPenalty);
  const words = [
    vocab,
    greedy ? 1 : 0,
    topK,
    topPOn ? 1 : 0,
    topP,
    s.repetitionPenalty !== 1 ? 1 : 0,
    s.frequencyPenalty !== 0 ? 1 : 0,
    greedy ? 0 : 1 / s.temperature,
    repetitionHi,
    repetitionLo,
    1 / s.repetitionPenalty,
    frequencyHi,
    frequencyLo,
  ];
  const types: ('u32' | 'f32')[] = ['u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'u32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32'];
  return { words, types };
}

/** A uniform number in [0, 1) as the kernel's 32-bit fraction (exact for `Prng.next()`, whose values are k / 2^32). */
export function drawFraction(u: number): number {
  if (!(u >= 0 && u < 1)) throw new GpuKernelError(`A draw must be a number in [0, 1); got ${u}.`);
  return Math.floor(u * 2 ** 32);
}

/**
 * How the kernel reaches each row's last-position logits: by binding the span of ORT's buffer that holds them
 * (`direct`; a binding starts on the device's offset alignment), or, when that span is larger than a binding may be
 * (a long prefill without `logits_to_keep` on a large vocabulary), by copying each row's logits into a buffer of its
 * own first (`gather`, 4-byte-aligned copies with a row stride of `gatherStride` bytes). `rowOffsets` are element
 * indices inside whatever is bound. Pure arithmetic, unit-tested.
 */
export type LogitsPlan =
  | { mode: 'direct'; bindOffset: number; bindSize: number; rowOffsets: number[] }
  | { mode: 'gather'; gatherStride: number; copies: { from: number; to: number; size: number }[]; rowOffsets: number[] };

export function planLogits(
  source: Omit<LogitsSource, 'buffer'> & { bufferSize: number },
  rows: number,
  vocab: number,
  limits: { alignment: number; maxBindingBytes: number },
): LogitsPlan {
  const bytes = source.type === 'float16' ? 2 : 4;
  const last = source.offset + (rows - 1) * source.rowStride + vocab;
  if (!Number.isInteger(source.offset) || source.offset < 0 || source.rowStride < vocab || last * bytes > source.bufferSize)
    throw new GpuKernelError(
      `Logits of ${rows} rows × ${vocab} from element ${source.offset} with row stride ${source.rowStride} do not fit ` +
        `the ${source.bufferSize}-byte buffer.`,
    );
  const start = source.offset * bytes;
  const bindOffset = Math.floor(start / limits.alignment) * limits.alignment;
  const bindSize = Math.min(Math.ceil((last * bytes - bindOffset) / 4) * 4, source.bufferSize - bindOffset);
  if (bindSize <= limits.maxBindingBytes && bindSize % 4 === 0) {
    const first = (start - bindOffset) / bytes;
    return { mode: 'direct', bindOffset, bindSize, rowOffsets: Array.from({ length: rows }, (_, r) => first + r * source.rowStride) };
  }
  const gatherStride = Math.ceil((vocab * bytes + 4) / 4) * 4;
  const copies: { from: number; to: number; size: number }[] = [];
  const rowOffsets: number[] = [];
  for (let r = 0; r < rows; r++) {
    const rowStart = (source.offset + r * source.rowStride) * bytes;
    const from = Math.floor(rowStart / 4) * 4;
    const size = Math.min(Math.ceil((rowStart + vocab * bytes - from) / 4) * 4, Math.floor((source.bufferSize - from) / 4) * 4);
    copies.push({ from, to: r * gatherStride, size });
    rowOffsets.push((r * gatherStride + rowStart - from) / bytes);
  }
  return { mode: 'gather', gatherStride, copies, rowOffsets };
}

/** Compiled pipelines per device: a generation creates a sampler, the shader is compiled once. */
const kernels = new WeakMap<GPUDevice, Map<string, Kernel>>();

function samplerKernel(device: GPUDevice, workgroupSize: number, f16: boolean): Kernel {
  let byDevice = kernels.get(device);
  if (!byDevice) kernels.set(device, (byDevice = new Map()));
  const key = `${workgroupSize}:${f16}`;
  let kernel = byDevice.get(key);
  if (!kernel) {
    kernel = new Kernel(device, { label: 'TokenSampler', code: tokenSamplerWgsl, constants: { WG: workgroupSize, F16_LOGITS: f16 ? 1 : 0 } });
    byDevice.set(key, kernel);
  }
  return kernel;
}

/**
 * Samples one token per row from logits on the GPU for a whole generation: owns the rows' histories (seen flags and
 * generated counts, the GPU twin of `TokenHistory`), its scratch buffers and the read-back buffer. `begin()` with
 * the rows' histories, then `sample()` (or `encode()` + `readTokens()`) once per step. Choices equal `sampleToken`'s except
 * where a draw falls within float rounding of a cumulative probability boundary (the GPU sums float32 masses as
 * fixed-point integers, the CPU float64 ones in order); greedy choices always equal.
 *
 * Throws GpuKernelError for settings it cannot run (`gpuSamplingUnsupported`), sizes out of range, or logits that do
 * not fit their buffer. The history records every chosen id, a stop token included (the row is then passed as
 * stopped and never reads it again), where `TokenHistory` records output tokens only.
 */
export class GpuTokenSampler {
  readonly rows: number;
  readonly vocab: number;
  private readonly params: GPUBuffer;
  private readonly rowState: GPUBuffer;
  /** [rows, vocab] u32: bit 31 seen, bits 0..30 generated count. */
  readonly history: GPUBuffer;
  /** [rows, vocab] f32: the last step's penalised logits (for tests). */
  readonly values: GPUBuffer;
  private readonly candidates: GPUBuffer;
  private readonly tokens: GPUBuffer;
  private readonly readback: GPUBuffer;
  private gathered: GPUBuffer | null = null;
  private readonly workgroupSize: number;
  private readonly maxBindingBytes: number;

  constructor(
    private readonly device: GPUDevice,
    options: TokenSamplerOptions,
  ) {
    const { rows, vocab } = options;
    if (!Number.isInteger(rows) || rows < 1 || rows > device.limits.maxComputeWorkgroupsPerDimension)
      throw new GpuKernelError(`GPU sampling needs 1 to ${device.limits.maxComputeWorkgroupsPerDimension} rows; got ${rows}.`);
    if (!Number.isInteger(vocab) || vocab < 1 || vocab > 0x7fffffff)
      throw new GpuKernelError(`GPU sampling needs a vocabulary of at least one id; got ${vocab}.`);
    if (rows * vocab * 4 > Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize))
      throw new GpuKernelError(`${rows} rows × ${vocab} ids of sampling history do not fit one storage binding on this device.`);
    this.rows = rows;
    this.vocab = vocab;
    const { words, types } = samplerParams(options.settings, vocab);
    this.workgroupSize = options.workgroupSize ?? (defaultTargetWorkgroups(device) === 1 ? 64 : 256);
    this.maxBindingBytes = options.maxBindingBytes ?? device.limits.maxStorageBufferBindingSize;
    this.params = device.createBuffer({ label: 'TokenSampler.params', size: Math.ceil((words.length * 4) / 16) * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    writeUniform(device, this.params, words, types);
    this.rowState = createStorageBuffer(device, 'TokenSampler.rowState', rows * 12);
    this.history = createStorageBuffer(device, 'TokenSampler.history', rows * vocab * 4);
    this.values = createStorageBuffer(device, 'TokenSampler.values', rows * vocab * 4);
    this.candidates = createStorageBuffer(device, 'TokenSampler.candidates', rows * vocab * 4);
    this.tokens = createStorageBuffer(device, 'TokenSampler.tokens', rows * 4);
    this.readback = device.createBuffer({ label: 'TokenSampler.readback', size: Math.max(16, Math.ceil((rows * 4) / 16) * 16), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /**
   * Starts a generation from each row's history (a new generation: `new TokenHistory(promptIds)` per row). Ids
   * outside the vocabulary are ignored, as `applyPenalties` ignores them.
   */
  begin(histories: readonly TokenHistory[]): void {
    if (histories.length !== this.rows) throw new GpuKernelError(`GPU sampling expects ${this.rows} histories (one per row); got ${histories.length}.`);
    const words = new Uint32Array(this.rows * this.vocab);
    histories.forEach((h, r) => {
      for (const t of h.seen) if (t >= 0 && t < this.vocab) words[r * this.vocab + t] = 0x80000000;
      for (const [t, count] of h.generated) if (t >= 0 && t < this.vocab) words[r * this.vocab + t] = 0x80000000 | Math.min(count, 0x7fffffff);
    });
    this.device.queue.writeBuffer(this.history, 0, words);
  }

  /** The rows' histories as the GPU holds them (for tests): seen ids and generated counts per row. */
  async readHistories(): Promise<{ seen: number[]; generated: Map<number, number> }[]> {
    const words = new Uint32Array(await readBuffer(this.device, this.history, this.rows * this.vocab * 4));
    return Array.from({ length: this.rows }, (_, r) => {
      const seen: number[] = [];
      const generated = new Map<number, number>();
      for (let t = 0; t < this.vocab; t++) {
        const w = words[r * this.vocab + t];
        if (w & 0x80000000) seen.push(t);
        if (w & 0x7fffffff) generated.set(t, w & 0x7fffffff);
      }
      return { seen, generated };
    });
  }

  /** Records one step's sampling into `encoder` (the draws are written to the queue now). */
  encode(encoder: GPUCommandEncoder, logits: LogitsSource, draws: readonly RowDraw[]): void {
    if (draws.length !== this.rows) throw new GpuKernelError(`GPU sampling expects ${this.rows} draws (one per row); got ${draws.length}.`);
    const plan = planLogits({ ...logits, bufferSize: logits.buffer.size }, this.rows, this.vocab, {
      alignment: this.device.limits.minStorageBufferOffsetAlignment,
      maxBindingBytes: this.maxBindingBytes,
    });
    const state = new Uint32Array(this.rows * 3);
    draws.forEach((u, r) => {
      state[3 * r] = u === null ? 0 : drawFraction(u);
      state[3 * r + 1] = u === null ? 0 : 1;
      state[3 * r + 2] = plan.rowOffsets[r];
    });
    this.device.queue.writeBuffer(this.rowState, 0, state);
    let binding: GPUBufferBinding;
    if (plan.mode === 'direct') binding = { buffer: logits.buffer, offset: plan.bindOffset, size: plan.bindSize };
    else {
      const size = plan.gatherStride * this.rows;
      if (!this.gathered || this.gathered.size < size) {
        this.gathered?.destroy();
        this.gathered = createStorageBuffer(this.device, 'TokenSampler.gathered', size);
      }
      for (const c of plan.copies) encoder.copyBufferToBuffer(logits.buffer, c.from, this.gathered, c.to, c.size);
      binding = { buffer: this.gathered, offset: 0, size };
    }
    const kernel = samplerKernel(this.device, this.workgroupSize, logits.type === 'float16');
    const bindGroup = kernel.bind('step', [this.params, binding, this.rowState, this.history, this.values, this.candidates, this.tokens]);
    kernel.dispatch(encoder, bindGroup, this.rows);
    encoder.copyBufferToBuffer(this.tokens, 0, this.readback, 0, this.rows * 4);
  }

  /** The ids of the last submitted step, −1 for rows passed as stopped. */
  async readTokens(draws: readonly RowDraw[]): Promise<number[]> {
    await this.readback.mapAsync(GPUMapMode.READ, 0, this.rows * 4);
    const ids = Array.from(new Uint32Array(this.readback.getMappedRange(0, this.rows * 4)));
    this.readback.unmap();
    return ids.map((id, r) => (draws[r] === null ? -1 : id));
  }

  /** One step: encode, submit, read back the ids (−1 for stopped rows). */
  async sample(logits: LogitsSource, draws: readonly RowDraw[]): Promise<number[]> {
    const encoder = this.device.createCommandEncoder({ label: 'TokenSampler.encoder' });
    this.encode(encoder, logits, draws);
    this.device.queue.submit([encoder.finish()]);
    return this.readTokens(draws);
  }

  destroy(): void {
    for (const b of [this.params, this.rowState, this.history, this.values, this.candidates, this.tokens, this.readback]) b.destroy();
    this.gathered?.destroy();
  }
}
