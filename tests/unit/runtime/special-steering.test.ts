// Steering leaves special-token positions (BOS, chat markers) alone unless asked: through the real generation loop
// on the tiny GPT-2 fixture, the prefill's steered capture equals the unsteered one at a BOS position and differs by
// exactly the steering vector everywhere else; decode steps feeding a special token are not steered either. Clamps
// follow the same rule.
import { expect, test } from 'vitest';
import { GREEDY } from '../../../src/lib/runtime/sampling';
import { generate, maskClamp, maskSteering } from '../../../src/lib/runtime/generate';
import { createDecoder } from '../../../src/lib/runtime/decoder';
import { readConfig } from '../../../src/lib/runtime/config';
import type { OrtApi } from '../../../src/lib/runtime/ort-types';
import { unsteeredSpecialIds } from '../../../src/lib/engine/specialTokens';
import { maxAbsDiff, ort, readFixture } from '../graph/fixtures';

test('maskSteering zeroes exactly the special positions, per row', () => {
  const v = Float32Array.from([1, 2, 10, 20]); // rows 0 and 1, hidden 2
  const out = maskSteering(v, [[9, 5, 9], [5, 5, 9]], new Set([9]), 2)!;
  expect(Array.from(out)).toEqual([0, 0, 1, 2, 0, 0, 10, 20, 10, 20, 0, 0]);
  expect(maskSteering(v, [[5, 6]], new Set([9]), 2)).toBeUndefined();
});

test('unsteeredSpecialIds: masking only where a special token can be fed', () => {
  const special = new Set([7]);
  expect(unsteeredSpecialIds(special, [1, 2], [7])).toBeUndefined(); // only EOS, not in the prompt
  expect(unsteeredSpecialIds(special, [7, 1, 2], [7])).toBe(special); // a BOS in the prompt
  expect(unsteeredSpecialIds(new Set([7, 8]), [1, 2], [7])).toBeDefined(); // a chat marker may be generated
});

test('tiny GPT-2: a BOS position is not steered in the prefill; the other positions get the vector exactly', async () => {
  const f = readFixture('fixtures/tiny-gpt2');
  const config = readConfig(f.config);
  const d = config.hidden;
  const L = 1;
  const s = await createDecoder(ort as unknown as OrtApi, f.bytes, config, {});
  const bos = config.bosTokenId!;
  const ids = [bos, ...f.golden!.prompts[0].input_ids];
  const T = ids.length;
  const vector = Float32Array.from({ length: d }, (_, i) => Math.cos(i) * 0.7);
  const captured = async (steer: boolean, special: boolean) => {
    let h: Float32Array | undefined;
    await generate(s, {
      promptIds: ids,
      maxNewTokens: 1,
      sampling: GREEDY,
      seed: 0,
      contextLength: config.contextLength,
      capture: [L],
      steering: steer ? new Map([[L, { vectors: vector, positions: 'all' as const }]]) : undefined,
      unsteeredIds: special ? undefined : new Set([bos]),
      onStep: async (e) => {
        h = await e.captures.get(L)!.read();
      },
    });
    return h!;
  };
  const plain = await captured(false, false);
  const masked = await captured(true, false);
  const all = await captured(true, true);
  // The capture of layer L is taken after L's steering Add, before any later block mixes positions: the masked run
  // is plain + vector at every position but the BOS, which stays as it was; steering specials too moves it as well.
  expect(T).toBeGreaterThan(2);
  const plus = (p: number) => plain.subarray(p * d, (p + 1) * d).map((v, i) => v + vector[i]);
  expect(maxAbsDiff(masked.subarray(0, d), plain.subarray(0, d))).toBeLessThanOrEqual(1e-6);
  expect(maxAbsDiff(all.subarray(0, d), plus(0))).toBeLessThanOrEqual(1e-4);
  for (let p = 1; p < T; p++) {
    expect(maxAbsDiff(masked.subarray(p * d, (p + 1) * d), plus(p))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(all.subarray(p * d, (p + 1) * d), plus(p))).toBeLessThanOrEqual(1e-4);
  }
});

test('maskClamp zeroes the mask at special positions and keeps the targets, per row', () => {
  const target = Float32Array.from([1, 2, 3, 4]); // rows 0 and 1, 2 slots
  const mask = Float32Array.from([1, 0, 1, 1]);
  const out = maskClamp(target, mask, [[9, 5], [5, 9]], new Set([9]))!;
  expect(Array.from(out.target)).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
  expect(Array.from(out.mask)).toEqual([0, 0, 1, 0, 1, 1, 0, 0]);
  expect(maskClamp(target, mask, [[5], [6]], new Set([9]))).toBeUndefined();
});

test('tiny GPT-2: a clamp leaves the BOS position alone in the prefill and clamps every other position', async () => {
  const f = readFixture('fixtures/tiny-gpt2');
  const config = readConfig(f.config);
  const d = config.hidden, n = 2, L = 1;
  const s = await createDecoder(ort as unknown as OrtApi, f.bytes, config, { clampSlots: n });
  const bos = config.bosTokenId!;
  const ids = [bos, ...f.golden!.prompts[0].input_ids];
  const T = ids.length;
  const rnd = (k: number, seed: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);
  // Bias 10 keeps both latents open at every position, so the clamp moves every position it is allowed to.
  const enc = rnd(n * d, 1), dec = rnd(n * d, 2), bias = Float32Array.from([10, 10]), threshold = new Float32Array(n);
  const target = Float32Array.from([3, -2]), mask = Float32Array.from([1, 1]);
  const captured = async (clamp: boolean, special: boolean) => {
    let h: Float32Array | undefined;
    await generate(s, {
      promptIds: ids,
      maxNewTokens: 1,
      sampling: GREEDY,
      seed: 0,
      contextLength: config.contextLength,
      capture: [L],
      clamp: clamp ? new Map([[L, { enc, dec, bias, threshold, target, mask, positions: 'all' as const }]]) : undefined,
      unsteeredIds: special ? undefined : new Set([bos]),
      onStep: async (e) => {
        h = await e.captures.get(L)!.read();
      },
    });
    return h!;
  };
  const plain = await captured(false, false);
  const masked = await captured(true, false);
  const all = await captured(true, true);
  // TypeScript reference of the in-graph clamp at one position: h + Σ mask·(target − a(h))·dec.
  const clamped = (p: number) => {
    const h = plain.subarray(p * d, (p + 1) * d);
    const out = Float32Array.from(h);
    for (let i = 0; i < n; i++) {
      let pre = bias[i];
      for (let k = 0; k < d; k++) pre += h[k] * enc[i * d + k];
      const act = pre > threshold[i] ? Math.max(pre, 0) : 0;
      for (let k = 0; k < d; k++) out[k] += (target[i] - act) * dec[i * d + k];
    }
    return out;
  };
  expect(T).toBeGreaterThan(2);
  expect(maxAbsDiff(masked.subarray(0, d), plain.subarray(0, d))).toBeLessThanOrEqual(1e-6);
  expect(maxAbsDiff(all.subarray(0, d), clamped(0))).toBeLessThanOrEqual(1e-4);
  expect(maxAbsDiff(all.subarray(0, d), plain.subarray(0, d))).toBeGreaterThan(0.1);
  for (let p = 1; p < T; p++) {
    expect(maxAbsDiff(masked.subarray(p * d, (p + 1) * d), clamped(p))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(masked.subarray(p * d, (p + 1) * d), plain.subarray(p * d, (p + 1) * d))).toBeGreaterThan(0.1);
    expect(maxAbsDiff(all.subarray(p * d, (p + 1) * d), clamped(p))).toBeLessThanOrEqual(1e-4);
  }
});
