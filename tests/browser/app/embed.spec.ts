// The embed widget (index.html?embed&…): configured from its URL, sized for an iframe, generates both continuations;
// a view of its own, so it fetches the widget's chunk and not the playground's (and the other way round). Old links
// to embed.html are forwarded to it, query and fragment kept.
import { expect, test } from '@playwright/test';
import { appUrl, embedUrl, scriptsLoaded, shot, waitForModel } from './helpers';

/** The view chunks of a page's scripts (`assets/view-<name>-<hash>.js`, named so by vite.config.ts), by name. */
async function viewsLoaded(page: import('@playwright/test').Page): Promise<string[]> {
  return (await scriptsLoaded(page))
    .map((p) => p.match(/\/assets\/view-([a-z]+)-[^/]*\.js$/)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort();
}

test('the embed page loads from URL parameters and generates', async ({ page }) => {
  test.slow();
  // Find a persona id from the app first, so the test does not hard-code the model's presets.
  await page.goto(appUrl());
  await waitForModel(page);
  const persona = (await page.getByTestId('persona').first().getAttribute('data-persona'))!;
  expect(await viewsLoaded(page)).toEqual(['playground']);

  await page.setViewportSize({ width: 640, height: 560 });
  await page.goto(embedUrl(`v=1&p=${encodeURIComponent('In the beginning')}&ps=${persona}:2&n=10&seed=5`));
  await waitForModel(page);
  await expect(page.getByTestId('embed')).toBeVisible();
  await expect(page).toHaveTitle('Persona Playground widget');
  // The widget's chunk, not the playground's UI.
  expect(await viewsLoaded(page)).toEqual(['embed']);
  await expect(page.getByTestId('prompt')).toHaveValue('In the beginning');
  const slider = page.locator(`[data-testid=persona][data-persona="${persona}"] [data-testid=persona-slider]`);
  await expect(slider).toHaveValue('2');
  await expect(page.getByTestId('max-tokens')).toHaveValue('10');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('generation-status')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  await expect(page.getByTestId('output-baseline')).not.toHaveAttribute('data-text', '');
  await expect(page.getByTestId('output-steered')).not.toHaveAttribute('data-text', '');
  await expect(page.locator(`[data-testid=monitor-row][data-persona="${persona}"]`)).toBeVisible();
  await shot(page, 'embed-640');
  await page.setViewportSize({ width: 375, height: 700 });
  await shot(page, 'embed-phone');
});

test('an old embed.html link forwards to index.html?embed with its query and fragment', async ({ page }) => {
  const query = appUrl(`v=1&p=${encodeURIComponent('Old link')}&n=7`).replace(/^\.\/\?/, '');
  const entriesBefore = await page.evaluate(() => history.length);
  await page.goto(`./embed.html?${query}#lab=diff&lm=max`);
  await expect(page).toHaveURL((url) => url.pathname.endsWith('/index.html') && url.search === `?embed&${query}` && url.hash === '#lab=diff&lm=max');
  await expect(page.getByTestId('embed')).toBeVisible();
  await expect(page.getByTestId('prompt')).toHaveValue('Old link');
  await expect(page.getByTestId('max-tokens')).toHaveValue('7');
  // The forwarder replaced its own history entry (one new entry, not two): Back does not bounce through it again.
  expect(await page.evaluate(() => history.length)).toBe(entriesBefore + 1);
});
