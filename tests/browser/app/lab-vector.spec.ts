// Persona vectors from examples in the built app: the recipe's own texts of each voice (loaded as files) against
// the other voices give a vector whose direction matches personas.json's (cosine ≥ 0.99); saving it gives a slider,
// and the saved persona survives a reload.
import { expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { appUrl, MODEL, waitForAnalysis, waitForModel } from './helpers';
import { cosine, personaWindows } from '../persona-windows';

const SAE = 'models/voices/sae/blocks.1.hook_resid_post';


test('the page\'s vector per voice matches personas.json; saved, it gets a slider that survives a reload', async ({ page }) => {
  test.skip(MODEL !== 'voices' || !existsSync(`${SAE}/personas.json`), 'needs the full Voices model');
  test.setTimeout(1_800_000);
  const windows = personaWindows();
  const personas = JSON.parse(readFileSync(`${SAE}/personas.json`, 'utf8')).personas as { id: string; vector: number[] }[];
  await page.goto(`${appUrl()}#lab=vector`);
  await waitForAnalysis(page);
  const cosines: Record<string, number> = {};
  for (const p of personas) {
    const mine = windows.voices.find((v) => v.id === p.id)!.texts;
    const others = windows.voices.filter((v) => v.id !== p.id).flatMap((v) => v.texts);
    await page.getByTestId('vector-positive-file').setInputFiles({ name: `${p.id}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(mine)) });
    await page.getByTestId('vector-negative-file').setInputFiles({ name: `not-${p.id}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(others)) });
    await expect(page.getByTestId('vector-positive')).toContainText('(40 lines');
    const previous = await page.getByTestId('vector-result').getAttribute('data-vector').catch(() => null);
    await page.getByTestId('vector-run').click();
    await expect(page.getByTestId('lab-vector')).toHaveAttribute('data-status', 'done', { timeout: 1_500_000 });
    await expect(page.getByTestId('vector-result')).not.toHaveAttribute('data-vector', previous ?? '');
    const vector = (await page.getByTestId('vector-result').getAttribute('data-vector'))!.split(',').map(Number);
    cosines[p.id] = cosine(vector, p.vector);
  }
  console.log(`app (q4, WebGPU): cosine with personas.json per voice ${JSON.stringify(cosines)}`);
  for (const p of personas) expect(cosines[p.id], p.id).toBeGreaterThanOrEqual(0.99);

  // The last vector (the last voice against the others) saved as a persona: a slider and a monitor.
  await page.getByTestId('vector-name').fill('From my examples');
  await page.getByTestId('vector-save').click();
  const slider = page.locator('[data-testid=persona][data-persona=lab1]');
  await expect(slider).toBeVisible();
  await expect(slider).toContainText('From my examples');
  await page.reload();
  await waitForModel(page);
  await expect(page.locator('[data-testid=persona][data-persona=lab1]')).toBeVisible();
  await expect(page.getByTestId('lab-vector')).toBeVisible();
});
