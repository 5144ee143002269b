// The embed widget: configured from its URL, sized for an iframe, generates both continuations.
import { expect, test } from '@playwright/test';
import { appUrl, shot, waitForModel } from './helpers';

test('the embed page loads from URL parameters and generates', async ({ page }) => {
  test.slow();
  // Find a persona id from the app first, so the test does not hard-code the model's presets.
  await page.goto(appUrl());
  await waitForModel(page);
  const persona = (await page.getByTestId('persona').first().getAttribute('data-persona'))!;

  await page.setViewportSize({ width: 640, height: 560 });
  await page.goto(appUrl(`v=1&p=${encodeURIComponent('In the beginning')}&ps=${persona}:2&n=10&seed=5`, 'embed.html'));
  await waitForModel(page);
  await expect(page.getByTestId('prompt')).toHaveValue('In the beginning');
  const slider = page.locator(`[data-testid=persona][data-persona="${persona}"] [data-testid=persona-slider]`);
  await expect(slider).toHaveValue('2');
  await expect(page.getByTestId('max-tokens')).toHaveValue('10');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('generation-status')).toHaveAttribute('data-status', 'done', { timeout: 180_000 });
  await expect(page.getByTestId('output-baseline')).not.toHaveAttribute('data-text', '');
  await expect(page.getByTestId('output-steered')).not.toHaveAttribute('data-text', '');
  await expect(page.locator(`[data-testid=monitor-row][data-persona="${persona}"]`)).toBeVisible();
  await shot(page, 'embed-640');
  await page.setViewportSize({ width: 375, height: 700 });
  await shot(page, 'embed-phone');
});
