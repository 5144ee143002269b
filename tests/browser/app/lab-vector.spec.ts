// Persona vectors from examples in the built app: the recipe's own texts (loaded as .json files) of one voice against
// the other voices give the same vector as the lab's code computes on the CPU for the same texts (harness, WASM), and
// saving it gives a slider that survives a reload. The full claim — all 40 windows per voice, cosine ≥ 0.99 with
// personas.json for every voice — is tests/browser/engine/lab-vector.spec.ts: 51,200 tokens through SwiftShader's
// emulated GPU do not fit a test on this CPU-only machine, so the page here reads 2 windows per voice.
import { expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { appUrl, MODEL, waitForAnalysis, waitForModel } from './helpers';
import { cosine, personaWindows } from '../persona-windows';
import { HARNESS_PATH } from '../../harness/location.mjs';

const DEV = `http://127.0.0.1:${process.env.TEST_DEV_PORT ?? 5173}/`;
const SAE = 'models/voices/sae/blocks.1.hook_resid_post';
const PER_VOICE = 2;

test('the page\'s persona vector equals the lab code on the same texts; saved, it gets a slider that survives a reload', async ({ page, browser }) => {
  test.skip(MODEL !== 'voices' || !existsSync(`${SAE}/personas.json`), 'needs the full Voices model');
  test.setTimeout(1_800_000);
  const voices = personaWindows().voices.map((v) => ({ id: v.id, texts: v.texts.slice(0, PER_VOICE) }));
  const personas = JSON.parse(readFileSync(`${SAE}/personas.json`, 'utf8')).personas as { id: string; vector: number[] }[];
  const target = voices[0].id;
  await page.goto(`${appUrl()}#lab=vector`);
  await waitForAnalysis(page);
  const mine = voices[0].texts;
  const others = voices.slice(1).flatMap((v) => v.texts);
  await page.getByTestId('vector-positive-file').setInputFiles({ name: `${target}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(mine)) });
  await page.getByTestId('vector-negative-file').setInputFiles({ name: `not-${target}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(others)) });
  await expect(page.getByTestId('vector-positive')).toContainText(`(${PER_VOICE} lines`);
  await page.getByTestId('vector-run').click();
  await expect(page.getByTestId('lab-vector')).toHaveAttribute('data-status', 'done', { timeout: 1_500_000 });
  const result = page.getByTestId('vector-result');
  const vector = (await result.getAttribute('data-vector'))!.split(',').map(Number);
  const norm = Number(await result.getAttribute('data-norm'));
  const typical = Number(await result.getAttribute('data-typical'));

  const harness = await browser.newPage();
  await harness.goto(`${DEV}${HARNESS_PATH}`);
  await harness.waitForFunction(() => (window as any).harness?.lab !== undefined);
  const ref = await harness.evaluate(
    ([s, v]) => (window as any).harness.lab.personaVectors('/models/voices/', s, 'onnx/model_q4.onnx', v, 'wasm'),
    [`/${SAE}/`, voices] as const,
  );
  await harness.close();
  const same = cosine(vector, ref[target].vector);
  const preset = cosine(vector, personas.find((p) => p.id === target)!.vector);
  console.log(`app (q4, WebGPU) vs lab code (q4, WASM) on ${PER_VOICE} windows per voice: cosine ${same.toFixed(6)}, norm ${norm.toFixed(3)} vs ${ref[target].norm.toFixed(3)}; cosine with personas.json ${preset.toFixed(4)} (from ${PER_VOICE} of its 40 windows)`);
  expect(same).toBeGreaterThanOrEqual(0.999);
  expect(Math.abs(norm - ref[target].norm)).toBeLessThanOrEqual(0.01 * ref[target].norm);
  expect(Math.abs(typical - ref[target].typicalNorm)).toBeLessThanOrEqual(0.01 * ref[target].typicalNorm);

  // Saved as a persona: a slider (and a monitor) in the playground, recreated after a reload.
  await page.getByTestId('vector-name').fill('From my examples');
  await page.getByTestId('vector-save').click();
  const slider = page.locator('[data-testid=persona][data-persona=lab1]');
  await expect(slider).toBeVisible();
  await expect(slider).toContainText('From my examples');
  await page.reload();
  await waitForModel(page);
  await expect(page.locator('[data-testid=persona][data-persona=lab1]')).toBeVisible();
  await expect(page.getByTestId('lab-vector')).toBeVisible();
  await expect(page.getByTestId('vector-positive')).toContainText(`(${PER_VOICE} lines`);
});
