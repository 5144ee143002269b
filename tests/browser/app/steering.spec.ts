// Steering: a persona turned up changes the continuation, the baseline is exactly the unsteered continuation with
// the same seed, and the persona's monitor reads higher on the steered side.
import { expect, test } from '@playwright/test';
import { appUrl, firstPersona, generate, setPersona, setSampling, shot, waitForAnalysis } from './helpers';

test('raising a persona slider and generating: steered differs, baseline is the unsteered run, monitor is higher', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  const persona = await firstPersona(page);
  await setSampling(page, 10, 1234);
  await setPersona(page, persona, 'max');
  await expect(page.locator(`[data-testid=persona][data-persona="${persona}"] [data-testid=persona-value]`)).not.toHaveText('0');

  const steered = await generate(page);
  expect(steered.baseline.length).toBeGreaterThan(0);
  expect(steered.steered.length).toBeGreaterThan(0);
  expect(steered.steered).not.toBe(steered.baseline);

  const row = page.locator(`[data-testid=monitor-row][data-persona="${persona}"]`);
  await expect(row).toBeVisible();
  const meanSteered = Number(await row.getAttribute('data-mean-steered'));
  const meanBaseline = Number(await row.getAttribute('data-mean-baseline'));
  expect(meanSteered).toBeGreaterThan(meanBaseline);
  // The same means on the 0–1 persona scale of the bars above the tokens (the shipped personas are calibrated).
  const level = row.getByTestId('monitor-level');
  await expect(level).toContainText('On the persona scale');
  expect(Number(await level.getAttribute('data-level-steered'))).toBeGreaterThan(Number(await level.getAttribute('data-level-baseline')));

  // Generated tokens are inspectable: clicking one shows its latents in the token view.
  await page.getByTestId('strip-steered').locator('[role=option]').first().click();
  await expect(page.getByTestId('token-view')).toHaveAttribute('data-source', 'steered');
  await expect(page.getByTestId('token-details')).toContainText('Token 1');
  await shot(page, 'desktop-steered');

  // The same seed with no steering: both rows equal the first run's baseline.
  await setPersona(page, persona, 0);
  const plain = await generate(page);
  expect(plain.steered).toBe(steered.baseline);
  expect(plain.baseline).toBe(steered.baseline);
  const status = page.getByTestId('generation-status');
  await expect(status).toContainText('No steering was on');
  await expect(status).toHaveAttribute('data-stale', 'false');

  // An alert on the persona fires when its steered reading crosses a low threshold.
  await setPersona(page, persona, 'max');
  // The columns on screen are from before the slider moved: the status says so instead of "no steering".
  await expect(status).toHaveAttribute('data-stale', 'true');
  await expect(status).toContainText('press Regenerate');
  await expect(status).not.toContainText('No steering was on');
  await page.getByTestId('watch-persona').selectOption(persona);
  await page.getByTestId('watch-threshold').fill(String(meanBaseline));
  await page.getByTestId('watch-threshold').press('Enter');
  await generate(page);
  await expect(page.getByTestId('monitor-alert')).toBeVisible();
  await page.setViewportSize({ width: 375, height: 812 });
  await shot(page, 'phone-steered');
});

test('no layout shift while streaming', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await setSampling(page, 12, 7);
  await setPersona(page, await firstPersona(page), 'max');
  const boxes = () =>
    page.evaluate(() =>
      ['output-baseline', 'output-steered', 'generation-status'].map((id) => {
        const r = document.querySelector(`[data-testid=${id}]`)!.getBoundingClientRect();
        return [Math.round(r.top), Math.round(r.height)];
      }),
    );
  const before = await boxes();
  await page.getByTestId('generate').click();
  // The first token waits for the model's final device (WebGPU kernels compile first): a state, not a duration.
  await expect(page.getByTestId('output-steered')).not.toHaveAttribute('data-count', '0', { timeout: 300_000 });
  const during = await boxes();
  await expect(page.getByTestId('generation-status')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  const after = await boxes();
  expect(during).toEqual(before);
  expect(after).toEqual(before);
});

test('steer with a feature (add, then clamp) and with a custom persona made from latents', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await setSampling(page, 8, 11);
  const card = page.getByTestId('feature-card');
  const latent = await card.getAttribute('data-latent');
  await card.getByTestId('steer-with-this').click();
  const steer = page.locator(`[data-testid=latent-steer][data-latent="${latent}"]`);
  await expect(steer).toBeVisible();
  const added = await generate(page);
  expect(added.steered).not.toBe(added.baseline);

  await steer.getByTestId('steer-method').selectOption('clamp');
  const clamped = await generate(page);
  expect(clamped.baseline).toBe(added.baseline);
  await steer.getByRole('button', { name: /Remove steer/ }).click();
  await expect(steer).toHaveCount(0);

  await page.getByText('Make a persona from latents').click();
  await page.getByTestId('custom-name').fill('My mix');
  await page.getByTestId('custom-latents').fill(`${latent}:8`);
  await page.getByTestId('custom-create').click();
  const custom = page.locator('[data-testid=persona]', { hasText: 'My mix' });
  await expect(custom).toBeVisible();
  await expect(custom.getByTestId('persona-value')).toHaveText(/^\+1(\.0+)?$/);
  const mixed = await generate(page);
  expect(mixed.steered).not.toBe(mixed.baseline);
  await expect(page).toHaveURL(/[?&]cp=/);

  // A latent id beyond the SAE is refused with a message, nothing else changes.
  await page.getByTestId('custom-latents').fill('999999');
  await page.getByTestId('custom-create').click();
  await expect(page.getByRole('alert').filter({ hasText: 'not a latent id' })).toBeVisible();
});
