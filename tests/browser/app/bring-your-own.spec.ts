// Bringing published work into the built app: Neuronpedia labels imported as feature labels, an SAE chosen by folder
// URL through "Other SAE…" and kept in the link across a reload, and a model folder opened from disk (the folder
// picker, or dropped onto the model picker) loading through the same loaders, nothing uploaded.
import { resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { appUrl, MODEL, waitForAnalysis, waitForModel } from './helpers';

const SAE_DIR = `models/${MODEL}/sae/blocks.1.hook_resid_post/`;

test('Neuronpedia labels replace the SAE’s own in the feature list', async ({ page }) => {
  await page.goto(appUrl());
  await waitForAnalysis(page);
  const rows = Array.from({ length: 4096 }, (_, i) => JSON.stringify({ modelId: 'voices', layer: '1-res', index: String(i), description: `np label ${i}`, typeName: 'oai_token-act-pair' }));
  await page.getByTestId('label-mode').selectOption('instead');
  // More rows than latents: refused by size, naming both.
  await page.getByTestId('label-import').setInputFiles({ name: 'batch-0.jsonl', mimeType: 'application/json', buffer: Buffer.from(rows.join('\n')) });
  await expect(page.getByTestId('notice-error')).toContainText(/labels latent 4095, but this SAE has \d+ latents/);
  const fitting = rows.slice(0, 64).join('\n');
  await page.getByTestId('label-import').setInputFiles({ name: 'batch-0.jsonl', mimeType: 'application/json', buffer: Buffer.from(fitting) });
  await expect(page.getByTestId('notice-info')).toContainText('Imported 64 Neuronpedia labels (voices/1-res) instead of');
  await page.getByTestId('feature-search').fill('np label 7');
  await expect(page.getByTestId('feature-item').filter({ hasText: /^.*np label 7\b/ }).first()).toBeVisible();
});

test('an SAE by folder URL through "Other SAE…" is kept in the link and reloads', async ({ page }) => {
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await page.getByTestId('sae-select').selectOption('__other');
  await page.getByTestId('sae-folder').fill(SAE_DIR);
  await page.getByTestId('sae-load').click();
  await waitForModel(page);
  await expect(page).toHaveURL(new RegExp(`[?&]s=${encodeURIComponent(SAE_DIR).replace(/%2F/g, '(%2F|/)')}`));
  await page.reload();
  await waitForAnalysis(page);
  await expect(page.getByTestId('sae-select')).toHaveValue(SAE_DIR);
});

test('a model folder opened from disk loads with its own SAE', async ({ page }) => {
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await page.getByTestId('open-folder').setInputFiles(`models/${MODEL}`);
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-phase', 'loading');
  await waitForAnalysis(page);
  await expect(page).toHaveURL(/[?&]m=local-folder/);
  await expect(page.getByTestId('sae-select')).toHaveValue('blocks.1.hook_resid_post');
});

/**
 * Drags paths from disk onto the model picker as the OS does: Chromium's DevTools Input.dispatchDragEvent with
 * `files` gives the page a DataTransfer whose items are backed by those paths, so `webkitGetAsEntry()` answers a real
 * FileSystemDirectoryEntry and the app walks it with readEntries, the code path of a user's drop. (A DataTransfer
 * built in the page holds only in-memory Files: webkitGetAsEntry returns null for them, and a folder cannot be built.)
 */
async function dropOnPicker(page: Page, paths: string[]) {
  const box = (await page.getByRole('form', { name: 'Model' }).boundingBox())!;
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: paths.map((p) => resolve(p)), dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
  await cdp.detach();
}

test('a model folder dropped onto the model picker loads with its own SAE; loose files are refused by name', async ({ page }) => {
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await dropOnPicker(page, [`models/${MODEL}/config.json`]);
  await expect(page.getByTestId('notice-error')).toContainText('Drop one folder (a model folder or an SAE folder), not loose files.');
  await dropOnPicker(page, [`models/${MODEL}`]);
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-phase', 'loading');
  await waitForAnalysis(page);
  // The folder's own name (from the directory entry) names its local-folder:// URL.
  await expect.poll(() => decodeURIComponent(page.url())).toMatch(new RegExp(`[?&]m=local-folder://${MODEL}-`));
  await expect(page.getByTestId('sae-select')).toHaveValue('blocks.1.hook_resid_post');
});

test('an SAE folder dropped onto the model picker loads for the current model', async ({ page }) => {
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await dropOnPicker(page, [SAE_DIR]);
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-phase', 'loading');
  await waitForAnalysis(page);
  // The link follows through a debounced sync: wait for it to carry the SAE folder.
  await expect.poll(() => decodeURIComponent(page.url())).toMatch(/[?&]s=local-folder:\/\/blocks\.1\.hook_resid_post-/);
  expect(decodeURIComponent(page.url())).not.toMatch(/[?&]m=local-folder/);
});
