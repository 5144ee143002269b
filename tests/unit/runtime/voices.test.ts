// The embedded Voices model on onnxruntime-node (skipped until it is built): zero-steering parity, KV cache vs
// recomputation, and the recipe's golden residuals at every block when golden.json is there.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createDecoder } from '../../../src/lib/runtime/decoder';
import { readConfig } from '../../../src/lib/runtime/config';
import { generate } from '../../../src/lib/runtime/generate';
import { readTensor } from '../../../src/lib/runtime/session';
import { GREEDY } from '../../../src/lib/runtime/sampling';
import type { OrtApi } from '../../../src/lib/runtime/ort-types';
import { MODELS, maxAbsDiff, ort } from '../graph/fixtures';

const api = ort as unknown as OrtApi;
const dir = `${MODELS}/voices`;
const present = existsSync(`${dir}/onnx/model.onnx`) && existsSync(`${dir}/config.json`);

describe.skipIf(!present)('voices (onnxruntime-node)', () => {
  const bytes = () => new Uint8Array(readFileSync(`${dir}/onnx/model.onnx`));
  const config = () => readConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
  const prompt = [84, 257, 266, 101, 289, 358, 280, 100, 347, 337];

  test('zero steering = original graph (≤1e-5); KV-cache greedy = recomputation for 64 tokens', async () => {
    const c = config();
    const plain = await createDecoder(api, bytes(), c, { layers: [] });
    const inst = await createDecoder(api, bytes(), c);
    const a = await plain.step({ ids: [prompt] }, false);
    const b = await inst.step({ ids: [prompt] }, false);
    expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThanOrEqual(1e-5);
    const common = { promptIds: prompt, maxNewTokens: 64, sampling: GREEDY, seed: 0, contextLength: c.contextLength };
    const cached = await generate(inst, common);
    const full = await generate(inst, { ...common, useCache: false });
    expect(cached.rows[0].tokens).toEqual(full.rows[0].tokens);
  });

  test.skipIf(!existsSync(`${dir}/golden.json`))('captured residuals = golden at every block (≤1e-3)', async () => {
    const c = config();
    const golden = JSON.parse(readFileSync(`${dir}/golden.json`, 'utf8'));
    const inst = await createDecoder(api, bytes(), c);
    const layers = Array.from({ length: c.nLayer }, (_, i) => i);
    for (const p of golden.prompts) {
      const out = await inst.step({ ids: [p.ids], capture: layers }, false);
      for (const l of layers) {
        const r = await readTensor(out.captures.get(l)!);
        for (const [pos, vec] of Object.entries(p.residual[String(l)]) as [string, number[]][])
          expect(maxAbsDiff(r.subarray(Number(pos) * c.hidden, (Number(pos) + 1) * c.hidden), vec)).toBeLessThanOrEqual(1e-3);
      }
      const g = await generate(inst, { promptIds: p.ids, maxNewTokens: p.greedy.unsteered.length, sampling: GREEDY, seed: 0, contextLength: c.contextLength });
      expect(g.rows[0].tokens).toEqual(p.greedy.unsteered);
    }
  });
});
