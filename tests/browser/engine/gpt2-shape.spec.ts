// The real-size model script (models/recipe/gpt2_small.py) on a small shape of the same recipe, so CI runs it in
// seconds: GPT-2's real BPE vocabulary (50,257 tokens) and merges, a random 2-layer model exported by the recipe's
// exporter to q4, a random TopK SAE. It loads, analyses and generates with latent steering through the playground
// engine on WASM and on WebGPU (SwiftShader), and the two backends agree. The full GPT-2-small shape is a benchmark
// (tests/bench/suites/40-gpt2-small.mjs), not a test: it takes minutes here.
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const DIR = 'models/.cache/gpt2-shape-test';
const SHAPE = ['--layers', '2', '--width', '64', '--heads', '2', '--d-sae', '512', '--sae-k', '16', '--sae-layer', '1', '--ctx', '128'];
test.setTimeout(600_000);

test.beforeAll(() => {
  if (!existsSync(`${DIR}/sae/blocks.1.hook_resid_post/sae_weights.safetensors`))
    execFileSync('/usr/bin/python3', ['models/recipe/gpt2_small.py', ...SHAPE, '--out', DIR], { stdio: 'inherit' });
});

async function realSize(page: Page, backend: 'webgpu' | 'wasm') {
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sae?.realSize);
  return page.evaluate(
    (o) => (window as any).harness.sae.realSize(o),
    { modelUrl: `/${DIR}/`, saeUrl: `/${DIR}/sae/blocks.1.hook_resid_post/`, backend, newTokens: 8, latent: 77, coefficient: 40 },
  );
}

test('GPT-2 vocabulary, random 2-layer model and SAE: loads, analyses and steers on WASM and WebGPU alike', async ({ page }) => {
  const cpu = await realSize(page, 'wasm');
  const gpu = await realSize(page, 'webgpu');
  expect(cpu.device.backend).toBe('wasm');
  expect(gpu.device.backend).toBe('webgpu');
  // OpenAI's GPT-2 ids for "Hello world" (encoder.json: "Hello" 15496, "Ġworld" 995).
  expect(cpu.helloIds).toEqual([15496, 995]);
  expect(cpu.sae).toMatchObject({ layer: 1, dIn: 64, dSae: 512, architecture: 'topk' });
  expect(cpu.analysis.tokens).toBe(9);
  for (const r of [cpu, gpu]) {
    expect(r.analysis.k).toBe(8);
    for (const i of r.analysis.indices) expect(i >= 0 && i < 512).toBe(true);
    for (let t = 0; t < r.analysis.tokens; t++) {
      const v = r.analysis.values.slice(t * 8, t * 8 + 8);
      for (let m = 1; m < 8; m++) expect(v[m]).toBeLessThanOrEqual(v[m - 1]);
    }
  }
  // Same q4 graph and SAE: the GPU's activations equal the CPU reference's (f16 weights on the GPU, see sae-kernels).
  for (let j = 0; j < cpu.analysis.values.length; j++)
    expect(Math.abs(gpu.analysis.values[j] - cpu.analysis.values[j])).toBeLessThan(2e-3 * Math.max(1, Math.abs(cpu.analysis.values[j])));
  // Steering latent 77 hard moves the continuation; both backends produce the same tokens.
  expect(cpu.rows[1]).not.toEqual(cpu.rows[0]);
  expect(gpu.rows).toEqual(cpu.rows);
  expect(cpu.peakGpuMb).toBe(0);
  expect(gpu.peakGpuMb).toBeGreaterThan(0);
});
