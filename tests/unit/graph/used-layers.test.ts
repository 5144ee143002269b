// Instrument only what a session uses (issue 13): the playground opens the model instrumented at the SAE's layer
// with capture and steering only (clamp slots come when a generation first clamps). The graph then gains exactly
// those inputs and outputs, the layers nobody uses gain none, and the used layer's residual and the logits equal
// the golden values and the old fully instrumented graph (every layer, 4 clamp slots each).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { describeIO, instrumentModel, parseModel } from '../../../src/lib/graph';
import { createDecoder } from '../../../src/lib/runtime/decoder';
import { readConfig } from '../../../src/lib/runtime/config';
import { readTensor } from '../../../src/lib/runtime/session';
import type { OrtApi } from '../../../src/lib/runtime/ort-types';
import { MODELS, maxAbsDiff, ort } from './fixtures';

const api = ort as unknown as OrtApi;
const dir = `${MODELS}/voices`;
const present = existsSync(`${dir}/onnx/model_q4.onnx`) && existsSync(`${dir}/golden.json`);

describe.skipIf(!present)('Voices instrumented at the SAE layer only', () => {
  const config = readConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
  const golden = JSON.parse(readFileSync(`${dir}/golden.json`, 'utf8'));
  const layer: number = golden.layer;
  const bytes = (file: string) => new Uint8Array(readFileSync(`${dir}/onnx/${file}`));
  const names = (file: string, layers: number[], clampSlots: number) => {
    const model = parseModel(bytes(file));
    const before = describeIO(model.graph!);
    if (layers.length) instrumentModel(model, { layers, hidden: config.hidden, nLayer: config.nLayer, clampSlots });
    const after = describeIO(model.graph!);
    const added = (a: { name: string }[], b: { name: string }[]) => a.map((x) => x.name).filter((n) => !b.some((y) => y.name === n)).sort();
    return { inputs: added(after.inputs, before.inputs), outputs: added(after.outputs, before.outputs) };
  };

  test('the used layer gains one steering input and one capture output; unused layers gain nothing', () => {
    for (const file of ['model.onnx', 'model_q4.onnx']) {
      expect(names(file, [layer], 0)).toEqual({ inputs: [`steer.${layer}`], outputs: [`residual.${layer}`] });
      // A clamping session adds the six clamp inputs, at that layer only.
      const clamp = ['bias', 'dec', 'enc', 'mask', 'target', 'threshold'].map((k) => `clamp.${layer}.${k}`);
      expect(names(file, [layer], 4)).toEqual({ inputs: [...clamp, `steer.${layer}`].sort(), outputs: [`residual.${layer}`] });
    }
    // What the playground graph used to carry: every layer, 4 clamp slots each (7 inputs and 1 output per layer).
    const old = names('model_q4.onnx', [0, 1, 2, 3], 4);
    expect([old.inputs.length, old.outputs.length]).toEqual([28, 4]);
  });

  test('fp32: the used layer’s residual equals the golden values (≤1e-3) and the logits the original graph’s (≤1e-5)', async () => {
    const plain = await createDecoder(api, bytes('model.onnx'), config, { layers: [] });
    const used = await createDecoder(api, bytes('model.onnx'), config, { layers: [layer], clampSlots: 0 });
    expect(used.shape.instrumented).toEqual([layer]);
    for (const p of golden.prompts) {
      const a = await plain.step({ ids: [p.ids] }, false);
      const b = await used.step({ ids: [p.ids], capture: [layer] }, false);
      expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThanOrEqual(1e-5);
      const r = await readTensor(b.captures.get(layer)!);
      const positions = Object.entries(p.residual[String(layer)]) as [string, number[]][];
      expect(positions.length).toBeGreaterThan(0);
      for (const [pos, vec] of positions)
        expect(maxAbsDiff(r.subarray(Number(pos) * config.hidden, (Number(pos) + 1) * config.hidden), vec)).toBeLessThanOrEqual(1e-3);
    }
  });

  test('q4 (shipped): residual and logits equal the old all-layers graph with clamp slots', async () => {
    const old = await createDecoder(api, bytes('model_q4.onnx'), config, { clampSlots: 4 });
    const used = await createDecoder(api, bytes('model_q4.onnx'), config, { layers: [layer], clampSlots: 0 });
    const steer = Float32Array.from({ length: config.hidden }, (_, i) => Math.sin(i) * 2);
    for (const p of golden.prompts.slice(0, 2))
      for (const feed of [undefined, new Map([[layer, { data: steer }]])]) {
        const a = await old.step({ ids: [p.ids], capture: [layer], steer: feed }, false);
        const b = await used.step({ ids: [p.ids], capture: [layer], steer: feed }, false);
        expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(await readTensor(a.captures.get(layer)!), await readTensor(b.captures.get(layer)!))).toBeLessThanOrEqual(1e-5);
      }
  });
});
