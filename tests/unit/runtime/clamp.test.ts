// The in-graph latent clamp equals its TypeScript reference h + Σ mask·(target − a(h))·dec.
import { expect, test } from 'vitest';
import { GREEDY } from '../../../src/lib/runtime/sampling';
import { generate } from '../../../src/lib/runtime/generate';
import { createDecoder } from '../../../src/lib/runtime/decoder';
import { readConfig } from '../../../src/lib/runtime/config';
import { readTensor } from '../../../src/lib/runtime/session';
import type { OrtApi } from '../../../src/lib/runtime/ort-types';
import { maxAbsDiff, ort, readFixture } from '../graph/fixtures';

test.each(['fixtures/tiny-gpt2', 'fixtures/tiny-gpt2-fused', 'fixtures/tiny-llama'])('%s: clamp slots set latents to targets per row, matching the TypeScript reference', async (name) => {
  const f = readFixture(name);
  const config = readConfig(f.config);
  const d = config.hidden, n = 3, L = 1;
  const s = await createDecoder(ort as unknown as OrtApi, f.bytes, config, { clampSlots: n });
  const ids = f.golden!.prompts[0].input_ids;
  const T = ids.length;
  const rnd = (k: number, seed: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);
  const enc = rnd(n * d, 1), dec = rnd(n * d, 2), bias = rnd(n, 3), threshold = Float32Array.from([0, 0.1, -10]);
  const target = Float32Array.from([0, 0, 0, 5, 0, -1]); // row 0: nothing active; row 1: three slots
  const mask = Float32Array.from([0, 0, 0, 1, 1, 1]);
  const plain = await s.step({ ids: [ids, ids], capture: [L] }, false);
  const h = await readTensor(plain.captures.get(L)!);
  // With no clamp active the graph (unfused where needed) still matches the golden values.
  expect(maxAbsDiff(h.subarray(0, T * d), f.golden!.prompts[0].residuals[String(L)].flat())).toBeLessThanOrEqual(1e-3);
  expect(maxAbsDiff(plain.lastLogits.subarray(0, config.vocab), f.golden!.prompts[0].logits_last)).toBeLessThanOrEqual(1e-3);
  const p = f.golden!.prompts.find((x) => x.greedy_64)!;
  const greedy = await generate(s, { promptIds: p.input_ids, maxNewTokens: 64, sampling: GREEDY, seed: 0, contextLength: config.contextLength });
  expect(greedy.rows[0].tokens).toEqual(p.greedy_64);
  const out = await s.step({ ids: [ids, ids], capture: [L], clamp: new Map([[L, { enc, dec, bias, threshold, target, mask }]]) }, false);
  const got = await readTensor(out.captures.get(L)!);
  const expected = new Float32Array(h);
  for (let r = 0; r < 2; r++)
    for (let t = 0; t < T; t++) {
      const off = (r * T + t) * d;
      for (let i = 0; i < n; i++) {
        let pre = bias[i];
        for (let k = 0; k < d; k++) pre += h[off + k] * enc[i * d + k];
        const act = pre > threshold[i] ? Math.max(pre, 0) : 0;
        const delta = mask[r * n + i] * (target[r * n + i] - act);
        for (let k = 0; k < d; k++) expected[off + k] += delta * dec[i * d + k];
      }
    }
  expect(maxAbsDiff(got.subarray(0, T * d), h.subarray(0, T * d))).toBeLessThanOrEqual(1e-6);
  expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-4);
  expect(maxAbsDiff(got, h)).toBeGreaterThan(0.1);
});
