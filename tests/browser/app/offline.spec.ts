// After one visit the service worker has the app shell and the model: with the network off, a reload still works,
// and an old embed.html link still reaches the embed view.
import { expect, test } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { appUrl, embedUrl, generate, MODEL, promptTokens, setSampling, waitForAnalysis, waitForModel } from './helpers';

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

  // The open card's examples file was fetched on the first visit, so the service worker has it offline; a card whose
  // file was never fetched says so instead of showing nothing.
  await expect(page.getByTestId('feature-examples')).toBeVisible();
  const sae = readdirSync(`models/${MODEL}/sae`)[0];
  const perFile: number = JSON.parse(readFileSync(`models/${MODEL}/sae/${sae}/features.json`, 'utf8')).examples.per_file;
  const shownFile = Math.floor(Number(await page.getByTestId('feature-card').getAttribute('data-latent')) / perFile);
  const ids = await page.getByTestId('top-features').getByTestId('feature-item').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-latent'))));
  const other = ids.find((id) => Math.floor(id / perFile) !== shownFile);
  expect(other).toBeDefined();
  await page.locator(`[data-testid=top-features] [data-latent="${other}"]`).click();
  await expect(page.getByTestId('examples-error')).toContainText('offline');
  await context.setOffline(false);
});

test('after one visit to the embed view, an old embed.html link works offline', async ({ page, context }) => {
  test.slow();
  await page.goto(embedUrl('v=1&n=4'));
  await waitForModel(page);
  await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);

  // The forwarder page and its script are in the service worker's cache; the widget's chunk and model from the visit.
  await context.setOffline(true);
  const query = appUrl(`v=1&p=${encodeURIComponent('Offline link')}&n=4`).replace(/^\.\/\?/, '');
  await page.goto(`./embed.html?${query}`);
  await expect(page).toHaveURL((url) => url.pathname.endsWith('/index.html') && url.search === `?embed&${query}`);
  await waitForModel(page);
  await expect(page.getByTestId('prompt')).toHaveValue('Offline link');
  await context.setOffline(false);
});
