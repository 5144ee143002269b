// The engine in a Web Worker behind the typed protocol gives the same text as in-thread, streams tokens, reports
// every load stage, keeps typed error names, cancels, and stays usable.
import { expect, test } from '@playwright/test';
import { HARNESS_PATH } from '../../harness/location.mjs';

test('worker engine = in-thread engine; progress, streaming, typed errors, cancel', async ({ page }) => {
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.runtime);
  const r = await page.evaluate(() => (window as any).harness.runtime.workerRoundTrip('/models/voices-smoke/', '/models/voices-smoke/sae/blocks.0.hook_resid_post/'));
  expect(r.backend).toBe('webgpu');
  for (const stage of ['tokenizer', 'download', 'instrument', 'session', 'compile', 'ready']) expect(r.stages).toContain(stage);
  expect(r.workerText.length).toBeGreaterThan(0);
  expect(r.workerText).toBe(r.localText);
  expect(r.streamed).toBe(r.workerText);
  expect(r.overflow).toBe('ContextOverflowError');
  expect(r.cancelled).toBe('cancelled');
  expect(r.afterText).toBe(r.workerText);
});
