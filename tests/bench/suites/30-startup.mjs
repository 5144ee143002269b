// Start-up figures (issue 5): time from navigation to the first coloured token view of the built app, cold (fresh
// browser context: empty HTTP cache, no service worker) and warm (the same context reloaded: the service worker
// and caches from the first visit). Builds the app if dist/ is missing and serves it with `vite preview`.
export const name = 'App start-up (cold vs warm)';

import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { join } from 'node:path';
import { preview } from 'vite';

/** What a file is, for the first-visit breakdown. */
function kind(url) {
  if (url.endsWith('.wasm')) return 'ort_wasm';
  if (url.endsWith('.onnx') || url.endsWith('.onnx_data')) return 'graph';
  if (url.endsWith('.safetensors')) return 'sae';
  if (url.includes('/models/')) return 'model_json';
  return 'app';
}

const PORT = Number(process.env.BENCH_PREVIEW_PORT ?? 5299);

/**
 * Milliseconds from navigation start to the app's `playground:first-token-view` mark, and the app's stage marks
 * (`playground:<stage>`, first occurrence each) up to then, to say where the time went.
 */
async function timeToTokenView(page, url) {
  await page.goto(url);
  const handle = await page.waitForFunction(
    () => performance.getEntriesByName('playground:first-token-view')[0]?.startTime,
    undefined,
    { timeout: 600_000, polling: 100 },
  );
  const ms = await handle.jsonValue();
  const stages = await page.evaluate(() => {
    const seen = {};
    for (const m of performance.getEntriesByType('mark'))
      if (m.name.startsWith('playground:') && !(m.name in seen)) seen[m.name.slice('playground:'.length)] = Math.round(m.startTime);
    return seen;
  });
  return { ms, stages };
}

const describe = (stages) => Object.entries(stages).map(([k, v]) => `${k} ${v}`).join(', ');

export async function run({ page, log }) {
  const root = process.cwd();
  if (!existsSync(join(root, 'dist/index.html'))) {
    log('building the app (dist/ missing) ...');
    execSync('npx vite build', { stdio: 'ignore' });
  }
  const server = await preview({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'error',
    preview: { host: '127.0.0.1', port: PORT, strictPort: true },
  });
  const browser = page.context().browser();
  const context = await browser.newContext();
  try {
    const appPage = await context.newPage();
    const url = `http://127.0.0.1:${PORT}/`;
    // First visit's transfer: what the service worker holds after it (it caches every file the page, the engine's
    // worker and its own cache fill fetched on the first visit: the set that makes the next visit work offline),
    // each gzipped in the page by CompressionStream (zlib's default level, a static host's usual setting).
    const { ms: cold, stages: coldStages } = await timeToTokenView(appPage, url);
    log(`cold start ${cold.toFixed(0)} ms (${describe(coldStages)})`);
    await appPage.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout: 60_000 }).catch(() => {});
    await appPage.waitForLoadState('networkidle');
    const files = await appPage.evaluate(async () => {
      const out = {};
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) {
          const body = (await cache.match(request)).body;
          const gz = body.pipeThrough(new CompressionStream('gzip'));
          let n = 0;
          for await (const chunk of gz) n += chunk.byteLength;
          out[request.url.split('?')[0]] = n;
        }
      }
      return out;
    });
    const breakdown = {};
    let firstVisitGz = 0;
    for (const [u, gz] of Object.entries(files)) {
      breakdown[kind(u)] = (breakdown[kind(u)] ?? 0) + gz;
      firstVisitGz += gz;
    }
    log(`first visit: ${(firstVisitGz / 1e6).toFixed(2)} MB gzipped in ${Object.keys(files).length} files (${Object.entries(breakdown).map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)}`).join(', ')})`);
    // A warm start is a later visit: the service worker controls the page and has cached the app and the model,
    // and the previous visit is idle (its move to WebGPU, which compiles shaders in the shared GPU process, is done).
    const settle = async () => {
      await appPage.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout: 60_000 }).catch(() => {});
      await appPage.waitForSelector('[data-testid=device-badge][data-pending=""][data-backend]:not([data-backend=""])', { timeout: 300_000 }).catch(() => {});
      await appPage.waitForLoadState('networkidle');
      await appPage.waitForTimeout(1000);
    };
    const warmRuns = [];
    for (let i = 0; i < 3; i++) {
      await settle();
      const r = await timeToTokenView(appPage, url);
      log(`warm start ${i + 1}: ${r.ms.toFixed(0)} ms (${describe(r.stages)})`);
      warmRuns.push(r);
    }
    const { ms: warm, stages: warmStages } = [...warmRuns].sort((a, b) => a.ms - b.ms)[1];
    return {
      values: { first_visit_gz_bytes: firstVisitGz, first_visit_gz_breakdown: breakdown, cold_start_ms: cold, warm_start_ms: warm, warm_start_runs_ms: warmRuns.map((r) => Math.round(r.ms)), cold_start_stages_ms: coldStages, warm_start_stages_ms: warmStages },
      rows: [
        ['first visit, gzipped (goal ≤ 12 MB)', firstVisitGz / 1e6, 'MB'],
        ['cold start to first coloured token view', cold, 'ms'],
        ['warm (cached) start to first coloured token view, median of 3 (goal < 2000)', warm, 'ms'],
      ],
    };
  } finally {
    await context.close();
    await server.close();
  }
}
