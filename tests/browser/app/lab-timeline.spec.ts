// The early-warning timeline in the built app, on the smoke model's chain (seconds per checkpoint), in one page to
// keep CI short: the run's points carry the recipe's golden signals (same texts, same q4 graphs) and its marks follow
// the recipe's rule on the page's own numbers; the JSON export carries what is shown; the tab, the choices and the
// result survive a reload; bad recipe files get a typed error and lose nothing; cancel half way releases the
// checkpoint's worker and leaves the page usable. The numbers against an independent recomputation are
// tests/browser/engine/lab-timeline.spec.ts.
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { appUrl, waitForAnalysis, waitForModel } from './helpers';

const SMOKE = 'models/voices-smoke';
const ready = existsSync(`${SMOKE}/variants.json`) && existsSync(`${SMOKE}/emergence-golden.json`);
const variants = ready ? JSON.parse(readFileSync(`${SMOKE}/variants.json`, 'utf8')) : null;
const golden = ready ? JSON.parse(readFileSync(`${SMOKE}/emergence-golden.json`, 'utf8')) : null;
/** The smoke model's one SAE (its hook, from variants.json's shared SAE folder). */
const SAE = variants ? variants.sae.replace(/^sae\/|\/$/g, '') : '';
const PROMPTS = 2;

type Point = { step: number; signal: number; se: number; rate: number; n: number };
const points = (page: Page): Promise<Point[]> =>
  page.getByTestId('timeline-point').evaluateAll((els) =>
    els.map((e) => ({ step: Number(e.getAttribute('data-step')), signal: Number(e.getAttribute('data-signal')), se: Number(e.getAttribute('data-se')), rate: Number(e.getAttribute('data-rate')), n: Number(e.getAttribute('data-n')) })),
  );

// page.route does not see requests a service worker answers: this page runs without one.
test.use({ serviceWorkers: 'block' });

test('timeline: run, marks, export, reload, bad files and cancel on the smoke chain', async ({ page }) => {
  test.skip(!ready, 'needs the smoke build with its variants (npm run models:smoke)');
  test.setTimeout(600_000);
  const seed = variants.sampling.seeds.at(-1);
  const classifier = JSON.parse(readFileSync(`${SMOKE}/voice-classifier.json`, 'utf8'));
  let bad: string | null = null;
  await page.route('**/models/voices-smoke/voice-classifier.json', (route) => (bad === null ? route.continue() : route.fulfill({ contentType: 'application/json', body: bad })));
  await page.goto(`${appUrl(`m=voices-smoke&s=${SAE}`)}#lab=timeline&ts=${seed}&tp=${PROMPTS}`);
  await waitForAnalysis(page);
  const timeline = page.getByTestId('lab-timeline');
  // The persona by its display name from personas.json (e.g. "Hacker" for the id "hacker").
  const personas = JSON.parse(readFileSync(`${SMOKE}/sae/${SAE}/personas.json`, 'utf8')).personas as { id: string; name: string }[];
  const personaName = personas.find((p) => p.id === variants.persona)!.name;
  await expect(page.getByTestId('timeline-manifest')).toContainText(`Persona ${personaName}`);
  await expect(page.getByTestId('timeline-seeds')).toHaveValue(String(seed));
  await expect(page.getByTestId('timeline-prompts')).toHaveValue(String(PROMPTS));
  // The recipe's whole chain is drawn before any run.
  const chain = variants.checkpoints.map((c: { step: number }) => c.step);
  await expect(page.getByTestId('timeline-recipe-point')).toHaveCount(chain.length);

  // The run: one worker per checkpoint, all gone at the end.
  const workersBefore = page.workers().length;
  await page.getByTestId('timeline-run').click();
  await expect(timeline).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  await expect(timeline).toHaveAttribute('data-models', '0');
  await expect.poll(() => page.workers().length).toBe(workersBefore);
  const shown = await points(page);
  const shipped = variants.checkpoints.filter((c: { folder: string | null }) => c.folder).map((c: { step: number }) => c.step);
  expect(shown.map((p) => p.step)).toEqual(shipped);
  const recipe = new Map<number, { signal_q4: number; se: number }>(golden.checkpoints.map((c: { step: number }) => [c.step, c]));
  for (const p of shown) {
    // The golden texts do not depend on the choices: the page reads the recipe's q4 signal (see the engine spec).
    const g = recipe.get(p.step)!;
    expect(Math.abs(p.signal - g.signal_q4), `step ${p.step}: ${p.signal} vs ${g.signal_q4}`).toBeLessThanOrEqual(Math.max(3 * g.se, 1e-3 * Math.abs(g.signal_q4) + 1e-5));
    expect(p.n).toBe(PROMPTS);
  }
  expect(shown[0]).toMatchObject({ se: 0 });
  // The page's marks follow the recipe's rule on the page's own numbers (signal > base + 3 se; rate > base + 0.2).
  const latent = shown.slice(1).find((p) => p.signal - shown[0].signal > 3 * p.se)?.step;
  const behaviour = shown.slice(1).find((p) => p.rate > shown[0].rate + 0.2)?.step;
  const marks = await page.getByTestId('timeline-mark').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-source')} ${e.getAttribute('data-kind')} ${e.getAttribute('data-step')}`));
  expect(marks.filter((m) => m.startsWith('page')).sort()).toEqual([...(behaviour !== undefined ? [`page behaviour ${behaviour}`] : []), ...(latent !== undefined ? [`page latent ${latent}`] : [])]);
  for (const [kind, step] of [['latent', golden.early_warning.latent_step], ['behaviour', golden.early_warning.behaviour_step]]) if (step !== null) expect(marks).toContain(`recipe ${kind} ${step}`);
  await page.getByTestId('lab').screenshot({ path: 'test-results/screenshots/lab-timeline.png' });

  // The JSON export: the points shown, the choices, the recipe's figures beside them, every continuation labelled.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('timeline-json').click()]);
  const report = JSON.parse(readFileSync((await download.path())!, 'utf8'));
  expect(report.choices).toEqual({ seeds: [seed], prompts: PROMPTS });
  expect(report.checkpoints.map((c: { step: number }) => c.step)).toEqual(chain);
  const pageRows = report.checkpoints.filter((c: { page: unknown }) => c.page);
  expect(pageRows.map((c: any) => [c.step, c.page.signal, c.page.se, c.page.rate, c.page.n])).toEqual(shown.map((p) => [p.step, p.signal, p.se, p.rate, p.n]));
  for (const c of pageRows) expect(c.page.rate).toBe((c.page.labels[variants.persona] ?? 0) / c.page.n);
  expect(report.checkpoints.map((c: any) => c.recipe.signal_q4)).toEqual(golden.checkpoints.map((c: { signal_q4: number }) => c.signal_q4));
  expect(report.continuations).toHaveLength(shipped.length * PROMPTS);
  expect(report.continuations.map((c: { prompt: string }) => c.prompt).slice(0, PROMPTS)).toEqual(variants.neutral_prompts.slice(0, PROMPTS));
  expect(report.early_warning.page).toMatchObject({ latent_step: latent ?? null, behaviour_step: behaviour ?? null });

  // The tab and the choices are in the URL; after a reload they and the result are back.
  await expect.poll(() => page.evaluate(() => location.hash)).toMatch(new RegExp(`^#lab=timeline&.*ts=${seed}&tp=${PROMPTS}`));
  await page.reload();
  await waitForModel(page);
  await expect(page.getByTestId('lab-tab-timeline')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('timeline-seeds')).toHaveValue(String(seed));
  await expect(page.getByTestId('timeline-prompts')).toHaveValue(String(PROMPTS));
  await expect(page.getByTestId('timeline-point')).toHaveCount(shipped.length);
  expect(await points(page)).toEqual(shown);

  // Bad classifier files: a typed error saying what was expected; the result, the choices and the URL stay.
  const hash = await page.evaluate(() => location.hash);
  const cases = [
    { file: { ...classifier, format: 'voices-naive-bayes/0' }, message: /expected "format": "voices-naive-bayes\/1", found "format": "voices-naive-bayes\/0"/ },
    { file: { ...classifier, log_probs: [classifier.log_probs[0].slice(1), ...classifier.log_probs.slice(1)] }, message: new RegExp(`expected log_probs\\[0\\] \\(${classifier.voices[0]}\\) to be an array of ${classifier.vocab_size}, found an array of ${classifier.vocab_size - 1}`) },
  ];
  for (const c of cases) {
    bad = JSON.stringify(c.file);
    await page.getByTestId('timeline-run').click();
    await expect(page.getByTestId('timeline-error')).toHaveAttribute('data-error', 'LabFileFormatError');
    await expect(page.getByTestId('timeline-error')).toHaveText(c.message);
    await expect(timeline).toHaveAttribute('data-status', 'done');
    await expect(timeline).toHaveAttribute('data-models', '0');
    expect(await points(page)).toEqual(shown);
    await expect(page.getByTestId('timeline-seeds')).toHaveValue(String(seed));
    expect(await page.evaluate(() => location.hash)).toBe(hash);
  }
  bad = null;

  // Cancel half way (the manifest's seeds: a longer run): the checkpoint's worker ends, the page stays usable.
  await page.getByTestId('timeline-seeds').fill(variants.sampling.seeds.join(', '));
  await page.getByTestId('timeline-seeds').dispatchEvent('change');
  await expect.poll(() => page.evaluate(() => location.hash)).not.toContain('ts=');
  await page.getByTestId('timeline-run').click();
  await expect(timeline).toHaveAttribute('data-models', '1', { timeout: 300_000 });
  await expect.poll(async () => Number((await page.getByTestId('timeline-progress').locator('progress').getAttribute('value')) ?? 0), { timeout: 300_000 }).toBeGreaterThan(1);
  await page.getByTestId('timeline-cancel').click();
  await expect(timeline).toHaveAttribute('data-status', 'cancelled');
  await expect(page.getByTestId('timeline-error')).toHaveAttribute('data-error', 'CancelledError');
  await expect(page.getByTestId('timeline-error')).toContainText('the checkpoint model was released');
  await expect(timeline).toHaveAttribute('data-models', '0');
  await expect.poll(() => page.workers().length).toBe(workersBefore);
  await expect(page.getByTestId('timeline-seeds')).toHaveValue(variants.sampling.seeds.join(', '));
  await expect(page.getByTestId('timeline-run')).toBeEnabled();
  await page.getByTestId('prompt').fill('Coffee is made from');
  await page.getByTestId('analyse').click();
  await expect.poll(async () => (await page.getByTestId('token-strip').locator('[role=option]').allTextContents()).join('').replace(/·/g, ' ')).toBe('Coffee is made from');
});
