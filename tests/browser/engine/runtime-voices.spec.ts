// The embedded Voices model (or its smoke export until it lands) against the recipe's PyTorch golden file:
// tokenizer ids, residuals at every block (≤1e-3), zero-steering parity (≤1e-5), greedy continuations; q4 runs.
import { expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const folder = existsSync('models/voices/golden.json') && existsSync('models/voices/onnx/model.onnx') ? 'voices' : 'voices-smoke';
const BASE = `/models/${folder}/`;

test.skip(!existsSync(`models/${folder}/golden.json`), 'no Voices model export yet');
// The real model on SwiftShader (a CPU rasteriser) generates at about one token per second on a busy machine.
test.setTimeout(600_000);

// fp32 goldens: Voices on WASM; on WebGPU (SwiftShader emulating the GPU on this CPU) the smoke build of the same
// recipe when present — the same kernels and instrumentation against its own PyTorch golden file, at a fraction of
// the cost. The app's q4 graph of Voices runs on WebGPU below.
const smokeFp32 = existsSync('models/voices-smoke/golden.json') && existsSync('models/voices-smoke/onnx/model.onnx');
for (const backend of ['webgpu', 'wasm'] as const) {
  const goldenFolder = backend === 'webgpu' && smokeFp32 ? 'voices-smoke' : folder;
  test(`${goldenFolder} fp32 on ${backend}: golden residuals, logits, greedy; zero steering changes nothing`, async ({ page }) => {
    await page.goto(HARNESS_PATH);
    await page.waitForFunction(() => (window as any).harness?.runtime);
    const r = await page.evaluate(([b, be]) => (window as any).harness.runtime.voicesGolden(b, be), [`/models/${goldenFolder}/`, backend]);
    expect(r.device.backend).toBe(backend);
    expect(r.tokenizerMismatches).toBe(0);
    expect(r.residual).toBeLessThanOrEqual(1e-3);
    expect(r.logits).toBeLessThanOrEqual(1e-3);
    expect(r.zeroSteer).toBeLessThanOrEqual(1e-5);
    expect(r.greedyMismatches).toBe(0);
  });
}

// The q4 graph (int8 token embedding, MatMulNBits blocks and lm_head) on both execution providers of both ORT builds
// (the harness page's ?ort=: JSPI, which this Chromium has, and the Asyncify build other browsers get).
for (const flavor of ['jspi', 'asyncify'] as const)
  for (const backend of ['webgpu', 'wasm'] as const)
    test(`${folder} q4 on ${backend}, ORT ${flavor} build: instrumented graph runs and zero steering changes nothing`, async ({ page }) => {
      test.skip(!existsSync(`models/${folder}/onnx/model_q4.onnx`), 'no q4 export');
      await page.goto(`${HARNESS_PATH}?ort=${flavor}`);
      await page.waitForFunction(() => (window as any).harness?.runtime);
      const r = await page.evaluate(([b, be]) => (window as any).harness.runtime.voicesGolden(b, be, 'onnx/model_q4.onnx', false), [BASE, backend]);
      expect(r.device.backend).toBe(backend);
      expect(await page.evaluate(() => (window as any).harness.ort.flavor())).toBe(flavor);
      expect(await page.evaluate(() => (window as any).harness.ort.wasm())).toContain(`ort-wasm-simd-threaded.${flavor}.wasm`);
      expect(r.tokenizerMismatches).toBe(0);
      expect(r.zeroSteer).toBeLessThanOrEqual(1e-5);
      // q4 weights move the numbers; the residuals stay close to the fp32 golden values (within 15% of their scale).
      expect(r.residual).toBeLessThan(0.15 * r.residualScale);
    });
