// What a newcomer sees first (issue 14): latents ranked by what is specific to the text with dense ones folded away,
// the persona bars from the monitor, a first-visit hint at one slider, examples fetched per card, and screenshots.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync, readdirSync } from 'node:fs';
import { appUrl, MODEL, promptTokens, waitForAnalysis } from './helpers';

const modelDir = `models/${MODEL}`;
const saeDir = `${modelDir}/sae/${readdirSync(`${modelDir}/sae`)[0]}`;
const features = JSON.parse(readFileSync(`${saeDir}/features.json`, 'utf8'));
const golden = JSON.parse(readFileSync(`${modelDir}/golden.json`, 'utf8'));
const density = (latent: number): number => features.latents[latent].density;

interface Item {
  latent: number;
  score: number;
  dense: boolean;
}

async function ranked(page: Page): Promise<Item[]> {
  // Every item on the text, in the order shown: the specific list, then the folded "frequent features".
  return page.locator('[data-testid=top-features] li, [data-testid=frequent-features] li').evaluateAll((els) =>
    els.map((e) => ({
      latent: Number(e.querySelector('[data-latent]')!.getAttribute('data-latent')),
      score: Number(e.getAttribute('data-score')),
      dense: e.getAttribute('data-dense') === 'true',
    })),
  );
}

async function bars(page: Page): Promise<{ id: string; reading: number; level: number; highest: boolean }[]> {
  return page.getByTestId('persona-bar').evaluateAll((els) =>
    els.map((e) => ({
      id: e.getAttribute('data-persona')!,
      reading: Number(e.getAttribute('data-reading')),
      level: Number(e.getAttribute('data-level')),
      highest: e.getAttribute('data-highest') === 'true',
    })),
  );
}

async function analyse(page: Page, prompt: string): Promise<void> {
  const before = (await promptTokens(page)).join('|');
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('analyse').click();
  await expect.poll(async () => (await promptTokens(page)).join('|'), { timeout: 300_000 }).not.toBe(before);
  await expect(page.getByTestId('token-view')).toHaveAttribute('aria-busy', 'false');
}

test('the default page: a specific, non-dense colour latent; dense latents folded under frequent features', async ({ page }) => {
  test.slow();
  const examplesFetched: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/examples/')) examplesFetched.push(new URL(r.url()).pathname.split('/').pop()!);
  });
  await page.goto(appUrl());
  await waitForAnalysis(page);
  const card = page.getByTestId('feature-card');
  const colourLatent = Number(await card.getAttribute('data-latent'));
  expect(density(colourLatent)).toBeLessThan(features.dense_threshold);
  await expect(page.getByTestId('colour-legend')).toContainText('most specific on this text');
  await expect(page.getByTestId('ranking-meaning')).toContainText('Ranked by specificity');

  const items = await ranked(page);
  expect(items.length).toBeGreaterThan(5);
  expect(items[0].latent).toBe(colourLatent);
  expect(items.some((i) => i.dense)).toBe(true);
  for (const i of items) expect(i.dense, `#${i.latent}`).toBe(density(i.latent) >= features.dense_threshold);
  // No dense latent ranks above a non-dense one with a higher specificity score (and each list is in score order).
  for (let a = 0; a < items.length; a++)
    for (let b = a + 1; b < items.length; b++) {
      if (items[a].dense && !items[b].dense) expect(items[b].score, `#${items[a].latent} above #${items[b].latent}`).toBeLessThanOrEqual(items[a].score);
      if (items[a].dense === items[b].dense) expect(items[a].score).toBeGreaterThanOrEqual(items[b].score);
    }
  // The frequent features start folded.
  await expect(page.getByTestId('frequent-features')).not.toHaveAttribute('open', '');

  // The colour scale of a latent runs to its own maximum from the dashboards.
  await expect(page.getByTestId('colour-legend')).toContainText(String(features.latents[colourLatent].max_activation).slice(0, 3));

  // The open card's label says where it came from; its examples came from one file, fetched for this card only.
  await expect(page.getByTestId('label-source')).toContainText('automatic (recipe labels.py');
  await expect(page.getByTestId('feature-examples')).toBeVisible();
  const perFile = features.examples.per_file;
  expect(examplesFetched).toEqual([`${String(Math.floor(colourLatent / perFile)).padStart(4, '0')}.json`]);
  const other = items.find((i) => !i.dense && Math.floor(i.latent / perFile) !== Math.floor(colourLatent / perFile))!;
  await page.locator(`[data-testid=top-features] [data-latent="${other.latent}"]`).click();
  await expect(card).toHaveAttribute('data-latent', String(other.latent));
  await expect(page.getByTestId('feature-examples')).toBeVisible();
  expect(examplesFetched.length).toBe(2);
});

test('persona bars equal the monitor readings on the text; the default prompt shows one clear persona; the hint points at its slider', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  const shown = await bars(page);
  expect(shown.length).toBe(golden.voice_prompts.length);
  // Each bar's reading is the mean of the monitor's per-token reading over the text (read from the token chips when
  // the tokens are coloured by that persona).
  for (const b of shown) {
    await page.getByTestId('colour-by').selectOption(b.id);
    const values = await page
      .getByTestId('token-strip')
      .locator('[role=option]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-value')).filter((v) => v !== null).map(Number));
    expect(values.length).toBe((await promptTokens(page)).length);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    expect(Math.abs(b.reading - mean)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(mean)));
  }
  await page.getByTestId('colour-by').selectOption('');
  // One clear signal on the example prompt: Preacher above 1 (like its own text), every other persona below 0.5.
  const best = shown.find((b) => b.highest)!;
  expect(best.id).toBe('preacher');
  expect(best.level).toBeGreaterThan(1);
  for (const b of shown) if (b.id !== best.id) expect(b.level).toBeLessThan(0.5);

  const hint = page.getByTestId('first-visit-hint');
  await expect(hint).toBeVisible();
  await expect(hint).toHaveAttribute('data-persona', 'preacher');
  await expect(page.locator('[data-testid=persona].hinted')).toHaveAttribute('data-persona', 'preacher');
  await page.getByTestId('hint-show-slider').click();
  await expect(page.locator('[data-testid=persona][data-persona=preacher] [data-testid=persona-slider]')).toBeFocused();
  await page.getByTestId('dismiss-hint').click();
  await expect(hint).toHaveCount(0);
  await page.reload();
  await waitForAnalysis(page);
  await expect(page.getByTestId('persona-bar').first()).toBeVisible();
  await expect(page.getByTestId('first-visit-hint')).toHaveCount(0);

  // The line under the title links to Discover, the guided replication, on the model shown.
  await expect(page.getByTestId('lede')).toContainText('personas inside it');
  await expect(page.getByTestId('discover-link')).toHaveAttribute('href', MODEL === 'voices' ? './?discover=1' : `./?discover=1&m=${MODEL}`);
});

test("for a held-out sentence of each voice, that voice's persona bar is the highest", async ({ page }) => {
  test.slow();
  test.setTimeout(600_000);
  await page.goto(appUrl());
  await waitForAnalysis(page);
  for (const p of golden.voice_prompts as { persona: string; text: string; source: { file: string; paragraph: number } }[]) {
    await analyse(page, p.text);
    const shown = await bars(page);
    const best = shown.find((b) => b.highest);
    expect(best?.id, `${p.source.file} paragraph ${p.source.paragraph}: ${JSON.stringify(shown)}`).toBe(p.persona);
  }
});

test('screenshots of the first view at desktop and phone width', async ({ page }) => {
  test.slow();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await expect(page.getByTestId('persona-bars')).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/first-view-desktop.png' });
  await page.setViewportSize({ width: 375, height: 812 });
  await expect(page.getByTestId('persona-bars')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: 'test-results/screenshots/first-view-phone.png' });
});
