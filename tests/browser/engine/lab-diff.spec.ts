// The lab's model diff on the shipped Voices model's fp32 graph against its q4 graph: its top-20 rankings (mean
// change, frequency change, largest single change) equal a reference recomputed here from the engine's analyse on
// every prompt with each model; two models of different widths are a typed error before any engine is made.
import { expect, test } from '@playwright/test';
import { existsSync, readdirSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const MODEL = existsSync('models/voices/onnx/model.onnx') ? 'voices' : 'voices-smoke';
const HOOK = readdirSync(`models/${MODEL}/sae`)[0];
const FOLDER = `/models/${MODEL}/`;
const SAE = `/models/${MODEL}/sae/${HOOK}/`;
const PROMPTS = ['The weather today is', 'To open the door,', 'She picked up the phone and', 'The password must contain', 'Coffee is made from', 'A bicycle is a'];

type Entry = { latent: number; value: number };

/**
 * Same ranking up to ties: at every rank the magnitudes agree within `tol`, and the latent the lab puts there has the
 * same signed value in the reference (so only latents of equal magnitude may swap places).
 */
function expectSameRanking(lab: Entry[], ref: Entry[], tol: (v: number) => number) {
  const refSorted = [...ref].sort((x, y) => Math.abs(y.value) - Math.abs(x.value) || x.latent - y.latent).slice(0, lab.length);
  const byLatent = new Map(ref.map((e) => [e.latent, e.value]));
  lab.forEach((e, i) => {
    const want = refSorted[i].value;
    expect(Math.abs(Math.abs(e.value) - Math.abs(want)), `rank ${i + 1}: lab ${e.value} vs reference ${want}`).toBeLessThanOrEqual(tol(want));
    expect(Math.abs((byLatent.get(e.latent) ?? NaN) - e.value), `rank ${i + 1}: latent ${e.latent}`).toBeLessThanOrEqual(tol(want));
  });
}

test('diff ranking equals the per-prompt analyse reference (fp32 vs q4)', async ({ page }) => {
  test.setTimeout(900_000);
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.lab !== undefined);
  const lab = await page.evaluate(
    ([f, s, p]) => (window as any).harness.lab.diff(f, s, 'onnx/model.onnx', 'onnx/model_q4.onnx', p, 'abs', 20),
    [FOLDER, SAE, PROMPTS] as const,
  );
  const ref = await page.evaluate(
    ([f, s, p]) => (window as any).harness.lab.reference(f, s, 'onnx/model.onnx', 'onnx/model_q4.onnx', p, 32),
    [FOLDER, SAE, PROMPTS] as const,
  );
  expect(lab.complete).toBe(true); // TopK SAE, k latents read per token: the sums are exact
  expect(lab.engines).toBe(1);
  expect(lab.tokens.reduce((a: number, b: number) => a + b, 0)).toBe(ref.tokens);
  // Both sides read the same activations; only the order of float sums differs.
  const tol = (v: number) => 1e-4 + 1e-3 * Math.abs(v);
  expectSameRanking(lab.ranked.mean, ref.mean, tol);
  expectSameRanking(lab.ranked.frequency, ref.frequency, () => 1e-9);
  expectSameRanking(lab.ranked.max, ref.max, tol);
  // Quantisation changes something: the top mean change is not zero.
  expect(Math.abs(lab.ranked.mean[0].value)).toBeGreaterThan(1e-3);
  console.log(`fp32 vs q4 on ${PROMPTS.length} prompts (${ref.tokens} tokens): top mean changes ${JSON.stringify(lab.ranked.mean.slice(0, 5))}`);
});

test('two models of different widths are a LabWidthMismatchError before any engine is made', async ({ page }) => {
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.lab !== undefined);
  const r = await page.evaluate(([f, s]) => (window as any).harness.lab.mismatch(f, '/models/fixtures/tiny-gpt2/', s), [FOLDER, SAE] as const);
  expect(r.name).toBe('LabWidthMismatchError');
  expect(r.message).toContain('has residual width 256 and B has 64');
  expect(r.engines).toBe(0);
});
