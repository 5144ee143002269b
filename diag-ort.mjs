import { chromium } from '@playwright/test';
import { createServer } from 'vite';
const root = '/work/main';
const server = await createServer({ root, configFile: root + '/vite.config.ts', logLevel: 'error', server: { host: '127.0.0.1', port: 5373, strictPort: true, hmr: false, watch: null } });
await server.listen();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--enable-unsafe-webgpu', '--no-sandbox'] });
const page = await browser.newPage();
await page.goto('http://127.0.0.1:5373/harness.html');
await page.waitForFunction(() => window.harness?.runtime, undefined, { timeout: 120000 });
const r = await page.evaluate(async () => {
  const { getOrt, primeOrt } = await import('/src/lib/runtime/ort.ts');
  const g = await import('/src/lib/graph/index.ts');
  const out = [];
  let t = performance.now();
  await primeOrt(); out.push(`prime ${Math.round(performance.now() - t)}`);
  const ort = getOrt();
  for (const file of ['model_q4.onnx', 'model.onnx']) {
    const bytes = new Uint8Array(await (await fetch('/models/voices/onnx/' + file)).arrayBuffer());
    const m = g.parseModel(bytes);
    g.instrumentModel(m, { layers: [0, 1, 2, 3], hidden: 256, nLayer: 4, clampSlots: 4 });
    const inst = g.serializeModel(m);
    const io = g.describeIO(m.graph);
    for (const level of ['all', 'extended', 'basic', 'disabled']) {
      t = performance.now();
      const s = await ort.InferenceSession.create(inst, { executionProviders: ['wasm'], graphOptimizationLevel: level });
      const create = performance.now() - t;
      const feeds = {};
      const T = 2;
      for (const i of io.inputs) {
        const dims = i.dims.map((d, k) => (typeof d === 'number' ? d : i.name.startsWith('past') ? (k === 2 ? 0 : 1) : i.name.startsWith('steer') ? (k === 0 ? 1 : T) : k === 0 ? 1 : T));
        const n = dims.reduce((a, b) => a * b, 1);
        feeds[i.name] = i.elemType === 7 ? new ort.Tensor('int64', new BigInt64Array(n), dims) : new ort.Tensor('float32', new Float32Array(n), dims);
      }
      const runs = [];
      for (let k = 0; k < 3; k++) { t = performance.now(); await s.run(feeds); runs.push(Math.round(performance.now() - t)); }
      out.push(`${file} ${level}: create ${Math.round(create)} runs ${runs.join('/')}`);
      await s.release();
    }
  }
  return out;
});
console.log(r.join('\n'));
await browser.close(); await server.close();
