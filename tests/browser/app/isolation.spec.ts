// Multi-threaded WASM needs a cross-origin-isolated page. `vite preview` (like most static hosts) sends no COOP/COEP
// headers; the service worker adds them, so from the second visit on the page is isolated and ORT uses threads.
import { expect, test } from '@playwright/test';
import { appUrl, generate, setSampling, waitForAnalysis } from './helpers';

test('the service worker makes the next visit cross-origin isolated, and the CPU backend then runs on several threads', async ({ page }) => {
  test.slow();
  await page.goto(appUrl('backend=wasm'));
  await waitForAnalysis(page);
  await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
  await page.reload();
  await waitForAnalysis(page);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  // ORT's rule in src/lib/runtime/ort.ts: min(4, cores) threads when isolated.
  const threads = await page.evaluate(() => Math.min(4, navigator.hardwareConcurrency || 1));
  const badge = page.getByTestId('device-badge');
  await expect(badge).toHaveAttribute('data-backend', 'wasm');
  await expect(badge).toHaveAttribute('data-threads', String(threads));
  if (threads > 1) await expect(badge).toContainText(`${threads} threads`);
  // The threaded runtime really runs the model: a generation completes with text in both columns.
  await setSampling(page, 6, 3);
  const out = await generate(page);
  expect(out.baseline.length).toBeGreaterThan(0);
  expect(out.steered.length).toBeGreaterThan(0);
});
