// Decode speed and prefill latency of our engine (plain, capturing one layer's residual every step, and choosing
// tokens on the GPU instead of reading logits back) against transformers.js generate() on the same ONNX file, ORT
// build and device, measured in the same page and run.
export const name = 'engine vs transformers.js';

const PROMPT = 'The old man looked out over the water and said';

export async function run({ page, model, log }) {
  const config = await page.evaluate(async (base) => (await fetch(`${base}config.json`)).json(), model.base);
  const ctx = config.n_positions ?? config.max_position_embeddings;
  const newTokens = Math.min(Number(process.env.BENCH_NEW_TOKENS ?? 128), ctx - 16);
  const layer = Math.floor((config.n_layer ?? config.num_hidden_layers) / 2);
  const options = { onnxFile: model.onnxFile, prompt: PROMPT, captureLayer: -1, dtype: model.dtype };
  const rounds = Number(process.env.BENCH_RUNS ?? 3);
  const call = (fn, ...args) => page.evaluate(([f, a]) => window.harness.runtime[f](...a), [fn, args]);
  log(`loading and warming up: engine, engine capturing layer ${layer}, engine sampling on the GPU, transformers.js`);
  const subjects = {
    plain: await call('benchOpen', 'engine', model.base, options),
    capture: await call('benchOpen', 'engine', model.base, { ...options, captureLayer: layer }),
    gpuSampling: await call('benchOpen', 'engine', model.base, { ...options, sampleOnGpu: true }),
    tjs: await call('benchOpen', 'transformers', model.base, options),
  };
  // Interleaved rounds: on a shared machine the load drifts, and every configuration should see the same drift.
  const runs = { plain: [], capture: [], gpuSampling: [], tjs: [] };
  for (let round = 0; round < rounds; round++)
    for (const key of Object.keys(subjects)) {
      const r = await call('benchRun', subjects[key].id, newTokens);
      runs[key].push(r);
      log(`round ${round + 1} ${key}: ${r.decodeTps.toFixed(2)} tokens/s, prefill ${r.prefillMs.toFixed(0)} ms`);
    }
  for (const s of Object.values(subjects)) await call('benchClose', s.id);
  // Same q4 graph, same device, greedy: our engine and transformers.js must choose the same tokens.
  const a = runs.plain[0].ids;
  const b = runs.tjs[0].ids;
  const greedyMatch = a && b ? a.filter((id, i) => id === b[i]).length / Math.max(a.length, b.length) : NaN;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pick = (key) => ({ decodeTps: median(runs[key].map((r) => r.decodeTps)), prefillMs: median(runs[key].map((r) => r.prefillMs)) });
  const plain = { ...pick('plain'), device: subjects.plain.device, promptTokens: subjects.plain.promptTokens };
  const capture = pick('capture');
  const gpuSampling = pick('gpuSampling');
  // Greedy on the same session: choosing on the GPU must not change a token.
  const c = runs.gpuSampling[0].ids;
  const gpuSamplingMatch = a && c ? a.filter((id, i) => id === c[i]).length / Math.max(a.length, c.length) : NaN;
  const tjs = pick('tjs');
  const values = {
    device: plain.device,
    new_tokens: newTokens,
    rounds,
    prompt_tokens: plain.promptTokens,
    decode_tps_engine: plain.decodeTps,
    decode_tps_engine_capture: capture.decodeTps,
    decode_tps_engine_gpu_sampling: gpuSampling.decodeTps,
    decode_tps_transformersjs: tjs.decodeTps,
    prefill_ms_engine: plain.prefillMs,
    prefill_ms_engine_capture: capture.prefillMs,
    prefill_ms_engine_gpu_sampling: gpuSampling.prefillMs,
    greedy_match_engine_gpu_sampling_vs_cpu: gpuSamplingMatch,
    prefill_ms_transformersjs: tjs.prefillMs,
    ratio_capture_vs_transformersjs: capture.decodeTps / tjs.decodeTps,
    ratio_engine_vs_transformersjs: plain.decodeTps / tjs.decodeTps,
    greedy_match_engine_vs_transformersjs: greedyMatch,
    // The same figures under the per-backend names of issue 13 (the WASM suite writes the `_wasm` ones).
    decode_tps_engine_webgpu: plain.decodeTps,
    decode_tps_engine_gpu_sampling_webgpu: gpuSampling.decodeTps,
    decode_tps_transformersjs_webgpu: tjs.decodeTps,
  };
  return {
    values,
    rows: [
      ['decode, engine (plain)', values.decode_tps_engine, 'tokens/s'],
      [`decode, engine (capture layer ${layer})`, values.decode_tps_engine_capture, 'tokens/s'],
      ['decode, engine + GPU sampling', values.decode_tps_engine_gpu_sampling, 'tokens/s'],
      ['decode, transformers.js generate()', values.decode_tps_transformersjs, 'tokens/s'],
      ['prefill, engine (plain)', values.prefill_ms_engine, 'ms'],
      ['prefill, engine (capture)', values.prefill_ms_engine_capture, 'ms'],
      ['prefill, transformers.js', values.prefill_ms_transformersjs, 'ms'],
      ['ratio capture / transformers.js', values.ratio_capture_vs_transformersjs, '×'],
    ],
  };
}
