// The experiment travels in the URL (a copied link reproduces the steered text) and survives a reload.
import { expect, test } from '@playwright/test';
import { appUrl, firstPersona, generate, setPersona, setSampling, waitForAnalysis, waitForModel } from './helpers';

test('a copied share URL opened in a fresh page reproduces the same steered text', async ({ page, browser }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  const persona = await firstPersona(page);
  await page.getByTestId('prompt').fill('The man opened the book and');
  await setSampling(page, 12, 99);
  await setPersona(page, persona, 'max');
  const first = await generate(page);
  await page.getByTestId('copy-link').click();
  const link = await page.getByTestId('share-link').inputValue();
  expect(link).toContain('v=1');
  expect(link).toContain(`ps=${persona}:`);

  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(link);
  await waitForModel(other);
  await expect(other.getByTestId('prompt')).toHaveValue('The man opened the book and');
  await expect(other.getByTestId('seed')).toHaveValue('99');
  const again = await generate(other);
  expect(again.steered).toBe(first.steered);
  expect(again.baseline).toBe(first.baseline);

  // The embed code points at the embed view (index.html?embed) with the same experiment.
  await page.getByTestId('copy-embed').click();
  const code = await page.getByTestId('share-embed').inputValue();
  const embedPage = new URL('index.html', page.url()).href;
  expect(code.startsWith(`<iframe src="${embedPage}?embed&amp;v=1&amp;`)).toBe(true);
  await fresh.close();
});

test('a reload keeps the prompt and the sliders', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForModel(page);
  const persona = await firstPersona(page);
  await page.getByTestId('prompt').fill('Words I typed myself');
  const strength = await setPersona(page, persona, 'max');
  await page.getByTestId('temperature').fill('0.5');
  // The experiment reaches the URL (and local storage) once the debounced sync has run.
  await expect(page).toHaveURL(/[?&]t=0\.5(&|$)/);
  await page.reload();
  await expect(page.getByTestId('prompt')).toHaveValue('Words I typed myself');
  await waitForModel(page);
  const slider = page.locator(`[data-testid=persona][data-persona="${persona}"] [data-testid=persona-slider]`);
  await expect(slider).toHaveValue(String(strength));
  await expect(page.getByTestId('temperature')).toHaveValue('0.5');

  // Local storage alone (the URL stripped) also restores it.
  await page.goto('./');
  await expect(page.getByTestId('prompt')).toHaveValue('Words I typed myself');
});
