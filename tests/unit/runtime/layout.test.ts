// Export layouts in onnxruntime-node (CPU): what readDecoderLayout reads from each published layout, the typed
// errors for graphs it cannot drive, and the float16 graph's instrumentation (steering cast down, capture cast up,
// clamp in float32) against exact references.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { describeIO, parseModel } from '../../../src/lib/graph';
import { createDecoder } from '../../../src/lib/runtime/decoder';
import { readConfig } from '../../../src/lib/runtime/config';
import { generate } from '../../../src/lib/runtime/generate';
import { readDecoderLayout, halfsToFloats } from '../../../src/lib/runtime/layout';
import { readTensor } from '../../../src/lib/runtime/session';
import { GREEDY } from '../../../src/lib/runtime/sampling';
import type { OrtApi } from '../../../src/lib/runtime/ort-types';
import { MODELS, maxAbsDiff, ort } from '../graph/fixtures';

const api = ort as unknown as OrtApi;
const dir = (v: string) => `${MODELS}/fixtures/exports/${v}`;
const bytes = (v: string, file = 'model.onnx') => new Uint8Array(readFileSync(`${dir(v)}/onnx/${file}`));
const layoutOf = (v: string, file?: string) => readDecoderLayout(describeIO(parseModel(bytes(v, file)).graph!), file);

test('each published layout is read for what it declares', () => {
  expect(layoutOf('float-mask')).toMatchObject({ inputIds: 'int64', attentionMask: 'float32', positionIds: 'int64', kvType: 'float32' });
  expect(layoutOf('no-mask').attentionMask).toBeUndefined();
  expect(layoutOf('kv-names').kv.map((p) => `${p.past}>${p.present}`)).toEqual([
    'past_key_0>present_key_0', 'past_value_0>present_value_0', 'past_key_1>present_key_1', 'past_value_1>present_value_1',
  ]);
  expect(layoutOf('logits-to-keep').logitsToKeep).toBe('num_logits_to_keep');
  expect(layoutOf('fp16', 'model_fp16.onnx')).toMatchObject({ kvType: 'float16', logitsType: 'float16' });
});

test('merged and undriveable graphs are typed errors listing the inputs and what was expected', () => {
  expect(() => layoutOf('merged', 'decoder_model_merged.onnx')).toThrow(/merged decoder layout.*use_cache_branch \(bool \[1\]\)/);
  try {
    layoutOf('encoder-decoder');
    expect.unreachable();
  } catch (e) {
    expect((e as Error).name).toBe('UnsupportedGraphError');
    expect((e as Error).message).toMatch(/unrecognised input encoder_hidden_states.*Its inputs: input_ids \(int64 \[batch_size, sequence_length\]\).*encoder_hidden_states \(float32 \[batch_size, encoder_sequence_length, 64\]\).*Expected: input_ids/);
  }
  const io = { inputs: [{ name: 'input_ids', elemType: 7, dims: ['b', 's'] }], outputs: [{ name: 'hidden_states', elemType: 1, dims: [] }] };
  expect(() => readDecoderLayout(io)).toThrow(/no logits output \(outputs: hidden_states\)/);
  const badMask = { inputs: [{ name: 'input_ids', elemType: 7, dims: [] }, { name: 'attention_mask', elemType: 11, dims: [] }], outputs: [{ name: 'logits', elemType: 1, dims: [] }] };
  expect(() => readDecoderLayout(badMask)).toThrow(/attention_mask \(ONNX type 11 \[\]\) must be int64 or int32 or float32 or float16 or bool/);
});

test('float16 bits decode as IEEE binary16', () => {
  expect([...halfsToFloats(Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x0000))]).toEqual([1, -2, 65504, 2 ** -24, Infinity, 0]);
});

describe('fp16 export on the CPU', () => {
  const golden = JSON.parse(readFileSync(`${dir('fp16')}/golden.json`, 'utf8'));
  const config = readConfig(JSON.parse(readFileSync(`${dir('fp16')}/config.json`, 'utf8')));
  const d = config.hidden;
  const ids = golden.prompts[0].input_ids as number[];
  const T = ids.length;

  test('greedy ids equal the float32 golden; steering by v moves the float32 capture by v (float16 rounding)', async () => {
    const s = await createDecoder(api, bytes('fp16', 'model_fp16.onnx'), config);
    const g = await generate(s, { promptIds: ids, maxNewTokens: 32, sampling: GREEDY, seed: 0, contextLength: config.contextLength });
    expect(g.rows[0].tokens).toEqual(golden.prompts[0].greedy_64.slice(0, 32));
    const v = Float32Array.from({ length: d }, (_, i) => Math.cos(i));
    const plain = await s.step({ ids: [ids], capture: [0, 1] }, false);
    const steered = await s.step({ ids: [ids], capture: [0, 1], steer: new Map([[0, { data: v }]]) }, false);
    const h = await readTensor(plain.captures.get(0)!);
    const hs = await readTensor(steered.captures.get(0)!);
    expect(plain.captures.get(0)!.type).toBe('float32');
    expect(maxAbsDiff(h, golden.prompts[0].residuals['0'].flat())).toBeLessThanOrEqual(2e-2);
    const moved = hs.map((x, i) => x - h[i]);
    expect(maxAbsDiff(moved, Float32Array.from({ length: T * d }, (_, i) => v[i % d]))).toBeLessThanOrEqual(1e-2);
    expect(maxAbsDiff(await readTensor(steered.captures.get(1)!), await readTensor(plain.captures.get(1)!))).toBeGreaterThan(0.1);
  });

  test('clamp slots on a float16 graph run in float32 and match the TypeScript reference', async () => {
    const n = 2, L = 1;
    const s = await createDecoder(api, bytes('fp16', 'model_fp16.onnx'), config, { clampSlots: n });
    const rnd = (k: number, seed: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);
    const enc = rnd(n * d, 1), dec = rnd(n * d, 2), bias = rnd(n, 3), threshold = Float32Array.from([0, -10]);
    const target = Float32Array.from([4, -1]), mask = Float32Array.from([1, 1]);
    const h = await readTensor((await s.step({ ids: [ids], capture: [L] }, false)).captures.get(L)!);
    const out = await s.step({ ids: [ids], capture: [L], clamp: new Map([[L, { enc, dec, bias, threshold, target, mask }]]) }, false);
    const got = await readTensor(out.captures.get(L)!);
    const expected = new Float32Array(h);
    for (let t = 0; t < T; t++)
      for (let i = 0; i < n; i++) {
        let pre = bias[i];
        for (let k = 0; k < d; k++) pre += h[t * d + k] * enc[i * d + k];
        const act = pre > threshold[i] ? Math.max(pre, 0) : 0;
        for (let k = 0; k < d; k++) expected[t * d + k] += (target[i] - act) * dec[i * d + k];
      }
    expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(got, h)).toBeGreaterThan(0.1);
  });
});

describe('q4f16 export on the CPU (model_q4f16.onnx: MatMulNBits, float16 scales, activations, KV and logits)', () => {
  const golden = JSON.parse(readFileSync(`${dir('q4f16')}/golden.json`, 'utf8'));
  const config = readConfig(JSON.parse(readFileSync(`${dir('q4f16')}/config.json`, 'utf8')));
  const p = golden.prompts.find((x: { greedy_64?: number[] }) => x.greedy_64);

  test('the file is what transformers.js publishes as q4f16: 4-bit MatMulNBits with float16 scales, float16 KV and logits', () => {
    const g = parseModel(bytes('q4f16', 'model_q4f16.onnx')).graph!;
    const nbits = g.node.filter((n) => n.opType === 'MatMulNBits');
    expect(nbits.length).toBe(15); // 7 per block × 2 + lm_head
    expect(nbits.every((n) => n.domain === 'com.microsoft')).toBe(true);
    expect(g.node.some((n) => n.opType === 'MatMul' && g.initializer.some((t) => t.name === n.input[1]))).toBe(false);
    const scales = new Set(nbits.map((n) => n.input[2]));
    expect(g.initializer.filter((t) => scales.has(t.name)).map((t) => t.dataType)).toEqual(new Array(15).fill(10)); // FLOAT16
    expect(layoutOf('q4f16', 'model_q4f16.onnx')).toMatchObject({ kvType: 'float16', logitsType: 'float16' });
  });

  test('greedy ids (cache and full recomputation) equal the dequantised float32 reference; logits within float16 rounding', async () => {
    const q = await createDecoder(api, bytes('q4f16', 'model_q4f16.onnx'), config);
    const ref = await createDecoder(api, bytes('q4f16-reference'), config);
    const opts = { promptIds: p.input_ids as number[], maxNewTokens: 64, sampling: GREEDY, seed: 0, contextLength: config.contextLength };
    const want = (await generate(ref, opts)).rows[0].tokens;
    expect((await generate(q, opts)).rows[0].tokens).toEqual(want);
    expect((await generate(q, { ...opts, useCache: false })).rows[0].tokens).toEqual(want);
    // 4-bit weights really moved the model: its greedy ids are not the float32 tiny-llama's.
    expect(want).not.toEqual(p.greedy_64);
    const a = await q.step({ ids: [p.input_ids], capture: [0] }, false);
    const b = await ref.step({ ids: [p.input_ids], capture: [0] }, false);
    expect(maxAbsDiff(a.lastLogits, b.lastLogits)).toBeLessThanOrEqual(2e-2);
    expect(maxAbsDiff(await readTensor(a.captures.get(0)!), await readTensor(b.captures.get(0)!))).toBeLessThanOrEqual(2e-2);
  });
});

test('the Gemma 3 270M IT replica (fp32 graph, weights in onnx/model.onnx_data) gives its golden greedy ids and residuals', async () => {
  const base = `${MODELS}/fixtures/gemma-3-270m-it-replica`;
  const golden = JSON.parse(readFileSync(`${base}/golden.json`, 'utf8'));
  const config = readConfig(JSON.parse(readFileSync(`${base}/config.json`, 'utf8')));
  expect(config).toMatchObject({ modelType: 'gemma3_text', nLayer: 18, hidden: 32, headDim: 32 });
  const graph = new Uint8Array(readFileSync(`${base}/onnx/model.onnx`));
  const externalData = [{ path: 'model.onnx_data', data: new Uint8Array(readFileSync(`${base}/onnx/model.onnx_data`)) }];
  const s = await createDecoder(api, graph, config, { externalData });
  const p = golden.prompts[0];
  const g = await generate(s, { promptIds: p.input_ids, maxNewTokens: 64, sampling: GREEDY, seed: 0, contextLength: config.contextLength });
  expect(g.rows[0].tokens).toEqual(p.greedy_64);
  const out = await s.step({ ids: [p.input_ids], capture: [12] }, false);
  expect(maxAbsDiff(await readTensor(out.captures.get(12)!), p.residuals['12'].flat())).toBeLessThanOrEqual(1e-3);
});
