// `npm run bench`: starts the Vite dev server, opens the harness page (HARNESS_PATH) in headless Chromium with WebGPU
// and runs every suite in tests/bench/suites/ (alphabetical order; each sees the results of the ones before it).
// Prints a table and writes tests/bench/latest.json. A suite exports `name` and
// `async run({ page, model, results, log })` returning { values: {key: number|string}, rows: [[label, value, unit]] }.
// Paths in suites (models/..., dist/) are relative to the repository root, where npm runs the script.
// Environment: BENCH_MODEL_DIR (benchmark another model folder), BENCH_SUITES (filter), BENCH_OUT (JSON path),
// BENCH_RUNS (measured runs per configuration, median reported; default 3).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { printRows, runSuites } from './suite-runner.mjs';
import { HARNESS_PATH } from '../harness/location.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PORT = Number(process.env.BENCH_PORT ?? 5199);
// --expose-gc and precise memory info: memory figures (suite 40) are read after a full collection, unrounded.
const ARGS = ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--js-flags=--expose-gc', '--enable-precise-memory-info'];

/**
 * BENCH_MODEL_DIR (any folder in Hugging Face layout, served to the page at /bench-model/), else the embedded
 * model if it has landed, else the smoke export, else a fixture; the report says which.
 */
function pickModel() {
  const dir = process.env.BENCH_MODEL_DIR;
  if (dir) {
    const file = existsSync(join(dir, 'onnx/model_q4.onnx')) ? 'onnx/model_q4.onnx' : 'onnx/model.onnx';
    return { base: '/bench-model/', onnxFile: file, dtype: file.includes('q4') ? 'q4' : 'fp32', note: `${dir} (BENCH_MODEL_DIR)`, dir, local: dir };
  }
  for (const [dir, file, note] of [
    ['voices', 'onnx/model_q4.onnx', 'embedded Voices model (q4)'],
    ['voices-smoke', 'onnx/model_q4.onnx', 'Voices smoke export (q4): NOT the embedded model'],
    ['fixtures/tiny-gpt2', 'onnx/model.onnx', 'tiny-gpt2 fixture (fp32): NOT the embedded model'],
  ])
    if (existsSync(join(root, 'models', dir, file)))
      return { base: `/models/${dir}/`, onnxFile: file, dtype: file.includes('q4') ? 'q4' : 'fp32', note, dir };
  throw new Error('No model to benchmark under models/.');
}

async function waitFor(url, ms) {
  // The first request makes Vite transform the harness; wait until it answers.
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not come up`);
}

const chromiumPath = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(existsSync);
// No file watching or HMR: other work in the tree must not reload the page mid-measurement.
const server = await createServer({
  root,
  configFile: join(root, 'vite.config.ts'),
  logLevel: 'error',
  server: { host: '127.0.0.1', port: PORT, strictPort: true, hmr: false, watch: null },
});
await server.listen();
let browser;
try {
  await waitFor(`http://127.0.0.1:${PORT}/${HARNESS_PATH}`, 120_000);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ARGS });
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  const model = pickModel();
  if (model.local)
    await page.route('**/bench-model/**', async (route) => {
      const file = join(model.local, new URL(route.request().url()).pathname.replace(/^.*\/bench-model\//, ''));
      if (existsSync(file)) await route.fulfill({ status: 200, body: readFileSync(file), contentType: 'application/octet-stream' });
      else await route.fulfill({ status: 404, body: 'missing' });
    });
  await page.goto(`http://127.0.0.1:${PORT}/${HARNESS_PATH}`);
  await page.waitForFunction(() => window.harness?.runtime);
  const results = { model: model.note, model_dir: model.dir, onnx_file: model.onnxFile };
  // BENCH_SUITES=engine,sae runs only suites whose file name contains one of the words.
  const rows = await runSuites(root, process.env.BENCH_SUITES?.split(','), { page, model, results });
  results.machine = `${cpus().length}x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; ${await browser.version()}`;
  results.date = new Date().toISOString();
  console.log(`\nModel: ${model.note}\nDevice: ${results.device}\n`);
  printRows(rows);
  // A run on some other folder (BENCH_MODEL_DIR) must not replace the recorded figures unless asked to.
  const out = process.env.BENCH_OUT ?? (model.local ? '' : join(root, 'tests/bench/latest.json'));
  if (out) {
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    console.log(`\nwrote ${out}`);
  }
} finally {
  await browser?.close();
  await server.close();
}
