// `npm run bench:node`: the bench suites that need no browser (engine vs transformers.js, SAE kernels, the
// GPT-2-sized model) in Node.js, with Dawn (npm package `webgpu`) as `navigator.gpu`. This is what a machine with a
// real GPU and no browser runs (see RESEARCH.md, "The GPU machine"): the project's own src/lib and harness, loaded
// through Vite's SSR module loader (TypeScript, `?raw` WGSL, `?url` assets), and onnxruntime-web's WebGPU bundle
// with its .wasm served by the same Vite server. On a machine without a GPU, Dawn has no Vulkan adapter; it then
// uses Mesa's llvmpipe through OpenGL ES in compatibility mode (needs Debian libegl1 libgles2 libegl-mesa0), which
// is how this harness is tested here.
// Environment: BENCH_SUITES (filter, default engine,sae,gpt2), BENCH_OUT (default tests/bench/gpu-latest.json),
// BENCH_PORT, DAWN_BACKEND (default: Vulkan, else the OpenGL ES fallback), and the suites' own variables.
import { writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';
import { printRows, runSuites } from '../suite-runner.mjs';
import { HARNESS_PATH } from '../../harness/location.mjs';
import { create, globals } from 'webgpu';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PORT = Number(process.env.BENCH_PORT ?? 5198);

/** Dawn's default adapter (Vulkan on a GPU machine), else llvmpipe through OpenGL ES in compatibility mode. */
async function dawnGpu() {
  Object.assign(globalThis, globals);
  process.env.XDG_RUNTIME_DIR ??= tmpdir(); // Mesa's loaders complain without one
  if (process.env.DAWN_BACKEND !== 'opengles') {
    const gpu = create([]);
    if (await gpu.requestAdapter()) return { gpu, note: 'Dawn, default backend' };
  }
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const gpu = create(['backend=opengles', 'enable-dawn-features=allow_unsafe_apis']);
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  // A GL ES device only exists in WebGPU's compatibility mode.
  gpu.requestAdapter = (options = {}) => requestAdapter({ ...options, featureLevel: 'compatibility' });
  if (!(await gpu.requestAdapter())) throw new Error('Dawn found no adapter (neither Vulkan nor OpenGL ES through EGL).');
  return { gpu, note: 'Dawn, OpenGL ES (compatibility mode)' };
}

const { gpu, note } = await dawnGpu();
// ORT's threaded WASM build keeps its heap in a SharedArrayBuffer and uploads straight from it; Dawn's Node binding
// rejects views of shared memory ("Invalid argument"), so such uploads go through a copy.
const writeBuffer = GPUQueue.prototype.writeBuffer;
GPUQueue.prototype.writeBuffer = function (buffer, offset, data, dataOffset = 0, size) {
  if (data?.buffer instanceof SharedArrayBuffer) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const unit = data.BYTES_PER_ELEMENT ?? 1;
    const start = dataOffset * unit;
    const length = size === undefined ? bytes.length - start : size * unit;
    return writeBuffer.call(this, buffer, offset, bytes.slice(start, start + length));
  }
  return writeBuffer.call(this, buffer, offset, data, dataOffset, size);
};
const server = await createServer({
  root,
  configFile: join(root, 'vite.config.ts'),
  logLevel: 'error',
  // Its own dependency cache: a browser bench's dev server on the same tree must not see its deps re-optimised.
  cacheDir: join(root, 'node_modules/.vite-node-bench'),
  server: { host: '127.0.0.1', port: PORT, strictPort: true, hmr: false, watch: null },
  // transformers.js's web build, on the same onnxruntime-web module as ours (its Node build uses onnxruntime-node).
  resolve: { alias: { '@huggingface/transformers': join(root, 'node_modules/@huggingface/transformers/dist/transformers.web.js') } },
});
await server.listen();
const pageUrl = `http://127.0.0.1:${PORT}/${HARNESS_PATH}`;
// The browser globals the library and harness read: the page's location (relative URLs resolve against it), a
// window that is the global object, and navigator with Dawn as its GPU.
const nodeFetch = globalThis.fetch;
Object.assign(globalThis, {
  window: globalThis,
  self: globalThis,
  location: new URL(pageUrl),
  fetch: (input, init) => nodeFetch(typeof input === 'string' ? new URL(input, pageUrl).href : input, init),
});
Object.defineProperty(globalThis, 'navigator', { value: { gpu, hardwareConcurrency: cpus().length, userAgent: 'node' }, configurable: true });
Object.defineProperty(globalThis, 'crossOriginIsolated', { value: false, configurable: true });
// transformers.js picks onnxruntime-node when `process.release.name` is 'node' (src/env.js IS_NODE_ENV): it must take
// the web branch (onnxruntime-web/webgpu, the module our engine uses) like it does in the browser.
Object.defineProperty(process, 'release', { value: { ...process.release, name: 'node-as-web' }, configurable: true });

/** The part of Playwright's Page the suites use, running the function here instead of in a browser page. */
const page = {
  url: () => pageUrl,
  evaluate: async (fn, arg) => fn(arg),
  async waitForFunction(fn, arg) {
    for (;;) {
      const value = await fn(arg);
      if (value) return { jsonValue: async () => value };
      await new Promise((r) => setTimeout(r, 100));
    }
  },
  context: () => ({ browser: () => null }),
};

try {
  await server.ssrLoadModule(new URL('harness.ts', pageUrl).pathname);
  const model = { base: '/models/voices/', onnxFile: 'onnx/model_q4.onnx', dtype: 'q4', note: 'embedded Voices model (q4)', dir: 'voices' };
  const adapter = await gpu.requestAdapter();
  const info = adapter.info;
  const results = { runner: `node ${process.version} + ${note}`, adapter: `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim(), model: model.note };
  const rows = await runSuites(root, (process.env.BENCH_SUITES ?? 'engine,sae,gpt2').split(','), { page, model, results });
  results.machine = `${cpus().length}x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  results.date = new Date().toISOString();
  console.log(`\nModel: ${model.note}\nDevice: ${results.device} (${results.adapter}; ${results.runner})\n`);
  printRows(rows);
  const out = process.env.BENCH_OUT ?? join(root, 'tests/bench/gpu-latest.json');
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
} finally {
  await server.close();
  // Dawn keeps the event loop alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 100);
}
