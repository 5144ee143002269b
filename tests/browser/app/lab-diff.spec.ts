// The lab's model diff in the built app: the pair the model folder offers first (with variants.json, its base against
// the narrow fine-tune; without, fp32 against q4 of the shipped model), ranked values equal to a reference
// recomputed from the engine's per-prompt analyse (on the dev server's harness), the result and view surviving a
// reload, cancel half way releasing the diff's worker, bad prompt files refused with the list kept, and two models of
// different widths refused before any worker starts.
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appUrl, embedUrl, MODEL, waitForAnalysis, waitForModel } from './helpers';
import { HARNESS_PATH } from '../../harness/location.mjs';

const DEV = `http://127.0.0.1:${process.env.TEST_DEV_PORT ?? 5173}/`;
const PROMPTS = ['The weather today is', 'To open the door,', 'Coffee is made from'];
const HOOK = readdirSync(`models/${MODEL}/sae`)[0];

/** The first pair the lab offers for the model: base against the first other variant, else fp32 against q4. */
function firstPair(): { label: string; folderB: string; a: string; b: string } {
  const file = `models/${MODEL}/variants.json`;
  if (!existsSync(file)) return { label: 'fp32 graph → q4 graph', folderB: `/models/${MODEL}/`, a: 'onnx/model.onnx', b: 'onnx/model_q4.onnx' };
  const v = JSON.parse(readFileSync(file, 'utf8')).variants as { id: string; role: string; folder: string }[];
  const base = v.find((x) => x.role === 'base')!;
  const other = v.find((x) => x !== base)!;
  return { label: `${base.id} → ${other.id}`, folderB: new URL(other.folder, `http://x/models/${MODEL}/`).pathname, a: 'onnx/model_q4.onnx', b: 'onnx/model_q4.onnx' };
}

async function openLab(page: Page, hash = 'lab=diff') {
  await page.goto(`${appUrl()}#${hash}`);
  await waitForAnalysis(page);
  await expect(page.getByTestId('lab-diff')).toBeVisible();
  await expect(page.getByTestId('diff-pair').locator('option')).not.toHaveCount(0);
}

test('a diff of the first pair equals the analyse reference, survives a reload and releases its models', async ({ page, browser }) => {
  test.setTimeout(900_000);
  await openLab(page);
  const pair = firstPair();
  await expect(page.getByTestId('diff-pair')).toContainText(pair.label);
  const workersBefore = page.workers().length;
  await page.getByTestId('diff-prompts-text').fill(PROMPTS.join('\n'));
  await page.getByTestId('diff-run').click();
  await expect(page.getByTestId('lab-diff')).toHaveAttribute('data-status', 'running');
  await expect(page.getByTestId('lab-diff')).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  // The diff's own engine (a second worker) is gone: both models released.
  await expect(page.getByTestId('lab-diff')).toHaveAttribute('data-models', '0');
  await expect.poll(() => page.workers().length).toBe(workersBefore);
  const rows = page.getByTestId('diff-row');
  await expect(rows).toHaveCount(20);
  const shown = await rows.evaluateAll((els) => els.map((e) => ({ latent: Number(e.getAttribute('data-latent')), value: Number(e.getAttribute('data-value')) })));

  // Reference: the same prompts through the engine's analyse with each graph, on the harness page.
  const harness = await browser.newPage();
  await harness.goto(`${DEV}${HARNESS_PATH}`);
  await harness.waitForFunction(() => (window as any).harness?.lab !== undefined);
  const ref = await harness.evaluate(
    ([m, h, p, x]) => (window as any).harness.lab.reference(`/models/${m}/`, `/models/${m}/sae/${h}/`, x.a, x.b, p, 32, x.folderB),
    [MODEL, HOOK, PROMPTS, pair] as const,
  );
  await harness.close();
  const byLatent = new Map<number, number>(ref.mean.map((e: { latent: number; value: number }) => [e.latent, e.value]));
  const sorted = [...ref.mean].sort((x: any, y: any) => Math.abs(y.value) - Math.abs(x.value) || x.latent - y.latent);
  shown.forEach((e, i) => {
    const tol = 1e-4 + 1e-3 * Math.abs(e.value);
    expect(Math.abs((byLatent.get(e.latent) ?? NaN) - e.value), `rank ${i + 1} latent ${e.latent}`).toBeLessThanOrEqual(tol);
    expect(Math.abs(Math.abs(sorted[i].value) - Math.abs(e.value)), `rank ${i + 1}`).toBeLessThanOrEqual(tol);
  });

  // A bar opens its feature card with "steer with this".
  await rows.first().click();
  await expect(page.getByTestId('lab-diff').getByTestId('feature-card')).toHaveAttribute('data-latent', String(shown[0].latent));
  await expect(page.getByTestId('lab-diff').getByTestId('steer-with-this')).toBeVisible();

  // The ranking is in the URL; the result is kept across a reload.
  await page.getByTestId('diff-metric').selectOption('max');
  await expect.poll(() => page.evaluate(() => location.hash)).toContain('lm=max');
  await page.reload();
  await waitForModel(page);
  await expect(page.getByTestId('diff-metric')).toHaveValue('max');
  await expect(page.getByTestId('diff-result')).toBeVisible();
  await expect(page.getByTestId('diff-row')).toHaveCount(20);

  // Exports: CSV with one row per active latent, JSON with the three top-20 lists.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('diff-csv').click()]);
  const csv = readFileSync((await download.path())!, 'utf8');
  expect(csv.split('\r\n')[0]).toBe('rank,latent,label,mean_a,mean_b,mean_delta,freq_a,freq_b,freq_delta,max_delta,max_prompt,max_token');
  expect(csv.trim().split('\r\n').length - 1).toBe(ref.mean.length);
});

test('cancelling a diff half way leaves the page usable and releases the diff worker', async ({ page }) => {
  test.setTimeout(600_000);
  await openLab(page);
  const workersBefore = page.workers().length;
  await page.getByTestId('diff-prompts-text').fill(Array.from({ length: 24 }, (_, i) => `Prompt number ${i + 1} is about the weather and`).join('\n'));
  await page.getByTestId('diff-run').click();
  // Wait until the first model has read some prompts, then cancel.
  await expect.poll(async () => Number((await page.getByTestId('diff-progress').getAttribute('data-done')) ?? 0), { timeout: 300_000 }).toBeGreaterThan(0);
  await page.getByTestId('diff-cancel').click();
  await expect(page.getByTestId('lab-diff')).toHaveAttribute('data-status', 'cancelled');
  await expect(page.getByTestId('diff-error')).toContainText('cancelled; both models were released');
  await expect(page.getByTestId('lab-diff')).toHaveAttribute('data-models', '0');
  await expect.poll(() => page.workers().length).toBe(workersBefore);
  // The playground still analyses, and the prompt list is as it was.
  await expect(page.getByTestId('diff-prompts-text')).toHaveValue(/Prompt number 24 is about/);
  await page.getByTestId('prompt').fill('The weather today is');
  await page.getByTestId('analyse').click();
  await expect(page.getByTestId('token-strip').locator('[role=option]').first()).toHaveText('The');
});

test('bad prompt files get a clear message and the list is kept', async ({ page }) => {
  await openLab(page);
  const list = page.getByTestId('diff-prompts-text');
  const before = await list.inputValue();
  const cases: { name: string; buffer: Buffer; message: RegExp }[] = [
    { name: 'empty.txt', buffer: Buffer.from(' \n\n'), message: /"empty\.txt" is empty: expected one prompt per line/ },
    { name: 'binary.txt', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0xff, 0xd8]), message: /"binary\.txt" is not UTF-8 text|NUL bytes/ },
    { name: 'big.txt', buffer: Buffer.alloc(10_000_000, 'a\n'), message: /"big\.txt" is 10\.0 MB; prompt files may be at most 2\.0 MB/ },
    { name: 'long.txt', buffer: Buffer.from(`A short prompt\n${'word '.repeat(5000)}\n`), message: /Line 2 of "long\.txt" is 25,000 characters long/ },
  ];
  for (const c of cases) {
    await page.getByTestId('diff-prompts-file').setInputFiles({ name: c.name, mimeType: 'text/plain', buffer: c.buffer });
    await expect(page.getByTestId('diff-prompts-error')).toHaveText(c.message);
    await expect(list).toHaveValue(before);
  }
  await page.getByTestId('diff-prompts-file').setInputFiles({ name: 'ok.txt', mimeType: 'text/plain', buffer: Buffer.from('First prompt\nSecond prompt\n') });
  await expect(page.getByTestId('diff-prompts-error')).toHaveCount(0);
  await expect(list).toHaveValue('First prompt\nSecond prompt');
});

test.describe('width check', () => {
  // page.route does not see requests a service worker answers: this test runs without one.
  test.use({ serviceWorkers: 'block' });
  test('two models of different widths get a typed error before any work starts', async ({ page }) => {
    // A variants.json offering a "variant" whose config says width 64 (the shipped model is 256 wide).
    await page.route('**/models/voices/variants.json', (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify({ variants: [{ id: 'voices', role: 'base', folder: './' }, { id: 'narrow', role: 'checkpoint', folder: '../narrow/' }] }) }),
    );
    await page.route('**/models/narrow/config.json', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ model_type: 'gpt2', n_embd: 64, n_layer: 2 }) }));
    test.skip(MODEL !== 'voices', 'the routed variants.json sits in models/voices/');
    await openLab(page);
    await expect(page.getByTestId('diff-pair')).toContainText('voices → narrow');
    const workersBefore = page.workers().length;
    await page.getByTestId('diff-prompts-text').fill('The weather today is');
    await page.getByTestId('diff-run').click();
    await expect(page.getByTestId('diff-error')).toHaveAttribute('data-error', 'LabWidthMismatchError');
    await expect(page.getByTestId('diff-error')).toContainText('has residual width 256 and narrow (checkpoint) has 64');
    expect(page.workers().length).toBe(workersBefore);
    await expect(page.getByTestId('lab-diff')).toHaveAttribute('data-status', 'error');
  });
});

test('the embed shows a diff result carried by its link, labelled from the model\'s features', async ({ page }) => {
  test.skip(MODEL !== 'voices', 'latent ids of the full model');
  await page.goto(`${embedUrl()}#lab=diff&lm=max&dr=878:-0.1974,598:0.1292,318:0.05`);
  await expect(page.getByTestId('embed')).toBeVisible();
  await expect(page.getByTestId('diff-snapshot')).toContainText('top 3 latents by largest change on one token');
  const rows = page.getByTestId('diff-row');
  await expect(rows).toHaveCount(3);
  expect(await rows.evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-latent')), Number(e.getAttribute('data-value'))]))).toEqual([
    [878, -0.1974],
    [598, 0.1292],
    [318, 0.05],
  ]);
  // Labels arrive with the model's feature catalogue.
  const features = JSON.parse(readFileSync(`models/${MODEL}/sae/blocks.1.hook_resid_post/features.json`, 'utf8'));
  await expect(rows.first()).toContainText(features.latents[878].label, { timeout: 300_000 });
  await expect(page.getByTestId('diff-run')).toBeVisible();
});

test('the lab fits a phone: no sideways scrolling on any of its tabs', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openLab(page);
  for (const tab of ['diff', 'vector', 'audit', 'timeline']) {
    const button = page.getByTestId(`lab-tab-${tab}`);
    if ((await button.getAttribute('aria-selected')) !== 'true') await button.click();
    await expect(page.getByTestId(`lab-tab-${tab}`)).toHaveAttribute('aria-selected', 'true');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.getByTestId('lab').screenshot({ path: `test-results/screenshots/lab-${tab}-phone.png` });
  }
});
