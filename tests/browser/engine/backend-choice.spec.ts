// The backend `auto` picks, and that the choice does not change the text: the same q4 graph and our own sampling
// give the same tokens on WASM and WebGPU (SwiftShader here), greedy and sampled, steered and not.
import { expect, test, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const folder = existsSync('models/voices/onnx/model_q4.onnx') ? 'voices' : 'voices-smoke';
const BASE = `/models/${folder}/`;
const PROMPT = 'And the LORD said unto Moses,';

test.skip(!existsSync(`models/${folder}/onnx/model_q4.onnx`), 'no Voices q4 export');
// WebGPU on SwiftShader generates at about one token per second on a busy machine.
test.setTimeout(600_000);

async function harness(page: Page) {
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.runtime);
}

test('auto: a software adapter (SwiftShader) runs on WASM and says why; a hardware one runs on WebGPU', async ({ page }) => {
  await harness(page);
  const r = await page.evaluate((b) => (window as any).harness.runtime.autoChoice(b), BASE);
  expect(r.adapter, 'this browser offers a WebGPU adapter').not.toBeNull();
  const software = r.adapter.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${r.adapter.vendor} ${r.adapter.architecture}`);
  // Settled on WASM, the model lets go of its serialised graph (ORT holds its own copy); on WebGPU it keeps it to
  // rebuild the session after a device loss.
  expect(r.retainsGraph).toBe(r.device.backend === 'webgpu');
  if (software) {
    expect(r.device.backend).toBe('wasm');
    expect(r.device.fallbackReason).toMatch(/^Auto: the only WebGPU adapter is a software renderer \(.*swiftshader|llvmpipe|lavapipe/i);
  } else {
    expect(r.device.backend).toBe('webgpu');
    expect(r.device.why).toMatch(/^Auto: /);
  }
});

test('auto with a race: keeps the backend that measured faster, names both rates, and generates as plain WASM does', async ({ page }) => {
  await harness(page);
  const raced = await page.evaluate(([b, p]) => (window as any).harness.runtime.raceAtLoad(b, p, 8), [BASE, PROMPT] as const);
  expect(raced.race.wasmTps).toBeGreaterThan(0);
  expect(raced.race.webgpuTps).toBeGreaterThan(0);
  const faster = raced.race.webgpuTps > raced.race.wasmTps ? 'webgpu' : 'wasm';
  expect(raced.device.backend).toBe(faster);
  expect(raced.retainsGraph).toBe(faster === 'webgpu');
  const why = faster === 'webgpu' ? raced.device.why : raced.device.fallbackReason;
  expect(why).toMatch(/measured at load.*WebGPU [\d.]+ tok\/s, WASM [\d.]+ tok\/s/);
  // The race ran its own steps on both sessions: the kept one must start the next generation from a clean cache.
  const plain = await page.evaluate(([b, p]) => (window as any).harness.runtime.backendText(b, 'wasm', p, [], 8, 1), [BASE, PROMPT] as const);
  expect(raced.tokens).toEqual(plain.greedy[0]);
});

test('a shared link gives the same text on WASM and WebGPU: same q4 graph, same seed, greedy and sampled, steered row too', async ({ page }) => {
  await harness(page);
  const seeds = [7, 12345];
  const run = (backend: string) =>
    page.evaluate(([b, be, p, s]) => (window as any).harness.runtime.backendText(b, be, p, s, 8, 1), [BASE, backend, PROMPT, seeds] as const);
  const wasm = await run('wasm');
  const gpu = await run('webgpu');
  expect(wasm.device.backend).toBe('wasm');
  expect(gpu.device.backend).toBe('webgpu');
  // Logits differ only by float rounding between the two kernels (measured ≤ 2e-4 here; see
  // tests/bench/BENCHMARKS.md).
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < wasm.logits.length; i++) {
    diff = Math.max(diff, Math.abs(wasm.logits[i] - gpu.logits[i]));
    scale = Math.max(scale, Math.abs(wasm.logits[i]));
  }
  console.log(`q4 prefill logits, WASM vs WebGPU: max |diff| ${diff.toExponential(2)} (max |logit| ${scale.toFixed(2)})`);
  expect(diff).toBeLessThanOrEqual(1e-3 * Math.max(1, scale));
  expect(gpu.greedy).toEqual(wasm.greedy);
  expect(gpu.sampled).toEqual(wasm.sampled);
  // The steered row really is steered, and the seeds really differ: the comparison is not between empty texts.
  expect(wasm.greedy[1]).not.toEqual(wasm.greedy[0]);
  expect(wasm.sampled[0][0]).not.toEqual(wasm.sampled[1][0]);
});
