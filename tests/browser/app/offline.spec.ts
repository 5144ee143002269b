// After one visit the service worker has the app shell and the model: with the network off, a reload still works.
import { expect, test } from '@playwright/test';
import { appUrl, generate, promptTokens, setSampling, waitForAnalysis } from './helpers';

test('with the network switched off after one visit, a reload still works', async ({ page, context }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return reg.active?.state;
  });
  await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);

  await context.setOffline(true);
  await page.reload();
  await waitForAnalysis(page);
  expect((await promptTokens(page)).length).toBeGreaterThan(3);
  await setSampling(page, 6, 3);
  const out = await generate(page);
  expect(out.baseline.length).toBeGreaterThan(0);
  await context.setOffline(false);
});
