// ONNX parity for the Voices recipe, run with onnxruntime-node on CPU:
//  - tokenizer: @huggingface/tokenizers ids == Python encoder ids, decode(encode(x)) == x
//  - fp32: logits vs PyTorch (prefill with past length 0, then decode steps with the KV cache; padded batch)
//  - residual taps /transformer/h.{i}/Add_1_output_0 vs PyTorch block outputs
//  - q4 (MatMulNBits) vs fp32: top-1 agreement on held-out windows
//  --q4-only: only the q4 top-1 agreement (and a q4 decode step), on <cache_dir>/q4_windows.json
//  (q4_from_shipped.py), into <cache_dir>/q4_parity_results.json: what build.sh --q4-from-shipped runs
// usage: node models/recipe/parity.mjs <out_dir> <cache_dir> [--thresholds] [--q4-only]
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const { Tokenizer } = await import('@huggingface/tokenizers');

const [outDir, cacheDir] = process.argv.slice(2);
const strict = process.argv.includes('--thresholds');
const q4Only = process.argv.includes('--q4-only');
const config = JSON.parse(fs.readFileSync(path.join(outDir, 'config.json'), 'utf8'));
const fx = q4Only
  ? { n_layer: config.n_layer, n_head: config.n_head, head_dim: config.n_embd / config.n_head, tokenizer: [],
    ...JSON.parse(fs.readFileSync(path.join(cacheDir, 'q4_windows.json'), 'utf8')) }
  : JSON.parse(fs.readFileSync(path.join(cacheDir, 'parity_fixtures.json'), 'utf8'));
const L = fx.n_layer, H = fx.n_head, D = fx.head_dim;
const results = { tokenizer: {}, fp32: {}, q4: {} };
let failed = [];

// tokenizer
const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(outDir, 'tokenizer.json'), 'utf8')),
  JSON.parse(fs.readFileSync(path.join(outDir, 'tokenizer_config.json'), 'utf8')));
let tokOk = 0;
for (const f of fx.tokenizer) {
  const ids = Array.from(tok.encode(f.text).ids);
  const same = JSON.stringify(ids) === JSON.stringify(f.ids);
  const rt = tok.decode(ids) === f.text;
  if (same && rt) tokOk++; else failed.push(`tokenizer mismatch on ${JSON.stringify(f.text)}: ${ids} vs ${f.ids}`);
}
results.tokenizer = { cases: fx.tokenizer.length, ok: tokOk };

const i64 = (arr, dims) => new ort.Tensor('int64', BigInt64Array.from(arr.map(BigInt)), dims);
function emptyPast(B) {
  const feeds = {};
  for (let i = 0; i < L; i++) for (const kv of ['key', 'value'])
    feeds[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, D]);
  return feeds;
}
async function run(sess, ids2d, mask2d, pos2d, past) {
  const B = ids2d.length, T = ids2d[0].length;
  const feeds = { input_ids: i64(ids2d.flat(), [B, T]), attention_mask: i64(mask2d.flat(), [B, mask2d[0].length]),
    position_ids: i64(pos2d.flat(), [B, T]), ...(past ?? emptyPast(B)) };
  const out = await sess.run(feeds);
  const next = {};
  for (let i = 0; i < L; i++) for (const kv of ['key', 'value']) next[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`];
  return { out, next };
}
function maxDiff(a, b) { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; }

const fp32 = q4Only ? null : await ort.InferenceSession.create(path.join(cacheDir, 'model_taps.onnx'));
const shipped = await ort.InferenceSession.create(path.join(outDir, 'onnx', 'model.onnx'));
const q4 = await ort.InferenceSession.create(path.join(outDir, 'onnx', 'model_q4.onnx'));

// case 1: prefill (past 0) + decode steps
if (!q4Only) {
  const c = fx.cases[0];
  const T0 = c.prefill;
  const ids = c.ids;
  let { out, next } = await run(fp32, [ids.slice(0, T0)], [Array(T0).fill(1)], [[...Array(T0).keys()]], null);
  const vocab = out.logits.dims[2];
  let md = maxDiff(out.logits.data, c.logits.slice(0, T0).flat());
  let resd = 0;
  for (let i = 0; i < L; i++) resd = Math.max(resd, maxDiff(out[`/transformer/h.${i}/Add_1_output_0`].data, fx.resid_case0[String(i)].flat()));
  let dec = 0;
  for (let t = T0; t < ids.length; t++) {
    const r = await run(fp32, [[ids[t]]], [Array(t + 1).fill(1)], [[t]], next);
    dec = Math.max(dec, maxDiff(r.out.logits.data, c.logits[t]));
    next = r.next;
  }
  // the shipped graph (no extra outputs) must agree too
  const s = await run(shipped, [ids.slice(0, T0)], [Array(T0).fill(1)], [[...Array(T0).keys()]], null);
  const shippedDiff = maxDiff(s.out.logits.data, c.logits.slice(0, T0).flat());
  results.fp32.prefill_max_abs_diff = md; results.fp32.decode_max_abs_diff = dec;
  results.fp32.residual_max_abs_diff = resd; results.fp32.shipped_prefill_max_abs_diff = shippedDiff;
  results.vocab = vocab;
}
// case 2: padded batch
if (!q4Only) {
  const c = fx.cases[1];
  const { out } = await run(fp32, c.rows, c.masks, c.positions, null);
  const T = c.rows[0].length, Vv = out.logits.dims[2];
  const d = out.logits.data;
  let m = 0;
  for (let t = c.pad; t < T; t++) m = Math.max(m, maxDiff(d.subarray(t * Vv, (t + 1) * Vv), c.logits_rows[0][t - c.pad]));
  for (let t = 0; t < T; t++) m = Math.max(m, maxDiff(d.subarray((T + t) * Vv, (T + t + 1) * Vv), c.logits_rows[1][t]));
  results.fp32.padded_batch_max_abs_diff = m;
}
// q4 vs fp32 top-1 on held-out windows (+ q4 prefill/decode consistency)
{
  let agree = 0, total = 0; const perVoice = {};
  const argmax = (d, off, n) => { let b = 0, bv = -Infinity; for (let j = 0; j < n; j++) if (d[off + j] > bv) { bv = d[off + j]; b = j; } return b; };
  for (const w of fx.windows) {
    const T = w.ids.length;
    const a = await run(shipped, [w.ids], [Array(T).fill(1)], [[...Array(T).keys()]], null);
    const b = await run(q4, [w.ids], [Array(T).fill(1)], [[...Array(T).keys()]], null);
    const Vv = a.out.logits.dims[2];
    let ag = 0;
    for (let t = 0; t < T; t++) if (argmax(a.out.logits.data, t * Vv, Vv) === argmax(b.out.logits.data, t * Vv, Vv)) ag++;
    agree += ag; total += T;
    perVoice[w.voice] = perVoice[w.voice] ?? [0, 0]; perVoice[w.voice][0] += ag; perVoice[w.voice][1] += T;
  }
  results.q4.top1_agreement = agree / total; results.q4.positions = total;
  results.q4.per_voice = Object.fromEntries(Object.entries(perVoice).map(([k, [a, t]]) => [k, a / t]));
  // q4 with the KV cache: prefill + one decode step runs
  const ids = q4Only ? fx.windows[0].ids : fx.cases[0].ids;
  const r = await run(q4, [ids.slice(0, 8)], [Array(8).fill(1)], [[...Array(8).keys()]], null);
  const r2 = await run(q4, [[ids[8]]], [Array(9).fill(1)], [[8]], r.next);
  results.q4.decode_ok = r2.out.logits.dims.join('x');
}
const tol = 1e-3;
if (!q4Only) for (const k of ['prefill_max_abs_diff', 'decode_max_abs_diff', 'residual_max_abs_diff', 'shipped_prefill_max_abs_diff', 'padded_batch_max_abs_diff'])
  if (!(results.fp32[k] <= tol)) failed.push(`fp32 ${k} = ${results.fp32[k]} > ${tol}`);
if (strict && !(results.q4.top1_agreement >= 0.95)) failed.push(`q4 top-1 agreement ${results.q4.top1_agreement} < 0.95`);
results.failed = failed;
fs.writeFileSync(path.join(cacheDir, q4Only ? 'q4_parity_results.json' : 'parity_results.json'), JSON.stringify(q4Only ? results.q4 : results, null, 1));
console.log(JSON.stringify(results));
if (failed.length) { console.error('PARITY FAILED:\n' + failed.join('\n')); process.exit(1); }
