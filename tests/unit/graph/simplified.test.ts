// onnxruntime-genai graphs fuse RMSNorm with the residual Add into SkipSimplifiedLayerNormalization. We derive
// such a graph from the fused GPT-2 fixture (dropping beta turns each node into the simplified op) and check the
// locator, steering (output 3 moves by v, normalised output follows) and the clamp's unfusing on it.
import { describe, expect, test } from 'vitest';
import { parseModel, serializeModel, locateResiduals } from '../../../src/lib/graph';
import { createDecoder } from '../../../src/lib/runtime/decoder';
import { readConfig } from '../../../src/lib/runtime/config';
import { readTensor } from '../../../src/lib/runtime/session';
import type { OrtApi } from '../../../src/lib/runtime/ort-types';
import { maxAbsDiff, ort, readFixture } from './fixtures';

const api = ort as unknown as OrtApi;
const f = readFixture('fixtures/tiny-gpt2-fused');
const config = readConfig(f.config);

function simplified(): Uint8Array {
  const model = parseModel(f.bytes);
  for (const node of model.graph!.node) {
    if (node.opType !== 'SkipLayerNormalization') continue;
    node.opType = 'SkipSimplifiedLayerNormalization';
    const [input, skip, gamma, , bias] = node.input;
    node.input = bias ? [input, skip, gamma, bias] : [input, skip, gamma];
  }
  return serializeModel(model);
}

describe('SkipSimplifiedLayerNormalization graphs', () => {
  const bytes = simplified();
  const ids = f.golden!.prompts[0].input_ids;
  const d = config.hidden;

  test('are located by their fused nodes', () => {
    const r = locateResiduals(parseModel(bytes).graph!, 2);
    expect(r.method).toBe('skip-layernorm');
  });

  test('zero steering and zero clamp leave logits unchanged; steering moves the residual by v', async () => {
    const plain = await createDecoder(api, bytes, config, { layers: [] });
    const inst = await createDecoder(api, bytes, config);
    const clamped = await createDecoder(api, bytes, config, { clampSlots: 2 });
    const a = await plain.step({ ids: [ids] }, false);
    const b = await inst.step({ ids: [ids], capture: [0] }, false);
    const c = await clamped.step({ ids: [ids], capture: [0] }, false);
    expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(a.lastLogits, c.lastLogits)).toBeLessThanOrEqual(1e-4);
    const h = await readTensor(b.captures.get(0)!);
    expect(maxAbsDiff(h, await readTensor(c.captures.get(0)!))).toBeLessThanOrEqual(1e-5);
    const v = Float32Array.from({ length: d }, (_, i) => Math.sin(i));
    for (const session of [inst, clamped]) {
      const s = await session.step({ ids: [ids], capture: [0], steer: new Map([[0, { data: v }]]) }, false);
      const moved = (await readTensor(s.captures.get(0)!)).map((x, i) => x - h[i]);
      expect(maxAbsDiff(moved, Float32Array.from({ length: h.length }, (_, i) => v[i % d]))).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(s.lastLogits, a.lastLogits)).toBeGreaterThan(1e-3);
    }
  });
});
