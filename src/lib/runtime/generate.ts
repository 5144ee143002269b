// The generation loop: prefill the prompt, then decode one token per step with the KV cache, for one or more
// batch rows that share the prompt (row 0 = baseline, row 1 = steered, in the playground). Each row has its own
// seeded PRNG, so a row's text depends only on its own logits and the seed.
import { ContextOverflowError, InvalidRequestError } from './errors';
import type { GpuTokenSampler } from '../gpu/sampling';
import { Prng } from './prng';
import { sampleToken, TokenHistory, type SamplingSettings } from './sampling';
import { readTensor, type ClampSource, type DecoderSession, type SteerSource } from './session';
import type { Tensor } from './ort-types';

export interface LayerSteering {
  /** [rows * hidden] float32 (row r at r*hidden), or a GPU buffer of that layout on ORT's device. */
  vectors: Float32Array | GPUBuffer;
  /** 'all' steers prompt and generated positions; 'generated' feeds zeros during the prefill. */
  positions: 'all' | 'generated';
}

export interface LayerClamp extends ClampSource {
  positions: 'all' | 'generated';
}

export interface GenerationOptions {
  promptIds: number[];
  /** Batch rows generated together from the same prompt. Default 1. */
  rows?: number;
  maxNewTokens: number;
  sampling: SamplingSettings;
  seed: number;
  /** Ending tokens (e.g. EOS); a row that samples one stops, the stop token is not part of its output. */
  stopTokens?: number[];
  contextLength: number;
  steering?: Map<number, LayerSteering>;
  clamp?: Map<number, LayerClamp>;
  /**
   * Token ids (special tokens: BOS, chat-template markers) whose positions get no additive steering and no clamp.
   * Needs Float32Array steering vectors: the per-position layout is built on the CPU for the steps that feed one.
   */
  unsteeredIds?: ReadonlySet<number>;
  /** Layers whose residual each step hands to `onStep`. */
  capture?: number[];
  /**
   * false = recompute the whole sequence every step (the reference path for tests). Steering vectors then apply
   * to every position fed, prompt included, whatever `positions` says.
   */
  useCache?: boolean;
  signal?: AbortSignal;
  /**
   * Choose tokens on the GPU (gpu/sampling): the logits stay in ORT's buffer and only one id per row is read back
   * each step. Same choices as on the CPU except for a draw within float rounding of a cumulative probability
   * boundary (greedy: always the same). Applies to WebGPU sessions whose outputs stay on the GPU; elsewhere, and for
   * settings `gpuSamplingUnsupported` refuses, sampling stays on the CPU (`GenerationResult.sampledOn` says which).
   * Default false.
   */
  sampleOnGpu?: boolean;
  /**
   * Called once per step, awaited before the next one. `captures` are valid only until the returned promise
   * settles (their GPU buffers are then released).
   */
  onStep?: (event: StepEvent) => void | Promise<void>;
}

/** A captured residual: [rows, positions, hidden] float32. */
export interface CapturedResidual {
  layer: number;
  dims: readonly number[];
  /** ORT's buffer on the shared GPUDevice when on WebGPU (bind it directly in a compute pass); else undefined. */
  gpuBuffer?: GPUBuffer;
  read(): Promise<Float32Array>;
}

export interface StepEvent {
  /** 0 for the prefill, then 1, 2, ... */
  step: number;
  phase: 'prefill' | 'decode';
  /** Position of the first token whose residual is captured in this step (0 for the prefill). */
  firstPosition: number;
  /** Token chosen per row from this step's logits; -1 for rows that had already stopped. */
  tokens: number[];
  captures: Map<number, CapturedResidual>;
}

export interface RowResult {
  tokens: number[];
  stopReason: 'length' | 'stop' | 'cancelled';
}

export interface GenerationResult {
  rows: RowResult[];
  prefillMs: number;
  decodeMs: number;
  /** Decode steps per second (each step yields one token per row). */
  decodeTokensPerSecond: number;
  /** Where tokens were chosen: 'gpu' with `sampleOnGpu` on a WebGPU session, else 'cpu'. */
  sampledOn: 'gpu' | 'cpu';
}

export async function generate(session: DecoderSession, o: GenerationOptions): Promise<GenerationResult> {
  const rows = o.rows ?? 1;
  if (o.promptIds.length === 0) throw new InvalidRequestError('The prompt is empty: give at least one token.');
  if (o.promptIds.length > o.contextLength) throw new ContextOverflowError(o.promptIds.length, o.contextLength);
  for (const l of [...(o.capture ?? []), ...(o.steering?.keys() ?? []), ...(o.clamp?.keys() ?? [])])
    if (!session.shape.instrumented.includes(l))
      throw new InvalidRequestError(`Layer ${l} is not instrumented (instrumented: ${session.shape.instrumented}).`);
  const useCache = (o.useCache ?? true) && session.hasCache;
  const stop = new Set(o.stopTokens ?? []);
  const rngs = Array.from({ length: rows }, () => new Prng(o.seed));
  const histories = Array.from({ length: rows }, () => new TokenHistory(o.promptIds));
  const results: RowResult[] = Array.from({ length: rows }, () => ({ tokens: [], stopReason: 'length' as const }));
  const done = new Array<boolean>(rows).fill(false);
  const sequences = Array.from({ length: rows }, () => [...o.promptIds]);
  const vocab = session.shape.vocab;
  const sampler = await gpuSampler(session, o, rows);
  const greedy = o.sampling.temperature <= 0;
  session.reset();
  let prefillMs = 0;
  let decodeStart = 0;
  let steps = 0;
  try {
    for (let step = 0; step < o.maxNewTokens; step++) {
      if (o.signal?.aborted) {
        for (let r = 0; r < rows; r++) if (!done[r]) results[r].stopReason = 'cancelled';
        break;
      }
      const prefill = step === 0;
      const length = sequences[0].length;
      if (length > o.contextLength) break;
      const first = prefill || !useCache ? 0 : length - 1;
      const ids = sequences.map((s) => s.slice(first));
      const t0 = performance.now();
      const out = await session.step(
        { ids, steer: steerFeeds(o, prefill, rows, session.shape.hidden, ids), clamp: clampFeeds(o, prefill, rows, ids), capture: o.capture },
        useCache,
        { logitsOnGpu: sampler !== undefined },
      );
      let tokens: number[];
      if (out.gpuLogits) {
        // One draw per row still going, none when greedy: the same use of each row's stream as sampleToken's.
        const draws = done.map((d, r) => (d ? null : greedy ? 0 : rngs[r].next()));
        try {
          tokens = await sampler!.sample(out.gpuLogits, draws);
        } catch (e) {
          for (const t of out.captures.values()) t.dispose();
          throw e;
        } finally {
          out.gpuLogits.dispose();
        }
      } else
        tokens = done.map((d, r) => (d ? -1 : sampleToken(out.lastLogits!.slice(r * vocab, (r + 1) * vocab), histories[r], o.sampling, rngs[r])));
      for (let r = 0; r < rows; r++) {
        if (done[r]) continue;
        const token = tokens[r];
        if (stop.has(token)) {
          done[r] = true;
          results[r].stopReason = 'stop';
        } else {
          histories[r].push(token);
          results[r].tokens.push(token);
        }
      }
      // Finished rows keep a filler token so the batch stays rectangular; it never reaches their output.
      for (let r = 0; r < rows; r++) sequences[r].push(tokens[r] >= 0 ? tokens[r] : sequences[r][sequences[r].length - 1]);
      const elapsed = performance.now() - t0;
      if (prefill) {
        prefillMs = elapsed;
        decodeStart = performance.now();
      } else steps++;
      try {
        if (o.onStep)
          await o.onStep({
            step,
            phase: prefill ? 'prefill' : 'decode',
            firstPosition: first,
            tokens,
            captures: wrapCaptures(out.captures),
          });
      } finally {
        for (const t of out.captures.values()) t.dispose();
      }
      if (done.every(Boolean)) break;
    }
  } finally {
    session.reset();
    sampler?.destroy();
  }
  const decodeMs = steps > 0 ? performance.now() - decodeStart : 0;
  return {
    rows: results,
    prefillMs,
    decodeMs,
    decodeTokensPerSecond: steps > 0 ? (steps * 1000) / decodeMs : 0,
    sampledOn: sampler ? 'gpu' : 'cpu',
  };
}

/**
 * The GPU sampler for this generation when `sampleOnGpu` asks for one and the session can feed it (WebGPU, outputs
 * on the GPU, a known device, settings the kernel runs); else undefined, and sampling stays on the CPU.
 */
async function gpuSampler(session: DecoderSession, o: GenerationOptions, rows: number): Promise<GpuTokenSampler | undefined> {
  const device = session.gpuDevice;
  if (!o.sampleOnGpu || !session.onGpu || !device) return undefined;
  // Loaded on first use: the WASM path (and Node, without WebGPU globals) never evaluates GPU modules.
  const { GpuTokenSampler, gpuSamplingUnsupported } = await import('../gpu/sampling');
  if (gpuSamplingUnsupported(o.sampling) !== null) return undefined;
  if (rows * session.shape.vocab * 4 > Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize)) return undefined;
  const sampler = new GpuTokenSampler(device, { rows, vocab: session.shape.vocab, settings: o.sampling });
  sampler.begin(Array.from({ length: rows }, () => new TokenHistory(o.promptIds)));
  return sampler;
}

/**
 * [rows, positions, hidden] steering with zeros at the positions whose token is in `unsteered`, or undefined when
 * no fed position holds one (the [rows, 1, hidden] broadcast then applies as is).
 */
export function maskSteering(vectors: Float32Array, ids: number[][], unsteered: ReadonlySet<number>, hidden: number): Float32Array | undefined {
  if (!ids.some((row) => row.some((id) => unsteered.has(id)))) return undefined;
  const positions = ids[0].length;
  const out = new Float32Array(ids.length * positions * hidden);
  ids.forEach((row, r) =>
    row.forEach((id, p) => {
      if (!unsteered.has(id)) out.set(vectors.subarray(r * hidden, (r + 1) * hidden), (r * positions + p) * hidden);
    }),
  );
  return out;
}

function steerFeeds(o: GenerationOptions, prefill: boolean, rows: number, hidden: number, ids: number[][]): Map<number, SteerSource> | undefined {
  if (!o.steering) return undefined;
  const feeds = new Map<number, SteerSource>();
  for (const [layer, s] of o.steering) {
    const size = s.vectors instanceof Float32Array ? s.vectors.length : s.vectors.size / 4;
    if (size < rows * hidden || (s.vectors instanceof Float32Array && size !== rows * hidden))
      throw new InvalidRequestError(
        `Steering at layer ${layer} needs ${rows} rows × ${hidden} floats (${rows * hidden}); got ${size}.`,
      );
    if (prefill && s.positions === 'generated') continue; // absent = zeros
    if (o.unsteeredIds?.size) {
      if (!(s.vectors instanceof Float32Array)) throw new InvalidRequestError('unsteeredIds needs Float32Array steering vectors, got a GPU buffer.');
      const masked = maskSteering(s.vectors, ids, o.unsteeredIds, hidden);
      feeds.set(layer, { data: masked ?? s.vectors });
      continue;
    }
    feeds.set(layer, s.vectors instanceof Float32Array ? { data: s.vectors } : { gpuBuffer: s.vectors });
  }
  return feeds;
}

/**
 * A clamp's [rows, positions, slots] target and mask with the mask zeroed at the positions whose token is in
 * `unsteered` (the clamp then adds nothing there), or undefined when no fed position holds one. `target` and
 * `mask` are [rows, slots]. The same rule as `maskSteering`: special tokens are left alone unless asked.
 */
export function maskClamp(
  target: Float32Array,
  mask: Float32Array,
  ids: number[][],
  unsteered: ReadonlySet<number>,
): { target: Float32Array; mask: Float32Array } | undefined {
  if (!ids.some((row) => row.some((id) => unsteered.has(id)))) return undefined;
  const slots = target.length / ids.length;
  const positions = ids[0].length;
  const t = new Float32Array(ids.length * positions * slots);
  const m = new Float32Array(ids.length * positions * slots);
  ids.forEach((row, r) =>
    row.forEach((id, p) => {
      const at = (r * positions + p) * slots;
      t.set(target.subarray(r * slots, (r + 1) * slots), at);
      if (!unsteered.has(id)) m.set(mask.subarray(r * slots, (r + 1) * slots), at);
    }),
  );
  return { target: t, mask: m };
}

function clampFeeds(o: GenerationOptions, prefill: boolean, rows: number, ids: number[][]): Map<number, ClampSource> | undefined {
  if (!o.clamp) return undefined;
  const feeds = new Map<number, ClampSource>();
  for (const [layer, c] of o.clamp) {
    if (prefill && c.positions === 'generated') continue;
    if (c.target.length !== c.mask.length || c.target.length % rows !== 0)
      throw new InvalidRequestError(`Clamp at layer ${layer}: target and mask must both be [rows, slots].`);
    const masked = o.unsteeredIds?.size ? maskClamp(c.target, c.mask, ids, o.unsteeredIds) : undefined;
    feeds.set(layer, masked ? { ...c, ...masked } : c);
  }
  return feeds;
}

function wrapCaptures(captures: Map<number, Tensor>): Map<number, CapturedResidual> {
  const out = new Map<number, CapturedResidual>();
  for (const [layer, t] of captures)
    out.set(layer, {
      layer,
      dims: t.dims,
      gpuBuffer: t.location === 'gpu-buffer' ? (t.gpuBuffer as GPUBuffer) : undefined,
      read: () => readTensor(t),
    });
  return out;
}
