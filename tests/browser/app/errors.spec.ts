// A model folder that fails to load is a message; the model already loaded and the user's words stay usable.
import { expect, test } from '@playwright/test';
import { appUrl, promptTokens, setSampling, generate, shot, waitForAnalysis } from './helpers';

test('a failing model folder shows an error and the previous state stays usable', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await page.getByTestId('prompt').fill('My words must survive');

  await page.getByTestId('model-select').selectOption('custom');
  await page.getByTestId('model-folder').fill('models/does-not-exist/');
  await page.getByTestId('model-load').click();
  const error = page.getByTestId('notice-error');
  await expect(error).toBeVisible({ timeout: 300_000 });
  await expect(error).toContainText('does-not-exist');
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-phase', 'ready');
  await expect(page.getByTestId('prompt')).toHaveValue('My words must survive');
  await shot(page, 'desktop-error');

  // Still usable: analyse and generate with the model that was loaded before.
  const before = await promptTokens(page);
  await page.getByTestId('analyse').click();
  await expect.poll(async () => (await promptTokens(page)).join('|'), { timeout: 300_000 }).not.toBe(before.join('|'));
  await setSampling(page, 6, 1);
  const out = await generate(page);
  expect(out.baseline.length).toBeGreaterThan(0);
});

test('a link to a missing model shows an error page state, keeping the prompt', async ({ page }) => {
  test.slow();
  await page.goto('./?v=1&m=models/nowhere/&p=Kept+prompt');
  await expect(page.getByTestId('load-failed')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('notice-error')).toContainText('nowhere');
  await expect(page.getByTestId('prompt')).toHaveValue('Kept prompt');
  await page.setViewportSize({ width: 375, height: 812 });
  await shot(page, 'phone-error');
});
