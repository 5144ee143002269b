// The instrumented graph and the generation loop on onnxruntime-node (CPU): exact comparisons against the
// un-instrumented graph and the PyTorch golden values, on GPT-2, fused GPT-2 and Llama-style fixtures.
import { describe, expect, test } from 'vitest';
import { createDecoder } from '../../../src/lib/runtime/decoder';
import { readConfig } from '../../../src/lib/runtime/config';
import { generate } from '../../../src/lib/runtime/generate';
import { readTensor } from '../../../src/lib/runtime/session';
import { GREEDY } from '../../../src/lib/runtime/sampling';
import { ContextOverflowError } from '../../../src/lib/runtime/errors';
import type { OrtApi } from '../../../src/lib/runtime/ort-types';
import { maxAbsDiff, ort, readFixture } from '../graph/fixtures';

const api = ort as unknown as OrtApi;
const FIXTURES = ['fixtures/tiny-gpt2', 'fixtures/tiny-gpt2-fused', 'fixtures/tiny-llama'];

function randomVector(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * 2 * scale;
  });
}

describe.each(FIXTURES)('%s', (name) => {
  const f = readFixture(name);
  const golden = f.golden!;
  const config = readConfig(f.config);
  const prompt = golden.prompts[0];
  const d = config.hidden;

  test('zero steering leaves logits equal to the original graph (≤1e-5)', async () => {
    const plain = await createDecoder(api, f.bytes, config, { layers: [] });
    const inst = await createDecoder(api, f.bytes, config);
    for (const p of golden.prompts) {
      const a = await plain.step({ ids: [p.input_ids] }, false);
      const b = await inst.step({ ids: [p.input_ids] }, false);
      expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(b.lastLogits, p.logits_last)).toBeLessThanOrEqual(1e-3);
    }
  });

  test('captured residuals equal the PyTorch golden values at every layer (≤1e-3)', async () => {
    const inst = await createDecoder(api, f.bytes, config);
    const layers = Array.from({ length: config.nLayer }, (_, i) => i);
    for (const p of golden.prompts) {
      const out = await inst.step({ ids: [p.input_ids], capture: layers }, false);
      for (const l of layers) {
        const got = await readTensor(out.captures.get(l)!);
        expect(out.captures.get(l)!.dims).toEqual([1, p.input_ids.length, d]);
        expect(maxAbsDiff(got, p.residuals[String(l)].flat())).toBeLessThanOrEqual(1e-3);
      }
    }
  });

  test('steering by v at L moves the captured residual at L by exactly v; batch row 0 equals the unsteered run', async () => {
    const inst = await createDecoder(api, f.bytes, config);
    const ids = prompt.input_ids;
    const positions = ids.length;
    for (let L = 0; L < config.nLayer; L++) {
      const v = randomVector(d, 17 + L, 2);
      const base = await inst.step({ ids: [ids], capture: [L] }, false);
      const baseResid = await readTensor(base.captures.get(L)!);
      const steer = new Float32Array(2 * d);
      steer.set(v, d); // row 0 zero, row 1 v
      const both = await inst.step({ ids: [ids, ids], capture: [L], steer: new Map([[L, { data: steer }]]) }, false);
      const resid = await readTensor(both.captures.get(L)!);
      const row0 = resid.subarray(0, positions * d);
      const row1 = resid.subarray(positions * d);
      expect(maxAbsDiff(row0, baseResid)).toBeLessThanOrEqual(1e-6);
      const diff = row1.map((x, i) => x - baseResid[i]);
      const expected = Float32Array.from({ length: positions * d }, (_, i) => v[i % d]);
      expect(maxAbsDiff(diff, expected)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(both.lastLogits.subarray(0, config.vocab), base.lastLogits)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(both.lastLogits.subarray(config.vocab), base.lastLogits)).toBeGreaterThan(1e-3);
    }
  });

  test('KV-cache greedy equals full recomputation and the golden greedy tokens (64 new tokens)', async () => {
    const inst = await createDecoder(api, f.bytes, config);
    const p = golden.prompts.find((x) => x.greedy_64)!;
    const common = { promptIds: p.input_ids, maxNewTokens: 64, sampling: GREEDY, seed: 0, contextLength: config.contextLength };
    const cached = await generate(inst, common);
    const full = await generate(inst, { ...common, useCache: false });
    expect(cached.rows[0].tokens).toEqual(full.rows[0].tokens);
    expect(cached.rows[0].tokens).toEqual(p.greedy_64);
  });

  test('batched (baseline, steered) generation: row 0 equals an unsteered single-row run', async () => {
    const inst = await createDecoder(api, f.bytes, config);
    const sampling = { temperature: 0.9, topK: 40, topP: 0.95, repetitionPenalty: 1.1, frequencyPenalty: 0.1 };
    const common = { promptIds: prompt.input_ids, maxNewTokens: 24, sampling, seed: 7, contextLength: config.contextLength };
    const single = await generate(inst, common);
    const vectors = new Float32Array(2 * d);
    vectors.set(randomVector(d, 3, 4), d);
    const captured: number[][] = [];
    const batch = await generate(inst, {
      ...common,
      rows: 2,
      capture: [0],
      steering: new Map([[0, { vectors, positions: 'all' as const }]]),
      onStep: async (e) => {
        const c = e.captures.get(0)!;
        captured.push([...c.dims]);
        expect((await c.read()).length).toBe(c.dims.reduce((a, b) => a * b, 1));
      },
    });
    expect(batch.rows[0].tokens).toEqual(single.rows[0].tokens);
    expect(batch.rows[1].tokens).not.toEqual(single.rows[0].tokens);
    expect(captured[0]).toEqual([2, prompt.input_ids.length, d]);
    expect(captured[1]).toEqual([2, 1, d]);
  });
});

describe('generation loop on tiny-gpt2', () => {
  const f = readFixture('fixtures/tiny-gpt2');
  const config = readConfig(f.config);
  const prompt = f.golden!.prompts[0].input_ids;
  const sampling = { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0 };
  const common = { promptIds: prompt, maxNewTokens: 32, sampling, contextLength: config.contextLength };

  test('same seed gives the same tokens; a different seed different ones', async () => {
    const s = await createDecoder(api, f.bytes, config);
    const a = await generate(s, { ...common, seed: 1 });
    const b = await generate(s, { ...common, seed: 1 });
    const c = await generate(s, { ...common, seed: 2 });
    expect(a.rows[0].tokens).toEqual(b.rows[0].tokens);
    expect(a.rows[0].tokens).not.toEqual(c.rows[0].tokens);
  });

  test('stop tokens end a row; cancel ends all rows; prompt past the context is a typed error', async () => {
    const s = await createDecoder(api, f.bytes, config);
    const greedy = await generate(s, { ...common, sampling: GREEDY, seed: 0 });
    const stopAt = greedy.rows[0].tokens[5];
    const stopped = await generate(s, { ...common, sampling: GREEDY, seed: 0, stopTokens: [stopAt] });
    expect(stopped.rows[0].stopReason).toBe('stop');
    expect(stopped.rows[0].tokens).toEqual(greedy.rows[0].tokens.slice(0, greedy.rows[0].tokens.indexOf(stopAt)));
    const controller = new AbortController();
    const cancelled = await generate(s, {
      ...common,
      seed: 0,
      signal: controller.signal,
      onStep: (e) => {
        if (e.step === 3) controller.abort();
      },
    });
    expect(cancelled.rows[0].stopReason).toBe('cancelled');
    expect(cancelled.rows[0].tokens.length).toBe(4);
    const long = Array.from({ length: config.contextLength + 1 }, () => 5);
    await expect(generate(s, { ...common, promptIds: long, seed: 0 })).rejects.toThrow(ContextOverflowError);
    const wrong = new Map([[0, { vectors: new Float32Array(5), positions: 'all' as const }]]);
    await expect(generate(s, { ...common, seed: 0, steering: wrong })).rejects.toThrow(/needs 1 rows × 64 floats/);
    const again = await generate(s, { ...common, sampling: GREEDY, seed: 0 });
    expect(again.rows[0].tokens).toEqual(greedy.rows[0].tokens);
  });

  test("positions 'generated' leaves the prompt unsteered and steers every generated position", async () => {
    const s = await createDecoder(api, f.bytes, config);
    const d = config.hidden;
    const v = Float32Array.from({ length: d }, (_, i) => Math.cos(i) * 3);
    const run = async (steering?: Map<number, { vectors: Float32Array; positions: 'all' | 'generated' }>) => {
      const captured: Float32Array[] = [];
      const r = await generate(s, {
        ...common,
        maxNewTokens: 6,
        sampling: GREEDY,
        seed: 0,
        capture: [1],
        steering,
        onStep: async (e) => void captured.push(await e.captures.get(1)!.read()),
      });
      return { tokens: r.rows[0].tokens, captured };
    };
    const plain = await run();
    const generated = await run(new Map([[1, { vectors: v, positions: 'generated' as const }]]));
    const all = await run(new Map([[1, { vectors: v, positions: 'all' as const }]]));
    expect(maxAbsDiff(generated.captured[0], plain.captured[0])).toBe(0);
    expect(generated.tokens[0]).toBe(plain.tokens[0]);
    expect(maxAbsDiff(all.captured[0].map((x, i) => x - plain.captured[0][i]), Float32Array.from({ length: all.captured[0].length }, (_, i) => v[i % d]))).toBeLessThanOrEqual(1e-4);
    expect(generated.tokens).not.toEqual(plain.tokens);
  });

  test('generation stops at the context window', async () => {
    const s = await createDecoder(api, f.bytes, config);
    const r = await generate(s, { ...common, maxNewTokens: 1000, seed: 0 });
    expect(prompt.length + r.rows[0].tokens.length).toBe(config.contextLength + 1);
  });
});
