// The runtime in real headless Chromium: ORT WebGPU EP on SwiftShader and the WASM EP, fixture models with
// PyTorch golden values, the KV cache kept on the GPU, typed errors for bad inputs, and device-loss recovery.
import { expect, test, type Page } from '@playwright/test';
import { HARNESS_PATH } from '../../harness/location.mjs';

type H = Record<string, (...args: any[]) => Promise<any>>;
const GPT2 = '/models/fixtures/tiny-gpt2/';
const LLAMA = '/models/fixtures/tiny-llama/';
const FUSED = '/models/fixtures/tiny-gpt2-fused/';

async function open(page: Page) {
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.runtime);
}

function call(page: Page, fn: string, ...args: unknown[]) {
  return page.evaluate(([f, a]) => ((window as any).harness.runtime as H)[f as string](...(a as unknown[])), [fn, args] as const);
}


for (const backend of ['webgpu', 'wasm'] as const) {
  test(`${backend}: zero steering = original graph (≤1e-5), captures = golden (≤1e-3), steering moves by v`, async ({ page }) => {
    await open(page);
    // The fused-attention GPT-2 differs in graph layout only (found by the same parser on either backend): WASM.
    for (const base of backend === 'wasm' ? [GPT2, FUSED, LLAMA] : [GPT2, LLAMA]) {
      const parity = await call(page, 'zeroSteerParity', base, backend);
      expect(parity.device.backend, base).toBe(backend);
      expect(parity.vsPlain, base).toBeLessThanOrEqual(1e-5);
      expect(parity.vsGolden, base).toBeLessThanOrEqual(1e-3);
      const r = await call(page, 'residualsVsGolden', base, backend);
      // Llama's rotary Sin/Cos run on the CPU EP (see trigNodes in model.ts): WGSL trig cost 5e-3 here.
      for (const d of r.perLayer) expect(d, base).toBeLessThanOrEqual(1e-3);
      expect(r.onGpu, base).toBe(backend === 'webgpu');
      for (const layer of [0, 1]) {
        const s = await call(page, 'steerByVector', base, backend, layer);
        expect(s.steerError, `${base} L${layer}`).toBeLessThanOrEqual(1e-4);
        expect(s.baselineRowResidual).toBeLessThanOrEqual(1e-5);
        expect(s.baselineRowLogits).toBeLessThanOrEqual(1e-5);
      }
    }
    await call(page, 'unload');
  });

  // WebGPU here is SwiftShader emulating the GPU on the CPU, and full recomputation grows with the square of the
  // length: it checks the first 24 golden tokens (the cache on the GPU grows past its first chunk all the same), WASM 64.
  const n = backend === 'webgpu' ? 24 : 64;
  test(`${backend}: KV-cache greedy = full recomputation = golden for ${n} tokens; seeds reproduce`, async ({ page }) => {
    await open(page);
    for (const base of [GPT2, LLAMA]) {
      const r = await call(page, 'cacheVsRecompute', base, backend, n);
      expect(r.cached.length).toBe(n);
      expect(r.cached, base).toEqual(r.full);
      expect(r.cached, base).toEqual(r.golden);
      expect(r.cacheLocations, base).toEqual([backend === 'webgpu' ? 'gpu-buffer' : 'cpu']);
    }
    const a = await call(page, 'sampleText', GPT2, backend, 11);
    const b = await call(page, 'sampleText', GPT2, backend, 11);
    const c = await call(page, 'sampleText', GPT2, backend, 12);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // A batch of two rows with the same seed: each row reproduces the single-row text.
    const batch = await call(page, 'sampleText', GPT2, backend, 11, 2);
    expect(batch).toEqual([a[0], a[0]]);
    await call(page, 'unload');
  });
}

test('bad inputs give typed errors and the engine keeps working', async ({ page }) => {
  await open(page);
  const tiny = async (file: string) => (await page.request.get(`${GPT2}${file}`)).body();
  const onnx = await tiny('onnx/model.onnx');
  const serve = async (folder: string, files: Record<string, Buffer | null>) =>
    page.route(`**/models/bad/${folder}/**`, async (route) => {
      const name = route.request().url().split(`/models/bad/${folder}/`)[1];
      const body = name in files ? files[name] : await tiny(name);
      if (body === null) await route.fulfill({ status: 404, body: 'not found' });
      else await route.fulfill({ status: 200, body, contentType: 'application/octet-stream' });
    });
  await serve('truncated', { 'onnx/model.onnx': onnx.subarray(0, Math.floor(onnx.length * 0.6)) });
  await serve('html', { 'onnx/model.onnx': Buffer.from('<!doctype html><html><body>Not a model</body></html>') });
  await serve('notokenizer', { 'tokenizer.json': null });
  const good = await call(page, 'cacheVsRecompute', GPT2, 'webgpu', 16);
  const cases: [string, unknown, RegExp, string][] = [
    ['/models/bad/truncated/', { backend: 'webgpu' }, /truncated/, 'ModelFormatError'],
    ['/models/bad/html/', { backend: 'webgpu' }, /not an \.onnx|Not a valid ONNX/, 'ModelFormatError'],
    ['/models/fixtures/no-residual/', { backend: 'webgpu', onnxFile: 'onnx/model.onnx' }, /Add_1_output_0/, 'ResidualNotFoundError'],
    ['/models/bad/notokenizer/', { backend: 'webgpu' }, /tokenizer\.json/, 'MissingFileError'],
    [GPT2, { backend: 'webgpu', onnxFile: 'onnx/model.onnx', layers: [7] }, /Layer 7 does not exist/, 'LayerOutOfRangeError'],
  ];
  for (const [base, options, message, name] of cases) {
    const e = await call(page, 'loadError', base, options);
    expect(e.name, base).toBe(name);
    expect(e.message, base).toMatch(message);
  }
  const overflow = await page.evaluate(async (base) => {
    const m = await (window as any).harness.runtime.load(base, { backend: 'webgpu', onnxFile: 'onnx/model.onnx' });
    try {
      m.encode('hello world '.repeat(200));
      return 'no error';
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  }, GPT2);
  expect(overflow).toMatch(/^ContextOverflowError: The prompt is \d+ tokens long but the model's context window is 128/);
  const after = await call(page, 'cacheVsRecompute', GPT2, 'webgpu', 16);
  expect(after.cached).toEqual(good.cached);
  await call(page, 'unload');
});

test('a lost GPU device is replaced and generation continues with the same result', async ({ page }) => {
  await open(page);
  const r = await call(page, 'deviceLoss', GPT2);
  expect(r.events).toContain('device-lost');
  expect(r.events).toContain('device-restored');
  expect(r.after).toEqual(r.before);
  // Back on a GPU, the graph is still held for the next loss.
  expect(r.backend).toBe('webgpu');
  expect(r.retainsGraph).toBe(true);
});

test('captures are readable on the shared GPUDevice, and a GPUBuffer steers like the same Float32Array', async ({ page }) => {
  await open(page);
  const r = await call(page, 'sharedDevice', GPT2);
  expect(r.validation).toBe('');
  expect(r.copyError).toBe(0);
  expect(r.steerError).toBeLessThanOrEqual(1e-6);
  expect(r.sameTokens).toBe(true);
  await call(page, 'unload');
});

test('without WebGPU, auto falls back to WASM with a reason and the same greedy tokens', async ({ page }) => {
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  await open(page);
  const r = await page.evaluate(async (base) => {
    const h = (window as any).harness.runtime;
    const m = await h.load(base, { backend: 'auto' });
    const out = await h.cacheVsRecompute(base, 'wasm', 16);
    return { device: m.device, cached: out.cached, golden: out.golden.slice(0, 16) };
  }, GPT2);
  expect(r.device.backend).toBe('wasm');
  expect(r.device.fallbackReason).toMatch(/navigator\.gpu/);
  expect(r.cached).toEqual(r.golden);
});

test('the in-graph latent clamp gives the same residuals on WebGPU as on WASM', async ({ page }) => {
  await open(page);
  for (const base of [GPT2, FUSED, LLAMA]) {
    const gpu = await call(page, 'clampResidual', base, 'webgpu');
    const cpu = await call(page, 'clampResidual', base, 'wasm');
    const diff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    expect(diff(gpu.clamped, cpu.clamped), base).toBeLessThanOrEqual(1e-4);
    // Row 0 has no active slot; row 1 moved.
    expect(diff(gpu.clamped.slice(0, gpu.rowLength), gpu.plain.slice(0, gpu.rowLength)), base).toBeLessThanOrEqual(1e-5);
    expect(diff(gpu.clamped, gpu.plain), base).toBeGreaterThan(0.01);
  }
  await call(page, 'unload');
});
