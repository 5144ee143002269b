// The GPU token sampler (gpu/sampling/tokenSampler.wgsl) against the CPU definition (`sampleToken`): one step on
// awkward vocabulary sizes and tie-heavy or continuous logits for every setting, many draws each; then whole
// generation loops with penalties and a stop token, histories included. The GPU sums float32 masses in parallel, the
// CPU float64 ones in order: a draw within 1e-5 (relative) of a cumulative boundary may differ and is skipped and
// counted; every other draw must choose the same id, and greedy / top-k = 1 always.
import { expect, test, type Page } from '@playwright/test';
import { HARNESS_PATH } from '../../harness/location.mjs';

async function open(page: Page) {
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sampling !== undefined);
}

const GREEDY = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0 };
const T = (temperature: number, more: Record<string, number> = {}) => ({ ...GREEDY, temperature, ...more });
const PENALTIES = { repetitionPenalty: 1.3, frequencyPenalty: 0.35 };

type Case = Record<string, unknown>;
const cases: [string, Case][] = [
  ['greedy, vocab 1', { vocab: 1, rows: 2, draws: 1, settings: GREEDY, levels: 3 }],
  ['greedy, vocab 7, tie-heavy (±0, −∞)', { vocab: 7, rows: 3, draws: 1, settings: GREEDY, levels: 9 }],
  ['greedy with penalties, vocab 4097, 4 levels', { vocab: 4097, rows: 3, draws: 1, settings: { ...GREEDY, ...PENALTIES }, levels: 4, historyIds: 300 }],
  ['temperature only, vocab 1', { vocab: 1, rows: 1, draws: 8, settings: T(0.7), levels: 0 }],
  ['temperature only, vocab 7, tie-heavy', { vocab: 7, rows: 3, draws: 32, settings: T(1), levels: 9 }],
  ['temperature 0.8, vocab 257, continuous', { vocab: 257, rows: 2, draws: 48, settings: T(0.8), levels: 0 }],
  ['top-k 1, vocab 257, tie-heavy', { vocab: 257, rows: 3, draws: 16, settings: T(1, { topK: 1 }), levels: 5 }],
  ['top-k 2, vocab 7, tie-heavy', { vocab: 7, rows: 3, draws: 32, settings: T(1.2, { topK: 2 }), levels: 9 }],
  ['top-k 40, vocab 4097, tie-heavy', { vocab: 4097, rows: 2, draws: 32, settings: T(1, { topK: 40 }), levels: 6 }],
  ['top-k > vocab, vocab 257', { vocab: 257, rows: 1, draws: 32, settings: T(1, { topK: 1000 }), levels: 0 }],
  ['top-p 0.5, vocab 4097, continuous', { vocab: 4097, rows: 2, draws: 32, settings: T(1, { topP: 0.5 }), levels: 0 }],
  ['top-p 0.95, vocab 257, tie-heavy', { vocab: 257, rows: 3, draws: 32, settings: T(0.9, { topP: 0.95 }), levels: 7 }],
  ['top-p 1, vocab 7', { vocab: 7, rows: 2, draws: 32, settings: T(1, { topP: 1 }), levels: 0 }],
  ['top-k 40 + top-p 0.95 + penalties, vocab 50257', { vocab: 50257, rows: 2, draws: 12, settings: T(0.8, { topK: 40, topP: 0.95, ...PENALTIES }), levels: 0, historyIds: 400 }],
  ['top-p 0.9 + penalties, vocab 50257, tie-heavy', { vocab: 50257, rows: 1, draws: 12, settings: T(1, { topP: 0.9, ...PENALTIES }), levels: 8, historyIds: 400 }],
  ['Gemma-size vocabulary 262,144: greedy with penalties', { vocab: 262144, rows: 1, draws: 1, settings: { ...GREEDY, ...PENALTIES }, levels: 0, historyIds: 500 }],
  ['Gemma-size vocabulary 262,144: top-k 64 + top-p 0.95', { vocab: 262144, rows: 1, draws: 6, settings: T(1, { topK: 64, topP: 0.95 }), levels: 0 }],
  ['every logit −∞ (NaN probabilities on the CPU: last kept), top-k 3', { vocab: 257, rows: 1, draws: 4, settings: T(1, { topK: 3 }), levels: 'infinite' }],
  ['float16 logits, odd offsets, penalties, top-k 2', { vocab: 7, rows: 3, draws: 16, settings: T(1, { topK: 2, ...PENALTIES }), levels: 9, f16: true, historyIds: 3 }],
  ['logits copied when the span exceeds a binding, top-p 0.5', { vocab: 257, rows: 3, draws: 8, settings: T(1, { topP: 0.5 }), levels: 0, maxBindingBytes: 1024 }],
];

test.describe('GPU token sampler vs sampleToken', () => {
  test.beforeEach(async ({ page }) => open(page));
  for (const [name, c] of cases)
    test(name, async ({ page }) => {
      const r = await page.evaluate((c) => (window as any).harness.sampling.samplingCase(c), c);
      console.log(`${name}: ${r.batch} draws, ${r.skipped + r.cutSkipped} skipped (${r.nearDraws} near a boundary), ${r.distinctTokens} distinct ids, ${r.gpuMs.toFixed(0)} ms`);
      expect(r.details).toEqual([]);
      expect(r.mismatches).toBe(0);
      expect(r.penaltyMismatches).toBe(0);
      expect(r.skipped + r.cutSkipped).toBeLessThanOrEqual(Math.max(1, r.batch * 0.02));
    });
});

// Whole loops as runtime/generate.ts runs them: per-row streams, penalties growing with the output, a row stopping.
const sequences: [string, Case][] = [
  ['greedy with penalties, 3 rows, vocab 257, a row stops', { vocab: 257, rows: 3, steps: 10, settings: { ...GREEDY, ...PENALTIES }, seed: 3, stopToken: 5 }],
  ['top-k 40 + top-p 0.95 + penalties, 2 rows, vocab 4097', { vocab: 4097, rows: 2, steps: 10, settings: T(0.9, { topK: 40, topP: 0.95, ...PENALTIES }), seed: 4, stopToken: 7 }],
  ['temperature + penalties, 1 row, vocab 7', { vocab: 7, rows: 1, steps: 12, settings: T(1.1, PENALTIES), seed: 5 }],
];

test.describe('GPU token sampler over a generation loop', () => {
  test.beforeEach(async ({ page }) => open(page));
  for (const [name, c] of sequences)
    test(name, async ({ page }) => {
      const r = await page.evaluate((c) => (window as any).harness.sampling.sequenceCase(c), c);
      console.log(`${name}: ${r.skipped} rows left out after a boundary draw; GPU ${JSON.stringify(r.gpuTokens)}`);
      expect(r.mismatches).toBe(0);
      expect(r.historyMismatches).toBe(0);
      expect(r.skipped).toBeLessThanOrEqual(1);
      if ((c as { stopToken?: number }).stopToken !== undefined && (c as { rows: number }).rows > 1) expect(r.stopped).toBeGreaterThanOrEqual(1);
      if ((c.settings as { temperature: number }).temperature === 0) expect(r.gpuTokens).toEqual(r.cpuTokens);
    });
});

// The CPU sampling path's readback on WebGPU: only each row's last-position logits leave the GPU (`readRows`), with
// float16 slices that start or end mid-word, and a slice whose widened copy would pass the buffer's end declined.
test.describe('last-position logits readback (readRows)', () => {
  test.beforeEach(async ({ page }) => open(page));
  const readCases: [string, Record<string, number>][] = [
    ['float32, 3 rows of 5 positions × vocab 257: the last position of each', { elementBytes: 4, rows: 3, offset: 4 * 257, rowStride: 5 * 257, length: 257, bufferElements: 15 * 257 }],
    ['float16, odd vocab 4097: slices start mid-word in every other row', { elementBytes: 2, rows: 3, offset: 2 * 4097, rowStride: 3 * 4097, length: 4097, bufferElements: 9 * 4097 }],
    ['float16, one element at an odd offset', { elementBytes: 2, rows: 1, offset: 5, rowStride: 0, length: 1, bufferElements: 11 }],
    ['float16, vocab 7, 2 rows, the last slice ending mid-word at the end of the data', { elementBytes: 2, rows: 2, offset: 6, rowStride: 14, length: 7, bufferElements: 27 }],
  ];
  for (const [name, c] of readCases) {
    test(name, async ({ page }) => {
      const r = await page.evaluate((c) => (window as any).harness.sampling.readRowsCase(c), c);
      expect(r.declined).toBe(false);
      expect(r.length).toBe(c.rows * c.length);
      expect(r.mismatches).toBe(0);
    });
  }
  test('a slice past the buffer end is declined, not read short', async ({ page }) => {
    const r = await page.evaluate((c) => (window as any).harness.sampling.readRowsCase(c), { elementBytes: 4, rows: 2, offset: 16, rowStride: 10, length: 11, bufferElements: 32 });
    expect(r.declined).toBe(true);
  });
});
