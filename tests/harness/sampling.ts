// Browser-side entry points for the GPU token sampler's tests: build logits and histories, run tokenSampler.wgsl and
// the CPU definition (`sampleToken`) on them, and return counts for Playwright to assert on.
import { readBuffer, requestGpuDevice, uploadBuffer } from '../../src/lib/gpu/device';
import { readRows, type RowSlices } from '../../src/lib/gpu/readback';
import { GpuTokenSampler, sampleRowsReference, type RowDraw } from '../../src/lib/gpu/sampling';
import { Prng } from '../../src/lib/runtime/prng';
import { applyPenalties, keptDistribution, TokenHistory, type SamplingSettings } from '../../src/lib/runtime/sampling';
import { f16BitsToFloat, floatToF16Bits } from '../../src/lib/sae';

let devicePromise: Promise<GPUDevice> | null = null;
const device = () => (devicePromise ??= requestGpuDevice('harness.sampling.device'));

/** Relative distance (to the kept mass) under which a draw may legitimately differ between float32 and float64 sums. */
const BOUNDARY_TOLERANCE = 1e-5;

/** Tie-heavy levels: repeated values, both zeros, −Infinity (masked ids). */
const LEVELS = [3.25, 0, -0, -Infinity, 1.5, -1.75, 3.25, -0.5, 2];

export interface SamplingCase {
  vocab: number;
  /** Distinct rows of logits. */
  rows: number;
  /** Draws per distinct row: each is its own batch row holding a copy of the logits. */
  draws: number;
  settings: SamplingSettings;
  /** 0 = continuous logits; n > 0 = values from the first n of LEVELS; 'infinite' = every logit −Infinity. */
  levels: number | 'infinite';
  /** Prompt ids marked seen, and ids generated 1–3 times, per row (penalties act on them). */
  historyIds?: number;
  f16?: boolean;
  /** Forces the copy path for logits that do not fit one binding. */
  maxBindingBytes?: number;
  seed?: number;
}

function rowLogits(c: SamplingCase, random: Prng): Float32Array {
  const out = new Float32Array(c.vocab);
  for (let i = 0; i < c.vocab; i++) {
    if (c.levels === 'infinite') out[i] = -Infinity;
    else if (c.levels > 0) out[i] = LEVELS[Math.floor(random.next() * c.levels)];
    else out[i] = (random.next() + random.next() + random.next() - 1.5) * 6;
  }
  return c.f16 ? out.map((v) => f16BitsToFloat(floatToF16Bits(v))) : out;
}

function rowHistory(c: SamplingCase, random: Prng): TokenHistory {
  const n = c.historyIds ?? 0;
  const pick = () => Math.floor(random.next() * c.vocab);
  const history = new TokenHistory(Array.from({ length: n }, pick));
  for (let i = 0; i < n; i++) {
    const id = pick();
    for (let k = 1 + Math.floor(random.next() * 3); k > 0; k--) history.push(id);
  }
  return history;
}

function cloneHistory(h: TokenHistory): TokenHistory {
  const c = new TokenHistory(h.seen);
  for (const [t, n] of h.generated) c.generated.set(t, n);
  return c;
}

/**
 * The CPU's cumulative masses for one row (the same steps as `sampleToken`): inclusive prefix sums over the kept
 * order, the kept mass, and whether the top-p cut itself lies within the tolerance of p (then every draw may differ).
 */
function boundaries(logits: Float32Array, history: TokenHistory, s: SamplingSettings) {
  const l = logits.slice();
  applyPenalties(l, history, s);
  const { order, probs, cut } = keptDistribution(l, s);
  let total = 0;
  for (const p of probs) total += p;
  // The top-p cut is ambiguous when a cumulative probability up to it lies within the tolerance of p.
  let cutAmbiguous = false;
  if (s.topP < 1) {
    let cumulative = 0;
    for (let i = 0; i < cut; i++) if (Math.abs((cumulative += probs[i] / total) - s.topP) <= BOUNDARY_TOLERANCE) cutAmbiguous = true;
  }
  const prefix = new Float64Array(cut);
  let mass = 0;
  for (let i = 0; i < cut; i++) prefix[i] = mass += probs[i];
  return { prefix, mass, cutAmbiguous, finite: Number.isFinite(l[order[0]]) };
}

/** True when u · mass lies within the tolerance of a cumulative boundary (binary search over the prefix sums). */
function nearBoundary(prefix: Float64Array, mass: number, u: number): boolean {
  const r = u * mass;
  let lo = 0;
  let hi = prefix.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (prefix[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  const tol = BOUNDARY_TOLERANCE * mass;
  return Math.abs(prefix[lo] - r) <= tol || (lo > 0 && Math.abs(prefix[lo - 1] - r) <= tol);
}

/** Logits in the generation layout [rows, positions = 2, vocab] after 3 leading elements; other positions hold 1000. */
function layoutLogits(rows: Float32Array[], vocab: number) {
  const positions = 2;
  const offset = 3 + (positions - 1) * vocab;
  const all = new Float32Array(3 + rows.length * positions * vocab).fill(1000);
  rows.forEach((row, r) => all.set(row, offset + r * positions * vocab));
  return { all, offset, rowStride: positions * vocab };
}

function upload(gpu: GPUDevice, all: Float32Array, f16: boolean): GPUBuffer {
  if (!f16) return uploadBuffer(gpu, 'harness.sampling.logits', all);
  const halfs = new Uint16Array(all.length + (all.length % 2)); // writeBuffer takes whole words
  halfs.set(Array.from(all, floatToF16Bits));
  return uploadBuffer(gpu, 'harness.sampling.logits', halfs);
}

async function checked<T>(gpu: GPUDevice, body: () => Promise<T>): Promise<T> {
  gpu.pushErrorScope('validation');
  const result = await body();
  const error = await gpu.popErrorScope();
  if (error) throw new Error(`GPU validation error: ${error.message}`);
  return result;
}

/**
 * One sampling step for `rows × draws` batch rows against `sampleToken`. Returns how many choices differ outside
 * the boundary tolerance (`mismatches`, expected 0), how many draws were skipped for lying near a boundary, and how
 * many penalised logits differ from `applyPenalties`' bit for bit.
 */
async function samplingCase(c: SamplingCase) {
  const gpu = await device();
  const random = new Prng(c.seed ?? 11);
  const distinct = Array.from({ length: c.rows }, () => rowLogits(c, random));
  const histories = Array.from({ length: c.rows }, () => rowHistory(c, random));
  const batch = c.rows * c.draws;
  const rows: Float32Array[] = [];
  const draws: number[] = [];
  const batchHistories: TokenHistory[] = [];
  for (let r = 0; r < c.rows; r++)
    for (let d = 0; d < c.draws; d++) {
      rows.push(distinct[r]);
      batchHistories.push(cloneHistory(histories[r]));
      draws.push(d === 0 ? 0 : d === 1 ? 1 - 2 ** -32 : random.next());
    }
  const { all, offset, rowStride } = layoutLogits(rows, c.vocab);
  const buffer = upload(gpu, all, c.f16 ?? false);
  const sampler = new GpuTokenSampler(gpu, { rows: batch, vocab: c.vocab, settings: c.settings, maxBindingBytes: c.maxBindingBytes });
  try {
    return await checked(gpu, async () => {
      sampler.begin(batchHistories);
      const t0 = performance.now();
      const got = await sampler.sample({ buffer, type: c.f16 ? 'float16' : 'float32', offset, rowStride }, draws);
      const gpuMs = performance.now() - t0;
      const penalised = new Float32Array(await readBuffer(gpu, sampler.values, batch * c.vocab * 4));
      const before = batchHistories.map(cloneHistory);
      const want = sampleRowsReference(all, { offset, rowStride, vocab: c.vocab }, batchHistories, c.settings, draws);
      let mismatches = 0;
      let skipped = 0;
      let cutSkipped = 0;
      let penaltyMismatches = 0;
      const details: string[] = [];
      const greedy = c.settings.temperature <= 0;
      for (let b = 0; b < batch; b++) {
        const expected = rows[b].slice();
        applyPenalties(expected, before[b], c.settings);
        for (let i = 0; i < c.vocab; i++) {
          const g = penalised[b * c.vocab + i];
          if (!(g === expected[i] || (Number.isNaN(g) && Number.isNaN(expected[i])))) penaltyMismatches++;
        }
        if (got[b] === want[b]) continue;
        if (!greedy && c.settings.topK !== 1) {
          const info = boundaries(rows[b], before[b], c.settings);
          if (info.finite && info.cutAmbiguous) {
            cutSkipped++;
            continue;
          }
          if (info.finite && nearBoundary(info.prefix, info.mass, draws[b])) {
            skipped++;
            continue;
          }
        }
        mismatches++;
        if (details.length < 5) details.push(`row ${b}: u=${draws[b]} gpu ${got[b]} cpu ${want[b]}`);
      }
      // Draws near a boundary that happened to agree are counted too, for the report.
      let nearDraws = 0;
      if (!greedy)
        for (let b = 0; b < batch; b++) {
          const info = boundaries(rows[b], before[b], c.settings);
          if (info.finite && (info.cutAmbiguous || nearBoundary(info.prefix, info.mass, draws[b]))) nearDraws++;
        }
      return { batch, mismatches, skipped, cutSkipped, nearDraws, penaltyMismatches, details, gpuMs, distinctTokens: new Set(got).size };
    });
  } finally {
    sampler.destroy();
    buffer.destroy();
  }
}

export interface SequenceCase {
  vocab: number;
  rows: number;
  steps: number;
  settings: SamplingSettings;
  seed: number;
  /** A stop token that row 1 (if any) is pushed towards at step 3, so it stops mid-generation. */
  stopToken?: number;
}

/**
 * A generation loop of `steps` steps on both sides, as runtime/generate.ts runs it: per-row Prng streams (one draw
 * per step for rows still going, none when greedy), histories from a shared prompt, a stop token ending a row. The
 * GPU keeps its own histories between steps; at the end they are compared with `TokenHistory` (the GPU's also holds
 * the stop token of a stopped row). A row whose choices part at a draw near a boundary is left out from there on.
 */
async function sequenceCase(c: SequenceCase) {
  const gpu = await device();
  const random = new Prng(c.seed + 1000);
  const prompt = Array.from({ length: 12 }, () => Math.floor(random.next() * c.vocab));
  const cpuHistories = Array.from({ length: c.rows }, () => new TokenHistory(prompt));
  const cpuRngs = Array.from({ length: c.rows }, () => new Prng(c.seed));
  const gpuRngs = Array.from({ length: c.rows }, () => new Prng(c.seed));
  const done = new Array<boolean>(c.rows).fill(false);
  const diverged = new Array<boolean>(c.rows).fill(false);
  const stop = new Set(c.stopToken === undefined ? [] : [c.stopToken]);
  const greedy = c.settings.temperature <= 0;
  const sampler = new GpuTokenSampler(gpu, { rows: c.rows, vocab: c.vocab, settings: c.settings });
  const gpuTokens: number[][] = Array.from({ length: c.rows }, () => []);
  const cpuTokens: number[][] = Array.from({ length: c.rows }, () => []);
  let mismatches = 0;
  let skipped = 0;
  try {
    return await checked(gpu, async () => {
      sampler.begin(cpuHistories.map(cloneHistory));
      for (let step = 0; step < c.steps; step++) {
        const rows = Array.from({ length: c.rows }, () => rowLogits({ vocab: c.vocab, rows: 1, draws: 1, settings: c.settings, levels: 0 }, random));
        // Recent tokens stay likely, so the penalties change choices.
        rows.forEach((row, r) => {
          for (const t of cpuTokens[r].slice(-3)) row[t] += 4;
          if (c.stopToken !== undefined && r === 1 && step === 3) row[c.stopToken] = 1e4;
        });
        const { all, offset, rowStride } = layoutLogits(rows, c.vocab);
        const buffer = upload(gpu, all, false);
        const draws: RowDraw[] = done.map((d, r) => (d ? null : greedy ? 0 : gpuRngs[r].next()));
        const got = await sampler.sample({ buffer, type: 'float32', offset, rowStride }, draws);
        buffer.destroy();
        for (let r = 0; r < c.rows; r++) {
          if (done[r]) {
            if (got[r] !== -1) mismatches++;
            continue;
          }
          const before = cloneHistory(cpuHistories[r]);
          const want = sampleRowsReference(rows[r], { offset: 0, rowStride: c.vocab, vocab: c.vocab }, [cpuHistories[r]], c.settings, [draws[r]])[0];
          // sampleRowsReference recorded the id; the generation loop records output tokens only.
          cpuHistories[r] = before;
          // The same stream, consumed the same way: the CPU loop's own Prng gives the same draw.
          if (!greedy && cpuRngs[r].next() !== draws[r]) mismatches++;
          gpuTokens[r].push(got[r]);
          cpuTokens[r].push(want);
          if (got[r] !== want && !diverged[r]) {
            const info = boundaries(rows[r], before, c.settings);
            if (!greedy && (info.cutAmbiguous || nearBoundary(info.prefix, info.mass, draws[r] as number))) {
              skipped++;
              diverged[r] = true;
            } else mismatches++;
          }
          if (stop.has(want)) done[r] = true;
          else cpuHistories[r].push(want);
        }
      }
      const gpuHistories = await sampler.readHistories();
      let historyMismatches = 0;
      for (let r = 0; r < c.rows; r++) {
        if (diverged[r]) continue;
        const expected = cloneHistory(cpuHistories[r]);
        if (done[r]) expected.push(c.stopToken!);
        const g = gpuHistories[r];
        if (g.seen.length !== expected.seen.size || g.seen.some((t) => !expected.seen.has(t))) historyMismatches++;
        if (g.generated.size !== expected.generated.size || [...g.generated].some(([t, n]) => expected.generated.get(t) !== n)) historyMismatches++;
      }
      return { mismatches, skipped, historyMismatches, stopped: done.filter(Boolean).length, gpuTokens, cpuTokens };
    });
  } finally {
    sampler.destroy();
  }
}

/**
 * `readRows` (the CPU path's last-position logits readback) on a buffer of distinct 16- or 32-bit words: returns the
 * elements that differ from slicing the same words on the CPU, or `null` when `readRows` declined (past the end).
 */
async function readRowsCase(c: RowSlices & { bufferElements: number }) {
  const gpu = await device();
  const words = c.elementBytes === 2 ? Uint16Array.from({ length: c.bufferElements }, (_, i) => (i * 7919 + 3) & 0xffff) : Uint32Array.from({ length: c.bufferElements }, (_, i) => (i * 2654435761 + 1) >>> 0);
  // Storage buffers hold whole 4-byte words: pad an odd float16 count, as ORT's buffers are padded.
  const padded = new Uint8Array(Math.ceil(words.byteLength / 4) * 4);
  padded.set(new Uint8Array(words.buffer));
  const buffer = uploadBuffer(gpu, 'harness.readRows', padded);
  const bytes = await readRows(gpu, buffer, c);
  buffer.destroy();
  if (!bytes) return { declined: true, mismatches: 0, length: 0 };
  const got = c.elementBytes === 2 ? new Uint16Array(bytes) : new Uint32Array(bytes);
  let mismatches = 0;
  for (let r = 0; r < c.rows; r++)
    for (let i = 0; i < c.length; i++) if (got[r * c.length + i] !== words[c.offset + r * c.rowStride + i]) mismatches++;
  return { declined: false, mismatches, length: got.length };
}

window.harness.sampling = { samplingCase, sequenceCase, readRowsCase };
