// Shared steps for the app tests: open the built app on a model, wait for the analysed prompt, drive the steering
// and generation controls, and write screenshots under test-results/.
import { expect, type Page } from '@playwright/test';

/** `APP_TEST_MODEL=voices-smoke` runs the suite against the smoke model while the real one is being trained. */
export const MODEL = process.env.APP_TEST_MODEL ?? 'voices';

export function appUrl(query = '', page = ''): string {
  const params = new URLSearchParams(query);
  if (MODEL !== 'voices' && !params.has('m')) params.set('m', MODEL);
  const q = params.toString();
  return `./${page}${q ? `?${q}` : ''}`;
}

/** The embed widget's address, `./index.html?embed&<query>` (with the test model's `m` as appUrl adds it). */
export function embedUrl(query = ''): string {
  const q = appUrl(query).replace(/^\.\/\??/, '');
  return `./index.html?embed${q ? `&${q}` : ''}`;
}

/** The JavaScript files the page has fetched so far (its resource timing entries), by path. */
export async function scriptsLoaded(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => p.endsWith('.js')),
  );
}

export async function waitForModel(page: Page): Promise<void> {
  const progress = page.getByTestId('load-progress');
  await expect(progress).toHaveAttribute('data-phase', /ready|error/, { timeout: 300_000 });
  if ((await progress.getAttribute('data-phase')) === 'error') {
    const messages = await page.locator('[data-testid^=notice-]').allTextContents();
    throw new Error(`The model did not load: ${messages.join(' | ')}`);
  }
  await expect(progress).toHaveAttribute('data-stage', 'ready');
}

export async function waitForAnalysis(page: Page): Promise<void> {
  await waitForModel(page);
  await expect(page.getByTestId('token-strip').locator('[data-coloured=true]').first()).toBeVisible({ timeout: 300_000 });
}

export async function promptTokens(page: Page): Promise<string[]> {
  return page.getByTestId('token-strip').locator('[role=option]').allTextContents();
}

/** Id of the first persona preset the model ships. */
export async function firstPersona(page: Page): Promise<string> {
  const persona = page.getByTestId('persona').first();
  await expect(persona).toBeVisible();
  return (await persona.getAttribute('data-persona'))!;
}

export async function setPersona(page: Page, id: string, value: number | 'max'): Promise<number> {
  const slider = page.locator(`[data-testid=persona][data-persona="${id}"] [data-testid=persona-slider]`);
  const target = value === 'max' ? Number(await slider.getAttribute('max')) : value;
  await slider.fill(String(target));
  return target;
}

export async function setSampling(page: Page, maxTokens: number, seed: number): Promise<void> {
  await page.getByTestId('max-tokens').fill(String(maxTokens));
  await page.getByTestId('seed').fill(String(seed));
}

export interface Outputs {
  baseline: string;
  steered: string;
}

export async function generate(page: Page): Promise<Outputs> {
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('generation-status')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  return {
    baseline: (await page.getByTestId('output-baseline').getAttribute('data-text')) ?? '',
    steered: (await page.getByTestId('output-steered').getAttribute('data-text')) ?? '',
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screenshots/${name}.png`, fullPage: true });
}
