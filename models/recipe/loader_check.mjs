// Checks the recipe's ONNX-initializer loader (model.py load_onnx_model) against onnxruntime-node on CPU: for each
// case {onnx, ids, logits} of the fixture (logits from the loaded PyTorch model, prefill with past length 0), the
// largest |Δlogit| over every position. Prints one JSON object {cases: [{onnx, positions, max_abs_diff}], max_abs_diff}.
// usage: node models/recipe/loader_check.mjs <fixture.json>
import { createRequire } from 'module';
import fs from 'fs';
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

const fx = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = { cases: [], max_abs_diff: 0 };
const sessions = new Map();
for (const c of fx.cases) {
  if (!sessions.has(c.onnx)) sessions.set(c.onnx, await ort.InferenceSession.create(c.onnx));
  const sess = sessions.get(c.onnx);
  const T = c.ids.length;
  const i64 = (a) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
  const feeds = { input_ids: i64(c.ids), attention_mask: i64(c.ids.map(() => 1)), position_ids: i64(c.ids.map((_, i) => i)) };
  for (let i = 0; i < fx.n_layer; i++) for (const kv of ['key', 'value'])
    feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, fx.n_head, 0, fx.head_dim]);
  const r = await sess.run(feeds);
  const lg = r.logits.data;
  const want = c.logits.flat();
  if (lg.length !== want.length) throw new Error(`${c.onnx}: ${lg.length} logits from onnxruntime, ${want.length} expected`);
  let m = 0;
  for (let i = 0; i < lg.length; i++) m = Math.max(m, Math.abs(lg[i] - want[i]));
  out.cases.push({ onnx: c.onnx, positions: T, max_abs_diff: m });
  out.max_abs_diff = Math.max(out.max_abs_diff, m);
}
console.log(JSON.stringify(out));
