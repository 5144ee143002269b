// Generation with tokens chosen on the GPU (GenerationOptions.sampleOnGpu) gives the tokens the CPU sampler gives,
// on WebGPU (SwiftShader here): greedy always; seeded sampling too, as a draw within float rounding of a boundary is
// rare enough not to meet in a few dozen tokens (the kernel's own spec counts those).
import { expect, test } from '@playwright/test';
import { existsSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const folder = existsSync('models/voices-smoke/onnx/model.onnx') ? 'voices-smoke' : 'voices';
test.skip(!existsSync(`models/${folder}/onnx/model.onnx`), 'no Voices export (npm run models:smoke builds the smoke one)');
test.setTimeout(600_000);

test(`${folder} on WebGPU: GPU sampling chooses the CPU sampler's tokens (greedy, seeded, penalties, 2 rows)`, async ({ page }) => {
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.runtime, null, { timeout: 120_000 });
  const r = await page.evaluate(([b]) => (window as any).harness.runtime.gpuSamplingParity(b, 'The old lighthouse keeper said', 12, [1, 2, 3]), [`/models/${folder}/`]);
  expect(r.device.backend).toBe('webgpu');
  for (const run of r.runs) {
    expect(run.sampledOn, run.name).toEqual(['cpu', 'gpu']);
    expect(run.gpu, run.name).toEqual(run.cpu);
    expect(run.cpu.flat().length, run.name).toBeGreaterThan(0);
  }
});
