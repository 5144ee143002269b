// First visit: the example prompt is analysed without the user doing anything; then the user's own words.
import { expect, test } from '@playwright/test';
import { appUrl, promptTokens, shot, waitForAnalysis } from './helpers';

test('first load shows the analysed example: coloured tokens, top features, progress done, device badge', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-phase', 'ready');
  await expect(page.getByRole('progressbar', { name: 'Model loading' })).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|Running on CPU \(WASM\)/);
  // `auto` says why it chose: a software adapter (SwiftShader here) goes to WASM, a hardware GPU to WebGPU.
  const adapter = await page.evaluate(async () => {
    const info = (await navigator.gpu?.requestAdapter())?.info;
    return info ? `${info.vendor} ${info.architecture}${info.isFallbackAdapter ? ' fallback' : ''}` : '';
  });
  if (/swiftshader|llvmpipe|lavapipe|fallback/i.test(adapter)) {
    await expect(page.getByTestId('device-badge')).toHaveAttribute('data-backend', 'wasm');
    await expect(page.getByTestId('device-badge')).toHaveAttribute('data-pending', '');
    await expect(page.getByTestId('device-badge')).toContainText('software renderer');
    await expect(page.getByTestId('token-view')).toHaveAttribute('data-backend', 'wasm');
  }
  expect((await promptTokens(page)).length).toBeGreaterThan(3);
  // Tokens carry real colours from the scale, and at least two different ones (the text is not uniformly lit).
  const colours = await page
    .getByTestId('token-strip')
    .locator('[role=option]')
    .evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  expect(new Set(colours).size).toBeGreaterThan(1);
  await expect(page.getByTestId('top-features').getByTestId('feature-item').first()).toBeVisible();
  expect(await page.getByTestId('top-features').getByTestId('feature-item').count()).toBeGreaterThan(2);
  await expect(page.getByTestId('feature-card')).toBeVisible();
  await expect(page.getByTestId('colour-legend')).toContainText('Colour:');
  await expect(page.getByTestId('persona').first()).toBeVisible();
  await shot(page, 'desktop-first-load');
  await page.setViewportSize({ width: 375, height: 812 });
  // Nothing may stick out sideways on a phone.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(page, 'phone-first-load');
  // Inspecting tokens on a phone: long latent labels are cut with an ellipsis, never widen the page (they once did,
  // and the page then flipped between two layouts every frame under a hovering pointer).
  const first = page.getByTestId('token-strip').locator('[role=option]').first();
  await first.hover();
  await first.click();
  // The pointer leaves, so that the keyboard's pinned token is the one shown.
  await page.mouse.move(0, 0);
  await expect(page.getByTestId('token-details')).toContainText('Token 1:');
  const tokens = (await promptTokens(page)).length;
  let worst = 0;
  // A token's specific latents come first, the dense ones (on most tokens of any text) after them.
  const order = () => page.getByTestId('token-details').locator('li').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.dense));
  let mixed = 0;
  for (let i = 0; i < tokens; i++) {
    if (i > 0) await page.keyboard.press('ArrowRight');
    await expect(page.getByTestId('token-details')).toContainText(`Token ${i + 1}:`);
    worst = Math.max(worst, await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth));
    const dense = await order();
    expect(dense.join(',')).toBe([...dense.filter((d) => d === 'false'), ...dense.filter((d) => d === 'true')].join(','));
    if (dense.includes('true') && dense.includes('false')) mixed++;
  }
  expect(worst).toBeLessThanOrEqual(0);
  expect(mixed, 'tokens with both specific and dense latents').toBeGreaterThan(0);
  await shot(page, 'phone-token-inspector');
});

test('typing a prompt and analysing updates the token view; hovering a token shows its top latents', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  const before = await promptTokens(page);
  const prompt = 'NAME\n       grep - print lines that match patterns';
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('analyse').click();
  await expect.poll(async () => (await promptTokens(page)).join('|'), { timeout: 300_000 }).not.toBe(before.join('|'));
  const tokens = page.getByTestId('token-strip').locator('[role=option]');
  expect(await tokens.count()).toBeGreaterThan(5);
  expect((await promptTokens(page)).join('').replace(/·/g, ' ')).toContain('grep');

  await tokens.nth(3).hover();
  const details = page.getByTestId('token-details');
  await expect(details).toContainText('Token 4');
  await expect(details.getByTestId('token-latent').first()).toBeVisible();

  // Keyboard: focus the strip, move right, the details follow.
  await tokens.nth(3).click();
  await page.keyboard.press('ArrowRight');
  await page.mouse.move(0, 0);
  await expect(details).toContainText('Token 5');

  // Choosing a latent in the details colours the strip by it and opens its card.
  const latent = details.getByTestId('token-latent').first();
  await latent.click();
  await expect(page.getByTestId('feature-card')).toBeVisible();
  await expect(page.getByTestId('colour-legend')).not.toContainText('most specific on this text');

  // Search by id finds that latent in the feature list.
  const id = await page.getByTestId('feature-card').getAttribute('data-latent');
  await page.getByTestId('feature-search').fill(`#${id}`);
  await expect(page.locator(`[data-testid=feature-item][data-latent="${id}"]`).first()).toBeVisible();
  await shot(page, 'desktop-token-details');
});

test('every control has an accessible name, and tab order starts at the Discover link, the model picker, then the prompt', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  const unnamed = await page.evaluate(() => {
    const missing: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('button, input, select, textarea, [role=option], [role=img]')) {
      if (el.closest('[hidden], details:not([open])')) continue;
      const labelled =
        el.getAttribute('aria-label') ||
        el.getAttribute('aria-labelledby') ||
        (el as HTMLInputElement).labels?.length ||
        el.textContent?.trim() ||
        el.getAttribute('title');
      if (!labelled) missing.push(el.outerHTML.slice(0, 120));
    }
    return missing;
  });
  expect(unnamed).toEqual([]);
  // Reading order: the headline's Discover link, then the model picker.
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('discover-link')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('model-select')).toBeFocused();
  for (let i = 0; i < 12; i++) {
    if (await page.getByTestId('prompt').evaluate((el) => el === document.activeElement)) break;
    await page.keyboard.press('Tab');
  }
  await expect(page.getByTestId('prompt')).toBeFocused();
});

/** The feature list as (latent, largest activation) pairs, strongest first. */
async function topFeatures(page: import('@playwright/test').Page): Promise<{ latent: number; max: number }[]> {
  return page
    .getByTestId('top-features')
    .getByTestId('feature-item')
    .evaluateAll((els) =>
      els.map((e) => ({ latent: Number(e.getAttribute('data-latent')), max: parseFloat(e.querySelector('.value')?.textContent ?? 'NaN') })),
    );
}

// The app's one end-to-end WebGPU test (forced with the URL key: `auto` picks WASM on a software adapter such as the
// SwiftShader these tests run on). The WebGPU kernels have their own tests in tests/browser/engine.
test('backend=webgpu: the first view is answered on the CPU at once; the model then moves to WebGPU, where a re-analysis agrees', async ({ page }) => {
  test.slow();
  await page.goto(appUrl('backend=webgpu'));
  await waitForAnalysis(page);
  const view = page.getByTestId('token-view');
  // Quick start: the example was analysed by the WASM session while the GPU kernels compiled.
  await expect(view).toHaveAttribute('data-backend', 'wasm');
  const cpu = await topFeatures(page);
  expect(cpu.length).toBeGreaterThan(2);
  await expect(page.getByTestId('device-badge')).toHaveAttribute('data-backend', 'webgpu', { timeout: 300_000 });
  await expect(page.getByTestId('device-badge')).toHaveAttribute('data-pending', '');
  await page.getByTestId('analyse').click();
  await expect(view).toHaveAttribute('data-backend', 'webgpu', { timeout: 300_000 });
  const gpu = await topFeatures(page);
  // Same q4 graph, same SAE: the strongest latents agree, and so do their activations (CPU vs GPU rounding only).
  for (const { latent, max } of cpu.slice(0, 3)) {
    const match = gpu.slice(0, 6).find((g) => g.latent === latent);
    expect(match, `latent ${latent} among the GPU's strongest`).toBeDefined();
    expect(Math.abs(match!.max - max)).toBeLessThanOrEqual(0.03 * Math.abs(max) + 0.02);
  }
});
