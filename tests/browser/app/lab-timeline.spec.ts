// The early-warning timeline in the built app, on the smoke model's chain (seconds per checkpoint): the page's points
// equal the lab code's run on the harness with the same choices; the choices and the tab live in the URL and survive
// a reload with the result; the JSON export carries the numbers shown; cancel half way releases the checkpoint's
// worker and leaves the page usable; bad recipe files get a typed error and lose nothing.
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { appUrl, waitForAnalysis, waitForModel } from './helpers';

const SMOKE = 'models/voices-smoke';
const DEV = `http://127.0.0.1:${process.env.TEST_DEV_PORT ?? 5173}/`;
const ready = existsSync(`${SMOKE}/variants.json`) && existsSync(`${SMOKE}/emergence-golden.json`);
const variants = ready ? JSON.parse(readFileSync(`${SMOKE}/variants.json`, 'utf8')) : null;
const PROMPTS = 3;

async function openTimeline(page: Page, hash: string) {
  await page.goto(`${appUrl('m=voices-smoke')}#${hash}`);
  await waitForAnalysis(page);
  await expect(page.getByTestId('lab-timeline')).toBeVisible();
  await expect(page.getByTestId('timeline-manifest')).toContainText(`Persona ${variants.persona}`);
}

type Point = { step: number; signal: number; se: number; rate: number; n: number };
const points = (page: Page): Promise<Point[]> =>
  page.getByTestId('timeline-point').evaluateAll((els) =>
    els.map((e) => ({ step: Number(e.getAttribute('data-step')), signal: Number(e.getAttribute('data-signal')), se: Number(e.getAttribute('data-se')), rate: Number(e.getAttribute('data-rate')), n: Number(e.getAttribute('data-n')) })),
  );

test.describe('early-warning timeline', () => {
  test.skip(!ready, 'needs the smoke build with its variants (npm run models:smoke)');

  test('the page\'s run equals the lab code\'s, its choices and result survive a reload, and the JSON export carries them', async ({ page, browser }) => {
    test.setTimeout(600_000);
    const seed = variants.sampling.seeds.at(-1);
    await openTimeline(page, `lab=timeline&ts=${seed}&tp=${PROMPTS}`);
    await expect(page.getByTestId('timeline-seeds')).toHaveValue(String(seed));
    await expect(page.getByTestId('timeline-prompts')).toHaveValue(String(PROMPTS));
    // The recipe's chain is drawn before any run: every step of the chain that has figures.
    const chain = variants.checkpoints.map((c: { step: number }) => c.step);
    await expect(page.getByTestId('timeline-recipe-point')).toHaveCount(chain.length);
    const workersBefore = page.workers().length;
    await page.getByTestId('timeline-run').click();
    await expect(page.getByTestId('lab-timeline')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
    await expect(page.getByTestId('lab-timeline')).toHaveAttribute('data-models', '0');
    await expect.poll(() => page.workers().length).toBe(workersBefore);
    const shown = await points(page);
    const shipped = variants.checkpoints.filter((c: { folder: string | null }) => c.folder).map((c: { step: number }) => c.step);
    expect(shown.map((p) => p.step)).toEqual(shipped);

    // The same plan through the lab code on the harness (in-thread engines): same numbers.
    const harness = await browser.newPage();
    await harness.goto(`${DEV}harness.html`);
    await harness.waitForFunction(() => (window as any).harness?.lab !== undefined);
    const ref = await harness.evaluate(([f, s, n]) => (window as any).harness.lab.timeline(f, [s], n), [`/${SMOKE}/`, seed, PROMPTS] as const);
    await harness.close();
    shown.forEach((p, i) => {
      const r = ref.readings[i];
      expect(p.step).toBe(r.step);
      expect(Math.abs(p.signal - r.signal), `step ${p.step} signal`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(r.signal));
      expect(Math.abs(p.se - r.se), `step ${p.step} se`).toBeLessThanOrEqual(1e-5 + 1e-3 * r.se);
      expect(p.n).toBe(PROMPTS);
      // Same seeds, same sampler, same graphs: the same continuations, so the same labels.
      expect(p.rate, `step ${p.step} rate`).toBe(r.rate);
    });
    const marks = await page.getByTestId('timeline-mark').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-source')} ${e.getAttribute('data-kind')} ${e.getAttribute('data-step')}`));
    for (const [kind, step] of [['latent', ref.latentStep], ['behaviour', ref.behaviourStep]] as const) if (step !== null) expect(marks).toContain(`page ${kind} ${step}`);
    await page.getByTestId('lab').screenshot({ path: 'test-results/screenshots/lab-timeline.png' });

    // Exported JSON: the points shown, the choices, every continuation.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('timeline-json').click()]);
    const report = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(report.choices).toEqual({ seeds: [seed], prompts: PROMPTS });
    expect(report.persona).toBe(variants.persona);
    const pageRows = report.checkpoints.filter((c: any) => c.page);
    expect(pageRows.map((c: any) => [c.step, c.page.signal, c.page.se, c.page.rate, c.page.n])).toEqual(shown.map((p) => [p.step, p.signal, p.se, p.rate, p.n]));
    expect(report.checkpoints.map((c: any) => c.step)).toEqual(chain);
    expect(report.continuations).toHaveLength(shipped.length * PROMPTS);
    expect(report.early_warning.page).toMatchObject({ latent_step: ref.latentStep, behaviour_step: ref.behaviourStep });

    // The tab and the choices are in the URL; after a reload they and the result are back.
    await expect.poll(() => page.evaluate(() => location.hash)).toContain(`lab=timeline&ts=${seed}&tp=${PROMPTS}`);
    await page.reload();
    await waitForModel(page);
    await expect(page.getByTestId('lab-tab-timeline')).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('timeline-seeds')).toHaveValue(String(seed));
    await expect(page.getByTestId('timeline-prompts')).toHaveValue(String(PROMPTS));
    await expect(page.getByTestId('timeline-point')).toHaveCount(shipped.length);
    expect(await points(page)).toEqual(shown);
  });

  test('cancelling half way releases the checkpoint\'s worker and keeps the page usable and the choices', async ({ page }) => {
    test.setTimeout(300_000);
    await openTimeline(page, 'lab=timeline');
    const workersBefore = page.workers().length;
    // The manifest's seeds (the default) over every prompt: long enough to cancel in the middle.
    await page.getByTestId('timeline-run').click();
    await expect.poll(async () => Number((await page.getByTestId('timeline-progress').locator('progress').getAttribute('value')) ?? 0), { timeout: 120_000 }).toBeGreaterThan(1);
    await expect(page.getByTestId('lab-timeline')).toHaveAttribute('data-models', '1');
    await page.getByTestId('timeline-cancel').click();
    await expect(page.getByTestId('lab-timeline')).toHaveAttribute('data-status', 'cancelled');
    await expect(page.getByTestId('timeline-error')).toHaveAttribute('data-error', 'CancelledError');
    await expect(page.getByTestId('timeline-error')).toContainText('the checkpoint model was released');
    await expect(page.getByTestId('lab-timeline')).toHaveAttribute('data-models', '0');
    await expect.poll(() => page.workers().length).toBe(workersBefore);
    await expect(page.getByTestId('timeline-seeds')).toHaveValue(variants.sampling.seeds.join(', '));
    await expect(page.getByTestId('timeline-run')).toBeEnabled();
    // The playground still analyses.
    await page.getByTestId('prompt').fill('The weather today is');
    await page.getByTestId('analyse').click();
    await expect(page.getByTestId('token-strip').locator('[role=option]').first()).toHaveText('The');
  });

  test.describe('bad recipe files', () => {
    // page.route does not see requests a service worker answers: these run without one.
    test.use({ serviceWorkers: 'block' });
    test('a wrong format tag or a row of the wrong length is a LabFileFormatError; the choices stay', async ({ page }) => {
      test.setTimeout(300_000);
      const good = JSON.parse(readFileSync(`${SMOKE}/voice-classifier.json`, 'utf8'));
      let body = '';
      await page.route('**/models/voices-smoke/voice-classifier.json', (route) => route.fulfill({ contentType: 'application/json', body }));
      await openTimeline(page, 'lab=timeline&ts=1,2&tp=2');
      const cases = [
        { file: { ...good, format: 'voices-naive-bayes/0' }, message: /expected "format": "voices-naive-bayes\/1", found "format": "voices-naive-bayes\/0"/ },
        { file: { ...good, log_probs: [good.log_probs[0].slice(1), ...good.log_probs.slice(1)] }, message: new RegExp(`expected log_probs\\[0\\] \\(${good.voices[0]}\\) to be an array of ${good.vocab_size}, found an array of ${good.vocab_size - 1}`) },
      ];
      for (const c of cases) {
        body = JSON.stringify(c.file);
        await page.getByTestId('timeline-run').click();
        await expect(page.getByTestId('timeline-error')).toHaveAttribute('data-error', 'LabFileFormatError');
        await expect(page.getByTestId('timeline-error')).toHaveText(c.message);
        await expect(page.getByTestId('lab-timeline')).not.toHaveAttribute('data-status', 'running');
        await expect(page.getByTestId('lab-timeline')).toHaveAttribute('data-models', '0');
        await expect(page.getByTestId('timeline-seeds')).toHaveValue('1, 2');
        await expect(page.getByTestId('timeline-prompts')).toHaveValue('2');
        expect(await page.evaluate(() => location.hash)).toContain('lab=timeline&ts=1,2&tp=2');
      }
      // The recipe's chain (another file) is still drawn.
      await expect(page.getByTestId('timeline-recipe-point')).toHaveCount(variants.checkpoints.length);
    });
  });
});
