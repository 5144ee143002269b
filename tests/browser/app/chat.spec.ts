// An instruct model in the built app (issue 10, "Chat models"): tiny-llama-chat (SmolLM2-Instruct's chat template)
// opened from disk with a test-written SAELens SAE. The prompt editor offers plain text / chat only for a model with
// a template; in chat mode the token view shows the template's rendering with its markers flagged special, the link
// keeps pm=c, and steering can apply to the assistant's reply only.
import { expect, test } from '@playwright/test';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomSae, saeLensV6Files } from '../../unit/sae/fixtures';
import { appUrl, waitForAnalysis, waitForModel } from './helpers';

const FOLDER = 'test-results/chat-model';
const golden = JSON.parse(readFileSync('models/fixtures/tiny-llama-chat/golden.json', 'utf8')).chat;

test.beforeAll(() => {
  rmSync(FOLDER, { recursive: true, force: true });
  cpSync('models/fixtures/tiny-llama-chat', FOLDER, { recursive: true });
  const sae = randomSae({ dIn: 64, dSae: 32, architecture: 'topk', k: 4, seed: 5 });
  sae.config.hookName = 'blocks.1.hook_resid_post';
  const files = saeLensV6Files(sae);
  const dir = `${FOLDER}/sae/blocks.1.hook_resid_post`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/cfg.json`, JSON.stringify(files.cfg));
  writeFileSync(`${dir}/sae_weights.safetensors`, files.weights as Uint8Array);
});

test('chat mode for an instruct model: switch, rendered tokens with special markers, link, reply-only steering', async ({ page }) => {
  test.slow();
  await page.goto(appUrl());
  await waitForAnalysis(page);
  // The Voices model has no chat template: no switch.
  await expect(page.getByTestId('prompt-mode')).toHaveCount(0);

  await page.getByTestId('open-folder').setInputFiles(FOLDER);
  await waitForModel(page);
  await expect(page.getByTestId('prompt-mode')).toBeVisible();
  await page.getByTestId('prompt').fill(golden.messages[0].content);
  await page.getByTestId('prompt-mode').getByLabel(/Chat/).check();
  await expect(page).toHaveURL(/[?&]pm=c/);
  await page.getByTestId('analyse').click();
  const strip = page.getByTestId('token-strip').locator('[role=option]');
  await expect(strip).toHaveCount(golden.input_ids.length, { timeout: 300_000 });
  // The template's markers are special tokens: shown, but never coloured or given a value.
  const markers = strip.filter({ hasText: /<\|im_(start|end)\|>/ });
  await expect(markers).toHaveCount(5);
  for (const marker of await markers.all()) expect(await marker.getAttribute('data-value')).toBeNull();
  await expect(strip.locator('xpath=self::*[@data-value]').first()).toBeAttached();
  await expect(page.getByTestId('positions').locator('option[value=generated]')).toHaveText("the assistant's reply only");
  await page.getByTestId('prompt-mode').getByLabel(/Plain text/).check();
  await page.getByTestId('analyse').click();
  await expect(strip).toHaveCount(4, { timeout: 300_000 }); // "hello world" as plain text
});
