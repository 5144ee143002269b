// Decode speed and prefill latency of our engine (plain, and capturing one layer's residual every step) against
// transformers.js generate() on the same ONNX file, ORT build and device, measured in the same page and run.
export const name = 'engine vs transformers.js';

const PROMPT = 'The old man looked out over the water and said';

export async function run({ page, model, log }) {
  const config = await page.evaluate(async (base) => (await fetch(`${base}config.json`)).json(), model.base);
  const ctx = config.n_positions ?? config.max_position_embeddings;
  const newTokens = Math.min(128, ctx - 16);
  const layer = Math.floor((config.n_layer ?? config.num_hidden_layers) / 2);
  const options = { onnxFile: model.onnxFile, prompt: PROMPT, newTokens, runs: Number(process.env.BENCH_RUNS ?? 3) };
  const call = (fn, ...args) => page.evaluate(([f, a]) => window.harness.runtime[f](...a), [fn, args]);
  log(`engine plain (${newTokens} tokens)`);
  const plain = await call('benchEngine', model.base, { ...options, captureLayer: -1 });
  log(`engine capturing layer ${layer}`);
  const capture = await call('benchEngine', model.base, { ...options, captureLayer: layer });
  log('transformers.js');
  const tjs = await call('benchTransformers', model.base, { ...options, captureLayer: -1, dtype: model.dtype });
  const values = {
    device: plain.device,
    new_tokens: newTokens,
    prompt_tokens: plain.promptTokens,
    decode_tps_engine: plain.decodeTps,
    decode_tps_engine_capture: capture.decodeTps,
    decode_tps_transformersjs: tjs.decodeTps,
    prefill_ms_engine: plain.prefillMs,
    prefill_ms_engine_capture: capture.prefillMs,
    prefill_ms_transformersjs: tjs.prefillMs,
    ratio_capture_vs_transformersjs: capture.decodeTps / tjs.decodeTps,
    ratio_engine_vs_transformersjs: plain.decodeTps / tjs.decodeTps,
  };
  return {
    values,
    rows: [
      ['decode, engine (plain)', values.decode_tps_engine, 'tokens/s'],
      [`decode, engine (capture layer ${layer})`, values.decode_tps_engine_capture, 'tokens/s'],
      ['decode, transformers.js generate()', values.decode_tps_transformersjs, 'tokens/s'],
      ['prefill, engine (plain)', values.prefill_ms_engine, 'ms'],
      ['prefill, engine (capture)', values.prefill_ms_engine_capture, 'ms'],
      ['prefill, transformers.js', values.prefill_ms_transformersjs, 'ms'],
      ['ratio capture / transformers.js', values.ratio_capture_vs_transformersjs, '×'],
    ],
  };
}
