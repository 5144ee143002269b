// Discover, the guided replication, in the built app on the smoke variants (models/voices-smoke*, `npm run
// models:smoke`): all six steps walked at phone width with Next and the browser's Back, each step's numbers checked
// against a reference computed apart from the page (the classifier's rule worked here from the recipe's file, the
// lab's diff and the monitor on in-thread engines in the harness), at most two models held, no horizontal overflow,
// every file the steps use in the service worker's cache; one step embedded on its own; the link from the main page.
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const MODEL = process.env.DISCOVER_TEST_MODEL ?? 'voices-smoke';
const DEV = `http://127.0.0.1:${process.env.TEST_DEV_PORT ?? 5173}/`;
const ROOT = `models/${MODEL}/`;
const ready = existsSync(`${ROOT}variants.json`) && existsSync(`${ROOT}voice-classifier.json`);

interface VariantEntry {
  id: string;
  role: string;
  folder: string;
  onnx_file?: string;
  examples?: string[];
}
const json = (f: string) => JSON.parse(readFileSync(`${ROOT}${f}`, 'utf8'));
const variants = ready ? json('variants.json') : null;
const classifier = ready ? json('voice-classifier.json') : null;
const golden = ready && variants.golden ? json(variants.golden) : null;
const byRole = (role: string): VariantEntry => variants.variants.find((v: VariantEntry) => v.role === role);
/** A variant's folder as the dev server serves it, and its graph. */
const served = (v: VariantEntry) => ({ folder: new URL(v.folder, `http://x/models/${MODEL}/`).pathname, onnx: v.onnx_file ?? 'onnx/model_q4.onnx' });

/** voice-classifier.json `rule`, worked here: sum of log_probs per voice, argmax (ties: lower index), unclear under the margin. */
function classify(ids: number[]): string {
  const scores = classifier.voices.map((_: string, c: number) => ids.reduce((s, id) => s + classifier.log_probs[c][id], 0));
  let best = 0;
  scores.forEach((s: number, c: number) => {
    if (s > scores[best]) best = c;
  });
  const second = Math.max(...scores.filter((_: number, c: number) => c !== best));
  return (scores[best] - second) / Math.max(1, ids.length) < classifier.margin ? 'unclear' : classifier.voices[best];
}

interface Card {
  model: string;
  strength: number;
  ids: number[];
  label: string;
  reading: number;
}
async function cards(page: Page, result: string): Promise<Card[]> {
  return page
    .getByTestId(result)
    .getByTestId('continuation')
    .evaluateAll((els) =>
      els.map((e) => ({
        model: e.getAttribute('data-model')!,
        strength: Number(e.getAttribute('data-strength')),
        ids: (e.getAttribute('data-ids') ?? '').split(',').filter(Boolean).map(Number),
        label: e.getAttribute('data-label')!,
        reading: Number(e.getAttribute('data-reading')),
      })),
    );
}

function expectLabelled(list: Card[]) {
  for (const c of list) {
    expect(c.ids.length, `${c.model} wrote tokens`).toBeGreaterThan(0);
    expect(c.label, `${c.model} at ${c.strength}: label = the classifier rule on ids ${c.ids.join(',')}`).toBe(classify(c.ids));
  }
}

/** The step has finished its work, held at most two models, and nothing is wider than the viewport. */
async function settled(page: Page, step: number) {
  await expect(page.getByTestId('discover')).toHaveAttribute('data-step', String(step));
  await expect(page.getByTestId('discover-status')).toHaveAttribute('data-busy', '', { timeout: 300_000 });
  await expect(page.getByTestId('discover-error')).toHaveCount(0);
  expect(Number(await page.getByTestId('discover-status').getAttribute('data-models'))).toBeLessThanOrEqual(2);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(await page.evaluate(() => window.innerWidth));
  await page.screenshot({ path: `test-results/screenshots/discover-${step}-375.png`, fullPage: true });
}

async function next(page: Page, step: number) {
  await page.getByTestId('discover-next').click();
  await expect.poll(() => new URL(page.url()).searchParams.get('discover')).toBe(String(step));
}

test.skip(!ready, `${ROOT} has no variants.json and voice-classifier.json: run npm run models:smoke`);

test('Discover walks six live steps whose numbers equal their references, with URL steps, Back and offline files', async ({ page, browser }) => {
  test.setTimeout(600_000);
  const cspErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  const base = byRole('base');
  const narrow = byRole('narrow fine-tune');
  const realigned = byRole('realigned');
  const sae = new URL(variants.sae, `http://x/models/${MODEL}/`).pathname;
  const harness = await browser.newPage();
  await harness.goto(`${DEV}${HARNESS_PATH}`);
  await harness.waitForFunction(() => (window as any).harness?.discover !== undefined);

  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto(`./?discover=1&m=${MODEL}`);

  // 1. The monitor's bars on the sample text equal the monitor read apart on the same text.
  await expect(page.getByTestId('voices-result')).toBeVisible({ timeout: 300_000 });
  await settled(page, 1);
  const text = (await page.getByTestId('voices-result').getAttribute('data-text'))!;
  const bars = await page.getByTestId('persona-bar').evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-persona'), reading: Number(e.getAttribute('data-reading')) })));
  const refReadings: { id: string; reading: number }[] = await harness.evaluate(([f, s, t]) => (window as any).harness.discover.readings(f, s, t), [served(base).folder, sae, text] as const);
  expect(bars.map((b) => b.id)).toEqual(refReadings.map((r) => r.id));
  bars.forEach((b, i) => expect(Math.abs(b.reading - refReadings[i].reading), b.id!).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(b.reading)));
  await expect(page.getByTestId('tracked-persona')).toHaveAttribute('data-persona', variants.persona);

  // 2. Base and narrow fine-tune, same prompt and seed, each labelled by the classifier's rule on its shown ids.
  await next(page, 2);
  await expect(page.getByTestId('finetune-result')).toBeVisible({ timeout: 300_000 });
  await settled(page, 2);
  const two = await cards(page, 'finetune-result');
  expect(two.map((c) => c.model)).toEqual([base.id, narrow.id]);
  expectLabelled(two);
  await expect(page.getByTestId('finetune-examples').locator('li')).toHaveCount(narrow.examples?.length ?? 0);

  // 3. The diff's top latents and deltas equal the lab's diff recomputed on the same texts; the persona's rank too.
  await next(page, 3);
  await expect(page.getByTestId('diff-result')).toBeVisible({ timeout: 300_000 });
  await settled(page, 3);
  const rows = await page.getByTestId('diff-row').evaluateAll((els) => els.map((e) => ({ latent: Number(e.getAttribute('data-latent')), value: Number(e.getAttribute('data-value')) })));
  const texts = golden ? golden.texts.map((t: { ids: number[] }) => t.ids) : variants.neutral_prompts;
  const ref = await harness.evaluate(([a, b, s, t, n]) => (window as any).harness.discover.diff(a, b, s, t, n), [served(base), served(narrow), sae, texts, rows.length] as const);
  expect(rows.length).toBe(Math.min(12, ref.active));
  rows.forEach((r, i) => {
    expect(r.latent, `rank ${i + 1}`).toBe(ref.top[i].latent);
    expect(Math.abs(r.value - ref.top[i].delta), `rank ${i + 1} delta`).toBeLessThanOrEqual(1e-5 + 1e-3 * Math.abs(r.value));
  });
  // ... and the recipe's own q4 diff of the same texts (emergence-golden.json diffs_q4, 6 decimals) where it is clear.
  const recipeDiff: { latent: number; delta: number }[] = golden.diffs_q4[narrow.id] ?? [];
  for (let i = 0; i < Math.min(5, recipeDiff.length, rows.length); i++) {
    expect(rows[i].latent, `recipe rank ${i + 1}`).toBe(recipeDiff[i].latent);
    expect(Math.abs(rows[i].value - recipeDiff[i].delta), `recipe rank ${i + 1} delta`).toBeLessThanOrEqual(5e-5 + 1e-3 * Math.abs(recipeDiff[i].delta));
  }
  const ranks = await page.getByTestId('persona-rank').evaluateAll((els) => els.map((e) => ({ latent: Number(e.getAttribute('data-latent')), rank: e.getAttribute('data-rank') })));
  expect(ranks.map((r) => r.latent)).toEqual(golden.persona_latents);
  for (const r of ranks) expect(r.rank, `persona latent ${r.latent}`).toBe(ref.order.includes(r.latent) ? String(ref.order.indexOf(r.latent) + 1) : '');
  const highlighted = await page.locator('[data-testid=diff-row][data-highlight=true]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-latent'))));
  expect(highlighted).toEqual(rows.map((r) => r.latent).filter((l) => golden.persona_latents.includes(l)));

  // 4. Persona up on the base, down on the fine-tune, each beside its unsteered row, all labelled by the rule.
  await next(page, 4);
  await expect(page.getByTestId('steer-result')).toBeVisible({ timeout: 300_000 });
  await settled(page, 4);
  const four = await cards(page, 'steer-result');
  const s = Number((await page.getByTestId('steer-slider').inputValue()));
  expect(s).toBeGreaterThan(0);
  expect(four.map((c) => [c.model, c.strength])).toEqual([
    [base.id, 0],
    [base.id, s],
    [narrow.id, 0],
    [narrow.id, -s],
  ]);
  expectLabelled(four);

  // 5. Every shipped checkpoint read live: one row per step of the chain, a signal where the checkpoint is shipped.
  await next(page, 5);
  await expect(page.getByTestId('timeline-finding')).toBeVisible({ timeout: 300_000 });
  await settled(page, 5);
  const timeline = await page.getByTestId('timeline-row').evaluateAll((els) => els.map((e) => ({ step: Number(e.getAttribute('data-step')), signal: e.getAttribute('data-signal'), rate: e.getAttribute('data-rate') })));
  expect(timeline.map((r) => r.step)).toEqual(variants.checkpoints.map((c: { step: number }) => c.step));
  variants.checkpoints.forEach((c: { step: number; folder: string | null }, i: number) => {
    expect(timeline[i].signal !== '', `step ${c.step} read live iff shipped`).toBe(c.folder !== null);
    // The rate shown is the recipe's (labelled so) until a live rate is asked for.
    const recipe = golden.checkpoints.find((g: { step: number }) => g.step === c.step);
    if (recipe) expect(Number(timeline[i].rate)).toBe(recipe.rate);
    // The page's signal on the shipped q4 graph equals the recipe's on the same dequantised weights (6 decimals).
    if (recipe && c.folder !== null) expect(Math.abs(Number(timeline[i].signal) - recipe.signal_q4), `step ${c.step} signal`).toBeLessThanOrEqual(2e-5 + 1e-3 * recipe.signal_q4);
  });
  await expect(page.getByTestId('timeline-result')).toContainText('(from the recipe)');
  // The recipe's latent step, when it is a shipped checkpoint, is where the page's own numbers rise first too.
  const shippedSteps = variants.checkpoints.filter((c: { folder: string | null }) => c.folder !== null).map((c: { step: number }) => c.step);
  if (shippedSteps.includes(golden.early_warning.latent_step))
    await expect(page.getByTestId('timeline-finding')).toHaveAttribute('data-latent-step', String(golden.early_warning.latent_step));

  // 6. Narrow fine-tune against the realigned model, labelled, and the stated drop is the readings' difference.
  await next(page, 6);
  await expect(page.getByTestId('realign-result')).toBeVisible({ timeout: 300_000 });
  await settled(page, 6);
  const six = await cards(page, 'realign-result');
  expect(six.map((c) => c.model)).toEqual([narrow.id, realigned.id]);
  expectLabelled(six);
  expect(Number(await page.getByTestId('realign-drop').getAttribute('data-drop'))).toBeCloseTo(six[0].reading - six[1].reading, 9);

  // The browser's Back returns to step 5 with its result kept; the page's Back goes on to step 4.
  await page.goBack();
  await expect(page.getByTestId('discover')).toHaveAttribute('data-step', '5');
  expect(new URL(page.url()).searchParams.get('discover')).toBe('5');
  await expect(page.getByTestId('timeline-finding')).toBeVisible();
  await page.getByTestId('discover-back').click();
  await expect(page.getByTestId('discover')).toHaveAttribute('data-step', '4');
  expect(new URL(page.url()).searchParams.get('discover')).toBe('4');

  // Every model folder of the story is in the service worker's cache (offline after this one visit).
  const folders = [...variants.variants.map((v: VariantEntry) => v.folder), ...variants.checkpoints.map((c: { folder: string | null }) => c.folder).filter(Boolean)];
  const urls = [...new Set(folders.flatMap((f: string) => ['config.json', 'tokenizer.json', 'onnx/model_q4.onnx'].map((n) => new URL(n, new URL(`models/${MODEL}/${f}`, page.url())).href)))];
  await expect
    .poll(() => page.evaluate(async (list) => (await Promise.all(list.map((u) => caches.match(u, { ignoreSearch: true })))).filter((r) => !r).length, urls), { timeout: 300_000 })
    .toBe(0);
  expect(cspErrors).toEqual([]);
  await harness.close();

  // Offline, a reload still runs the step live from the cache.
  await page.context().setOffline(true);
  await page.reload();
  await expect(page.getByTestId('steer-result')).toBeVisible({ timeout: 300_000 });
  await settled(page, 4);
  expectLabelled(await cards(page, 'steer-result'));
  await page.context().setOffline(false);
});

test('one Discover step embeds on its own, and the main page links to Discover', async ({ page }) => {
  test.setTimeout(600_000);
  await page.setViewportSize({ width: 375, height: 700 });
  await page.goto(`./index.html?embed&discover=2&m=${MODEL}`);
  await expect(page.getByTestId('discover')).toHaveAttribute('data-embed', 'true');
  await expect(page.getByTestId('finetune-result')).toBeVisible({ timeout: 300_000 });
  await settled(page, 2);
  await expect(page.getByTestId('discover-nav')).toHaveCount(0);
  await expect(page.getByTestId('discover-next')).toHaveCount(0);
  const two = await cards(page, 'finetune-result');
  expect(two.map((c) => c.model)).toEqual([byRole('base').id, byRole('narrow fine-tune').id]);
  expectLabelled(two);

  // A model folder without the recipe's files: a message saying what is missing, nothing loaded.
  await page.goto('./?discover=2&m=models/recipe/');
  await expect(page.getByTestId('discover-fatal')).toContainText('models/recipe/variants.json is missing: this model folder has no fine-tuned variants to discover.');
  await expect(page.getByTestId('discover-status')).toHaveAttribute('data-models', '0');

  await page.goto(`./?m=${MODEL}`);
  const link = page.getByTestId('discover-link');
  await expect(link).toHaveAttribute('href', `./?discover=1&m=${MODEL}`);
  await link.click();
  await expect(page.getByTestId('discover')).toHaveAttribute('data-step', '1');
  await expect(page.getByTestId('discover-step')).toHaveAttribute('data-step-id', 'voices');
});

// The one test on the full Voices model (when its variants are built): step 3's diff of base against the Hacker
// fine-tune on the recipe's golden texts, in the page, equals the recipe's own q4 diff of the same texts.
const full = existsSync('models/voices/variants.json') && existsSync('models/voices/emergence-golden.json');
test('on the full Voices model, the diff step equals the recipe\'s q4 diff and finds the Hacker persona', async ({ page }) => {
  test.skip(!full, 'models/voices has no variants: run npm run models:build (or build.sh --variants)');
  test.setTimeout(600_000);
  const v = JSON.parse(readFileSync('models/voices/variants.json', 'utf8'));
  const g = JSON.parse(readFileSync('models/voices/emergence-golden.json', 'utf8'));
  const narrowId: string = v.variants.find((x: VariantEntry) => x.role === 'narrow fine-tune').id;
  const recipeDiff: { latent: number; delta: number }[] = g.diffs_q4[narrowId];
  await page.goto('./?discover=3');
  await expect(page.getByTestId('diff-result')).toBeVisible({ timeout: 540_000 });
  await expect(page.getByTestId('discover-status')).toHaveAttribute('data-busy', '');
  const rows = await page.getByTestId('diff-row').evaluateAll((els) => els.map((e) => ({ latent: Number(e.getAttribute('data-latent')), value: Number(e.getAttribute('data-value')) })));
  for (let i = 0; i < 5; i++) {
    expect(rows[i].latent, `rank ${i + 1}`).toBe(recipeDiff[i].latent);
    expect(Math.abs(rows[i].value - recipeDiff[i].delta), `rank ${i + 1} delta`).toBeLessThanOrEqual(5e-5 + 1e-3 * Math.abs(recipeDiff[i].delta));
  }
  // The persona's best rank on the page is the recipe's (when the recipe's top 20 has one).
  const recipeRank = recipeDiff.findIndex((d) => g.persona_latents.includes(d.latent));
  const ranks = await page.getByTestId('persona-rank').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-rank') || Infinity)));
  if (recipeRank >= 0) expect(Math.min(...ranks)).toBe(recipeRank + 1);
});
