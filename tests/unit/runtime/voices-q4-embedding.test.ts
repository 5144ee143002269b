// The shipped q4 graphs' token embedding (models/recipe/export.py int8_embedding): int8 rows with one fp32 scale per
// row, read by Gather -> Cast and Gather(scales) -> Mul into the original embedding tensor, the tied lm_head left as
// its own MatMulNBits; the rows are the fp32 model.onnx's rounded to the nearest step.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseModel, type GraphProto } from '../../../src/lib/graph';
import type { TensorProto } from 'onnx-buf';
import { MODELS } from '../graph/fixtures';

const WTE = 'transformer.wte.weight';
const EMBEDDING_OUT = '/transformer/wte/Gather_output_0';
const base = `${MODELS}/voices`;
const present = existsSync(`${base}/onnx/model_q4.onnx`) && existsSync(`${base}/onnx/model.onnx`);

function folders(): string[] {
  const manifest = `${base}/variants.json`;
  const variants = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')).variants as { folder: string }[]) : [];
  return ['voices', ...variants.filter((v) => v.folder !== './').map((v) => v.folder.replace(/^\.\.\//, '').replace(/\/$/, ''))];
}

function graphOf(path: string): GraphProto {
  return parseModel(new Uint8Array(readFileSync(path))).graph!;
}

function init(graph: GraphProto, name: string): TensorProto {
  const t = graph.initializer.find((i) => i.name === name);
  if (!t) throw new Error(`no initializer ${name}`);
  return t;
}

const f32 = (t: TensorProto) => new Float32Array(t.rawData.slice().buffer);
const i8 = (t: TensorProto) => new Int8Array(t.rawData.slice().buffer);

describe.skipIf(!present)('q4 token embedding (int8 rows)', () => {
  for (const folder of folders())
    test(`${folder}: Gather(int8) -> Cast, Gather(scales) -> Mul into the embedding tensor; lm_head stays MatMulNBits`, () => {
      const g = graphOf(`${MODELS}/${folder}/onnx/model_q4.onnx`);
      const codes = init(g, `${WTE}_int8`);
      const scales = init(g, `${WTE}_scale`);
      expect(codes.dataType).toBe(3); // INT8
      expect(codes.dims.map(Number)).toEqual([4096, 256]);
      expect(scales.dataType).toBe(1); // FLOAT
      expect(scales.dims.map(Number)).toEqual([4096, 1]);
      expect(g.initializer.some((t) => t.name === WTE)).toBe(false);
      const byOut = new Map(g.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
      const mul = byOut.get(EMBEDDING_OUT)!;
      expect(mul.opType).toBe('Mul');
      const cast = byOut.get(mul.input[0])!;
      const scaleGather = byOut.get(mul.input[1])!;
      expect(cast.opType).toBe('Cast');
      expect(cast.attribute.find((a) => a.name === 'to')?.i).toBe(1n);
      const gather = byOut.get(cast.input[0])!;
      expect([gather.opType, ...gather.input]).toEqual(['Gather', `${WTE}_int8`, 'input_ids']);
      expect([scaleGather.opType, ...scaleGather.input]).toEqual(['Gather', `${WTE}_scale`, 'input_ids']);
      const lmHead = g.node.find((n) => n.name === '/lm_head/MatMul_Q4')!;
      expect([lmHead.opType, lmHead.domain, lmHead.input[1]]).toEqual(['MatMulNBits', 'com.microsoft', 'lm_head.weight_Q4']);
    });

  test('voices: each int8 row is the fp32 row of model.onnx rounded to steps of max|row| / 127', () => {
    const q = graphOf(`${base}/onnx/model_q4.onnx`);
    const w = f32(init(graphOf(`${base}/onnx/model.onnx`), WTE));
    const codes = i8(init(q, `${WTE}_int8`));
    const scales = f32(init(q, `${WTE}_scale`));
    const d = 256;
    let worst = 0;
    for (let r = 0; r < scales.length; r++) {
      let amax = 0;
      let cmax = 0;
      for (let j = 0; j < d; j++) {
        amax = Math.max(amax, Math.abs(w[r * d + j]));
        cmax = Math.max(cmax, Math.abs(codes[r * d + j]));
        worst = Math.max(worst, Math.abs(codes[r * d + j] * scales[r] - w[r * d + j]) / scales[r]);
      }
      expect(Math.abs(scales[r] - amax / 127)).toBeLessThanOrEqual(1e-6 * scales[r]);
      expect(cmax).toBe(127);
    }
    // round to nearest: at most half a step off (plus float32 rounding of the division)
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-4);
    expect(worst).toBeGreaterThan(0.4);
  });
});
