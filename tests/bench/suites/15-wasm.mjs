// The CPU path (issue 13, item 5): our engine on ORT's WASM execution provider — plain, and with interpretability on
// (capture + per-token SAE top-8 + one persona, the playground engine instrumented at the SAE's layer only) — against
// transformers.js generate() on the same ONNX file and ORT module, single-threaded (the harness page as served) and
// multi-threaded (a second page made cross-origin isolated by COOP/COEP headers, so ORT gets SharedArrayBuffer and
// min(4, cores) threads). All configurations run in interleaved rounds in one run: ratios are side by side.
// "interp_before" is the interp subject as it was before issue 13's CPU work (full-sort top-k, decode on every call,
// clamp slots in the graph), run in the same rounds so the before/after ratio is measured side by side; the
// per-token CPU SAE analysis time (now and before) is measured on the page on real residuals from golden.json.
export const name = 'CPU path: engine vs transformers.js on WASM (1 thread and multi-threaded)';

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PROMPT = 'The old man looked out over the water and said';

async function isolatedPage(page) {
  const context = await page.context().browser().newContext();
  const p = await context.newPage();
  p.on('pageerror', (e) => console.error('page error (isolated):', e.message));
  await p.route('**/*', async (route) => {
    const response = await route.fetch();
    await route.fulfill({
      response,
      headers: { ...response.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
    });
  });
  await p.goto(page.url());
  await p.waitForFunction(() => window.harness?.runtime);
  return p;
}

export async function run({ page, model, log }) {
  const mt = await isolatedPage(page);
  const threads = {
    wasm: await page.evaluate(() => (crossOriginIsolated ? 'isolated' : 1)),
    wasm_mt: await mt.evaluate(() => (crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 'not isolated')),
  };
  if (threads.wasm !== 1 || typeof threads.wasm_mt !== 'number') throw new Error(`isolation set-up failed: ${JSON.stringify(threads)}`);
  const config = await page.evaluate(async (base) => (await fetch(`${base}config.json`)).json(), model.base);
  const ctx = config.n_positions ?? config.max_position_embeddings;
  const newTokens = Math.min(64, ctx - 16);
  const hook = readdirSync(join('models', model.dir, 'sae'))[0];
  const options = { onnxFile: model.onnxFile, prompt: PROMPT, captureLayer: -1, dtype: model.dtype, backend: 'wasm', saeUrl: `${model.base}sae/${hook}/` };
  // More rounds than the WebGPU suite: a run is seconds here, and a shared machine's load swings between runs.
  const rounds = Number(process.env.BENCH_WASM_ROUNDS ?? 7);
  const call = (p, fn, ...args) => p.evaluate(([f, a]) => window.harness.runtime[f](...a), [fn, args]);
  const pages = { wasm: page, wasm_mt: mt };
  const subjects = {};
  for (const [backend, p] of Object.entries(pages))
    for (const kind of ['engine', 'interp', 'interp_before', 'transformers']) {
      log(`loading ${kind} on ${backend} (${threads[backend]} thread${threads[backend] === 1 ? '' : 's'})`);
      const open = kind === 'interp_before' ? ['interp', model.base, { ...options, before: true }] : [kind, model.base, options];
      subjects[`${kind}_${backend}`] = { page: p, ...(await call(p, 'benchOpen', ...open)) };
    }
  const runs = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
  for (let round = 0; round < rounds; round++)
    for (const [key, s] of Object.entries(subjects)) {
      const r = await call(s.page, 'benchRun', s.id, newTokens);
      runs[key].push(r.decodeTps);
      log(`round ${round + 1} ${key}: ${r.decodeTps.toFixed(2)} tokens/s`);
    }
  for (const s of Object.values(subjects)) await call(s.page, 'benchClose', s.id);
  await mt.context().close();
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const tps = Object.fromEntries(Object.entries(runs).map(([k, xs]) => [k, median(xs)]));
  const values = { wasm_threads_mt: threads.wasm_mt, wasm_new_tokens: newTokens };
  const rows = [];
  // Per-token CPU SAE analysis (what generation asks for each token), on the golden residuals at the SAE's layer.
  const goldenPath = join('models', model.dir, 'golden.json');
  if (existsSync(goldenPath)) {
    const golden = JSON.parse(readFileSync(goldenPath, 'utf8'));
    const residuals = golden.prompts.flatMap((p) => Object.values(p.residual?.[String(golden.layer)] ?? {}));
    const sae = await call(page, 'cpuSaeTokenMs', options.saeUrl, residuals, 400);
    log(`CPU SAE per token (${sae.dIn} → ${sae.dSae}, ${residuals.length} real residuals): ${sae.now.toFixed(3)} ms now, ${sae.before.toFixed(3)} ms before`);
    Object.assign(values, { sae_cpu_token_ms: sae.now, sae_cpu_token_ms_before: sae.before });
    rows.push(
      ['CPU SAE analysis per token (top-8, 1 monitor), now', sae.now, 'ms'],
      ['CPU SAE analysis per token, before (full sorts, decode)', sae.before, 'ms'],
    );
  }
  for (const backend of ['wasm', 'wasm_mt']) {
    const e = tps[`engine_${backend}`];
    const i = tps[`interp_${backend}`];
    const ib = tps[`interp_before_${backend}`];
    const t = tps[`transformers_${backend}`];
    Object.assign(values, {
      [`decode_tps_engine_${backend}`]: e,
      [`decode_tps_interp_${backend}`]: i,
      [`decode_tps_transformersjs_${backend}`]: t,
      [`ratio_engine_vs_transformersjs_${backend}`]: e / t,
      [`ratio_interp_vs_transformersjs_${backend}`]: i / t,
      [`ratio_interp_vs_engine_${backend}`]: i / e,
      [`decode_tps_interp_before_${backend}`]: ib,
      [`ratio_interp_before_vs_transformersjs_${backend}`]: ib / t,
      [`ratio_interp_before_vs_engine_${backend}`]: ib / e,
    });
    const label = backend === 'wasm' ? 'WASM, 1 thread' : `WASM, ${threads.wasm_mt} threads`;
    rows.push(
      [`decode, engine (plain), ${label}`, e, 'tokens/s'],
      [`decode, interp (capture + SAE top-8 + persona), ${label}`, i, 'tokens/s'],
      [`decode, transformers.js generate(), ${label}`, t, 'tokens/s'],
      [`ratio interp / transformers.js, ${label} (goal ≥ 1)`, i / t, '×'],
      [`ratio interp / engine, ${label} (goal ≥ 0.97)`, i / e, '×'],
      [`decode, interp before issue 13's CPU work, ${label}`, ib, 'tokens/s'],
      [`ratio interp before / transformers.js, ${label}`, ib / t, '×'],
      [`ratio interp before / engine, ${label}`, ib / e, '×'],
    );
  }
  values.decode_runs_wasm = runs;
  return { values, rows };
}
