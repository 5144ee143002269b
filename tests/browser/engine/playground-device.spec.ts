// A lost GPU device (driver reset, another tab hogging the GPU) mid-session: the engine re-creates the model session
// and its SAE kernels on a new device, tells its listener (the page shows the notice), and reads the same latents.
import { expect, test } from '@playwright/test';
import { HARNESS_PATH } from '../../harness/location.mjs';

test('GPU device loss: the engine recovers, notifies, and analyses the same as before', async ({ page }) => {
  test.slow();
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sae?.playground !== undefined);
  const r = await page.evaluate(() =>
    (window as any).harness.sae.playground.deviceLoss('/models/voices/', '/models/voices/sae/blocks.1.hook_resid_post/', 'In the beginning God created'),
  );
  expect(r.created).toBeGreaterThan(0);
  expect(r.notices.map((n: { kind: string }) => n.kind)).toEqual(['device-lost', 'device-restored']);
  expect(r.notices[1].message).toMatch(/running again on .*Your prompt and settings are unchanged/);
  expect(r.after).toEqual(r.before);
  expect(r.maxValueDiff).toBeLessThan(1e-3);
  await page.evaluate(() => (window as any).harness.sae.playground.dispose());
});
