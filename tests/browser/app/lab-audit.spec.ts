// The lab's audit in the built app: per prompt and persona, the peak monitor reading and where it peaked equal the
// per-token readings recomputed independently on the harness (vector personas from the residual, latent personas
// from the SAE's latents); flags follow the threshold; one histogram per persona counts every prompt.
import { expect, test } from '@playwright/test';
import { appUrl, MODEL, waitForAnalysis } from './helpers';
import { HARNESS_PATH } from '../../harness/location.mjs';

const DEV = `http://127.0.0.1:${process.env.TEST_DEV_PORT ?? 5173}/`;
const PROMPTS = ['The weather today is', 'And the LORD said unto Moses', 'The open() system call returns'];

test('audit peaks equal the monitor readings per token, flagged at the threshold', async ({ page, browser }) => {
  test.setTimeout(600_000);
  await page.goto(`${appUrl()}#lab=audit&at=2`);
  await waitForAnalysis(page);
  await page.getByTestId('audit-prompts-text').fill(PROMPTS.join('\n'));
  await expect(page.getByTestId('audit-threshold')).toHaveValue('2');
  await page.getByTestId('audit-run').click();
  await expect(page.getByTestId('lab-audit')).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  const rows = page.getByTestId('audit-row');
  await expect(rows).toHaveCount(PROMPTS.length);
  const shown = await rows.evaluateAll((els) =>
    els.map((row) => ({
      flagged: row.getAttribute('data-flagged'),
      peaks: Object.fromEntries(
        [...row.querySelectorAll('[data-testid=audit-peak]')].map((p) => [p.getAttribute('data-persona'), { value: Number(p.getAttribute('data-value')), token: Number(p.getAttribute('data-token')) }]),
      ),
    })),
  );

  const harness = await browser.newPage();
  await harness.goto(`${DEV}${HARNESS_PATH}`);
  await harness.waitForFunction(() => (window as any).harness?.lab !== undefined);
  const ref = await harness.evaluate(
    ([m, p]) => (window as any).harness.lab.audit(`/models/${m}/`, `/models/${m}/sae/blocks.1.hook_resid_post/`, 'onnx/model_q4.onnx', p, 2),
    [MODEL, PROMPTS] as const,
  );
  await harness.close();
  expect(Object.keys(shown[0].peaks).sort()).toEqual([...ref.personas].sort());
  PROMPTS.forEach((_, i) => {
    for (const id of ref.personas as string[]) {
      const readings: number[] = ref.reference[i][id];
      const peak = Math.max(...readings);
      const got = shown[i].peaks[id];
      expect(Math.abs(got.value - peak), `${PROMPTS[i]} / ${id}`).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(peak)));
      // Where it peaked: that token's reading is the peak (a near-tie may pick either token).
      expect(Math.abs(readings[got.token] - peak)).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(peak)));
      expect((shown[i].flagged ?? '').split(',').includes(id)).toBe(got.value >= 2);
    }
  });
  const hists = page.getByTestId('audit-hist');
  await expect(hists).toHaveCount(ref.personas.length);
  const total = await hists.first().locator('svg').getAttribute('aria-label');
  expect(total!.split(': ')[1].split(', ').map(Number).reduce((a, b) => a + b, 0)).toBe(PROMPTS.length);

  // A new threshold re-flags without re-running.
  await page.getByTestId('audit-threshold').fill('-1000');
  await page.getByTestId('audit-threshold').dispatchEvent('change');
  await expect(rows.first()).toHaveAttribute('data-flagged', [...Object.keys(shown[0].peaks)].join(','));
});
