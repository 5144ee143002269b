// The app loads one onnxruntime-web build (src/lib/runtime/ort-flavor.ts): JSPI where the browser has it (this
// Chromium does), the Asyncify build elsewhere; only that build's .wasm is downloaded. The Asyncify path is tested by
// hiding JSPI's entry points from the page and from the engine worker (its script is served with a first line that
// deletes them), then running the example on WASM and moving the model to WebGPU.
import { expect, test, type Page } from '@playwright/test';
import { appUrl, waitForAnalysis } from './helpers';

/** The ORT .wasm files the page and its workers request from now on. */
function wasmRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) seen.push(r.url().split('/').pop()!);
  });
  return seen;
}

const HIDE_JSPI = 'delete WebAssembly.Suspending; delete WebAssembly.promising;\n';

// Routes must see the worker's script request, which a service worker would answer first.
test.use({ serviceWorkers: 'block' });

test('with JSPI, the first view runs ORT\'s JSPI build and downloads only its .wasm', async ({ page }) => {
  test.slow();
  const wasm = wasmRequests(page);
  expect(await page.evaluate(() => typeof (WebAssembly as any).Suspending)).toBe('function');
  await page.goto(appUrl());
  await waitForAnalysis(page);
  expect(wasm.length).toBeGreaterThan(0);
  expect(wasm.every((u) => /^ort-wasm-simd-threaded\.jspi-.*\.wasm$/.test(u)), wasm.join(', ')).toBe(true);
});

test('without JSPI, the Asyncify build: the example is analysed on WASM, then the model moves to WebGPU', async ({ page }) => {
  test.slow();
  const wasm = wasmRequests(page);
  await page.addInitScript(HIDE_JSPI);
  await page.route(/\/assets\/engine\.worker-[^/]*\.js$/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: HIDE_JSPI + (await response.text()) });
  });
  await page.goto(appUrl('backend=webgpu'));
  await waitForAnalysis(page);
  await expect(page.getByTestId('token-view')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('device-badge')).toHaveAttribute('data-backend', 'webgpu', { timeout: 180_000 });
  await page.getByTestId('analyse').click();
  await expect(page.getByTestId('token-view')).toHaveAttribute('data-backend', 'webgpu', { timeout: 180_000 });
  expect(await page.getByTestId('top-features').getByTestId('feature-item').count()).toBeGreaterThan(2);
  expect(wasm.length).toBeGreaterThan(0);
  expect(wasm.every((u) => /^ort-wasm-simd-threaded\.asyncify-.*\.wasm$/.test(u)), wasm.join(', ')).toBe(true);
});
