// Every SAE kernel against its TypeScript reference (relative error ≤ 1e-4) on random data with awkward sizes, and
// fixtures of each SAE format giving identical encodings on the GPU.
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const TOL = 1e-4;

async function open(page: Page) {
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sae !== undefined);
}

type Case = Record<string, unknown>;
async function run(page: Page, c: Case) {
  return page.evaluate((c) => (window as any).harness.sae.kernelCase(c), c);
}

function expectClose(r: Awaited<ReturnType<typeof run>>) {
  expect(r.preprocessRel).toBeLessThanOrEqual(TOL);
  expect(r.encodeRel).toBeLessThanOrEqual(TOL);
  expect(r.topIndexMismatches).toBe(0);
  expect(r.topValueRel).toBeLessThanOrEqual(TOL);
  expect(r.decodeRel).toBeLessThanOrEqual(TOL);
  expect(r.nonzeroMismatches).toBe(0);
  expect(r.errorRel).toBeLessThanOrEqual(TOL);
  expect(r.steerRel).toBeLessThanOrEqual(TOL);
}

test.describe('SAE kernels vs TypeScript reference', () => {
  test.beforeEach(async ({ page }) => open(page));

  const cases: [string, Case][] = [
    ['TopK, one token, awkward sizes, k = 1', { dIn: 37, dSae: 203, tokens: 1, architecture: 'topk', saeK: 5, topK: 1 }],
    ['ReLU, one token, k = d_sae', { dIn: 50, dSae: 99, tokens: 1, architecture: 'standard', topK: 99 }],
    ['JumpReLU, few tokens on the GEMV path, split-K', { dIn: 70, dSae: 333, tokens: 3, architecture: 'jumprelu', topK: 8, mode: 'token', targetWorkgroups: 64 }],
    ['TopK, one token, GEMV without split-K', { dIn: 256, dSae: 2048, tokens: 1, architecture: 'topk', saeK: 32, topK: 8, f16: true, mode: 'token', targetWorkgroups: 1 }],
    ['TopK, 300-token prompt on the tiled GEMM', { dIn: 67, dSae: 250, tokens: 300, architecture: 'topk', saeK: 12, topK: 8, mode: 'prompt' }],
    ['ReLU prompt, k = d_sae, layer_norm + centring', { dIn: 33, dSae: 45, tokens: 17, architecture: 'standard', topK: 45, mode: 'prompt', normalize: 'layer_norm', center: true }],
    ['F16-packed weights, GEMV, split-K', { dIn: 45, dSae: 301, tokens: 9, architecture: 'topk', saeK: 7, topK: 7, f16: true, mode: 'token', targetWorkgroups: 64 }],
    ['F16-packed weights, tiled GEMM', { dIn: 45, dSae: 301, tokens: 70, architecture: 'jumprelu', topK: 4, f16: true, mode: 'prompt', normalize: 'constant_norm_rescale' }],
    ['weights split across bindings (forced small limit), GEMV', { dIn: 40, dSae: 500, tokens: 2, architecture: 'topk', saeK: 9, topK: 9, maxBindingBytes: 40 * 4 * 64, mode: 'token', targetWorkgroups: 64 }],
    ['weights split across bindings, F16 GEMM, scale', { dIn: 40, dSae: 500, tokens: 20, architecture: 'standard', topK: 16, f16: true, maxBindingBytes: 40 * 2 * 96, mode: 'prompt', normalize: 'expected_average_only_in' }],
    ['generation layout: last position of 2 batch rows', { dIn: 64, dSae: 512, tokens: 2, rows: 2, architecture: 'topk', saeK: 16, topK: 8 }],
  ];
  for (const [name, c] of cases) {
    test(name, async ({ page }) => {
      const r = await run(page, c);
      expectClose(r);
      if (c.maxBindingBytes) {
        expect(r.chunks.encoder).toBeGreaterThan(1);
        expect(r.chunks.decoder).toBeGreaterThan(1);
      }
      if (c.architecture === 'topk') for (const n of r.nonzeroPerToken) expect(n).toBeLessThanOrEqual(c.saeK as number);
    });
  }

  // Decode alone: the per-token list of non-zero latents it sums over (exact ids and counts) on rows built to the
  // compaction's edges — none on, all on, only the first or last latent, −0 everywhere — and x̂ against the reference.
  const decodeCases: [string, Record<string, unknown>][] = [
    ['203 latents (fewer than the 256 invocations), 37 wide', { dIn: 37, dSae: 203, rows: ['zero', 'dense', 'first', 'last', 'sparse', 'negzero'] }],
    ['24,577 latents (blocks of 97, the last short), 100 wide', { dIn: 100, dSae: 24577, rows: ['sparse', 'dense', 'zero', 'last', 'first'], every: 300 }],
    ['W_dec split into 8 bindings (forced small limit)', { dIn: 40, dSae: 500, rows: ['first', 'last', 'sparse', 'dense', 'zero', 'negzero'], maxBindingBytes: 40 * 4 * 64 }],
  ];
  for (const [name, c] of decodeCases) {
    test(`decode from the non-zero latents equals the reference: ${name}`, async ({ page }) => {
      const r = await page.evaluate((c) => (window as any).harness.sae.decodeCase(c), c);
      expect(r.counts).toEqual(r.wantCounts);
      const rows = c.rows as string[];
      const dSae = c.dSae as number;
      // The patterns' own counts, so that a reference bug cannot hide a kernel bug.
      rows.forEach((kind, t) => {
        if (kind === 'zero') expect(r.counts[t]).toBe(0);
        if (kind === 'dense') expect(r.counts[t]).toBe(dSae);
        if (kind === 'first' || kind === 'last' || kind === 'negzero') expect(r.counts[t]).toBe(1);
        if (kind === 'sparse') expect(r.counts[t]).toBeGreaterThan(0);
      });
      expect(r.listMismatches).toBe(0);
      expect(r.decodeRel).toBeLessThanOrEqual(TOL);
      expect(r.errorRel).toBeLessThanOrEqual(TOL);
      expect(r.zeroRowsExact).toBe(true);
      if (c.maxBindingBytes) expect(r.decoderChunks).toBe(8);
    });
  }

  // The top-k pass alone on tie-heavy rows: one workgroup per row (target 1) and rows cut into slices whose top k are
  // merged (issue 13: a GPU with one or two rows to rank should not rank each on one workgroup), in place masking too.
  const topkCases: [string, Record<string, unknown>, number][] = [
    ['one token of 24,576 latents, 7 levels, k 32, mask: 96 slices', { rows: 1, width: 24576, k: 32, levels: 7, mask: true, targetWorkgroups: 2048 }, 96],
    ['3 rows of 1000, continuous, k 17: 4 slices, the last 232 long', { rows: 3, width: 1000, k: 17, levels: 0, targetWorkgroups: 64 }, 4],
    ['2 rows of 4097, 3 levels, k 1, mask: 17 slices, the last of one element', { rows: 2, width: 4097, k: 1, levels: 3, mask: true, targetWorkgroups: 64 }, 17],
    ['a last slice shorter than k (401, k 100, 5 levels, mask)', { rows: 1, width: 401, k: 100, levels: 5, mask: true, targetWorkgroups: 64 }, 2],
    ['one workgroup per row: 5 rows of 333, 4 levels, k 8, mask', { rows: 5, width: 333, k: 8, levels: 4, mask: true, targetWorkgroups: 1 }, 1],
  ];
  // Each case with the subgroup scan and the workgroup-memory scan (both on this device: SwiftShader offers subgroups,
  // of size 4), and the serial baseline on the one-workgroup and the 24,576-latent cases.
  const scanRuns = topkCases.flatMap(([name, c, segments], i) =>
    ['subgroups', 'shared', ...(i === 0 || i === 4 ? ['serial'] : [])].map((scan): [string, Record<string, unknown>, number] => [`${name} [${scan} scan]`, { ...c, scan }, segments]),
  );
  for (const [name, c, segments] of scanRuns) {
    test(`top-k pass equals the reference: ${name}`, async ({ page }) => {
      const r = await page.evaluate((c) => (window as any).harness.sae.topkCase(c), c);
      expect(r.scan).toBe(c.scan);
      expect(r.segments).toBe(segments);
      expect(r.indexMismatches).toBe(0);
      expect(r.valueDiff).toBe(0);
      expect(r.maskMismatches).toBe(0);
      // Tie-heavy rows put equals of the k-th value outside the top k: the index passes and tie order are exercised.
      if ((c.levels as number) > 0) expect(r.tiesOutside).toBeGreaterThan(0);
    });
  }

  // Workgroup sizes that leave bins without an owner (50 invocations × 6 bins) and a partial last subgroup (50 = 12 × 4
  // + 2 on SwiftShader), or give each invocation one bin (256), for both parallel scans.
  for (const workgroupSize of [50, 256])
    for (const scan of ['subgroups', 'shared'])
      test(`top-k pass equals the reference with ${workgroupSize} invocations per workgroup [${scan} scan]`, async ({ page }) => {
        const c = { rows: 4, width: 777, k: 9, levels: 5, mask: true, targetWorkgroups: 1, scan, workgroupSize };
        const r = await page.evaluate((c) => (window as any).harness.sae.topkCase(c), c);
        expect(r.scan).toBe(scan);
        expect(r.indexMismatches).toBe(0);
        expect(r.valueDiff).toBe(0);
        expect(r.maskMismatches).toBe(0);
        expect(r.tiesOutside).toBeGreaterThan(0);
      });

  test('the top-k pass builds the subgroup scan where the device has subgroups (SwiftShader does, size 4)', async ({ page }) => {
    const r = await page.evaluate(() => (window as any).harness.sae.topkScanInfo());
    // The harness device asks for the feature whenever the adapter offers it, and the pass then uses it by default.
    expect(r.deviceHasSubgroups).toBe(r.adapterHasSubgroups);
    expect(r.scan).toBe(r.deviceHasSubgroups ? 'subgroups' : 'shared');
    if (r.architecture === 'swiftshader') {
      expect(r.scan).toBe('subgroups');
      expect([r.subgroupMinSize, r.subgroupMaxSize]).toEqual([4, 4]);
    }
  });

  test('SAELens scaling factors (norm factor, per-latent finetuning factor) on the GPU kernels and the reference', async ({ page }) => {
    const r = await page.evaluate(() => (window as any).harness.sae.scalingFactorsCase());
    for (const key of ['gpuEncodeRel', 'gpuDecodeRel', 'gpuSteerRel', 'refEncodeRel', 'refDecodeRel', 'refSteerRel']) expect(r[key], key).toBeLessThanOrEqual(TOL);
    expect(r.nonzero).toBeGreaterThan(0);
    // Ignoring the factors would be far off: the check can fail.
    expect(r.unscaledDecodeRel).toBeGreaterThan(0.1);
  });

  test('each SAE format gives identical encodings on the GPU', async ({ page }) => {
    for (const arch of ['topk', 'jumprelu'] as const) {
      const r = await page.evaluate((a) => (window as any).harness.sae.formatsAgree(a), arch);
      for (const d of Object.values(r.maxDiff)) expect(d).toBe(0);
      expect(r.nonzero).toBeGreaterThan(0);
      expect(r.refRel).toBeLessThanOrEqual(TOL);
    }
  });
});

// The shipped SAE(s) on real residuals recorded by the model recipe (golden.json).
for (const model of ['voices', 'voices-smoke'].filter((m) => existsSync(`models/${m}/golden.json`) && existsSync(`models/${m}/sae`))) {
  test(`${model} SAE on real residuals: GEMV and GEMM equal the reference`, async ({ page }) => {
    await open(page);
    const golden = JSON.parse(readFileSync(`models/${model}/golden.json`, 'utf8'));
    const rows: number[][] = [];
    for (const p of golden.prompts) for (const byPos of Object.values(p.residual as Record<string, Record<string, number[]>>)) rows.push(...Object.values(byPos));
    const hook = readdirSync(`models/${model}/sae`)[0];
    const r = await page.evaluate(([url, rows]) => (window as any).harness.sae.realSaeCase(url, rows, 8), [`/models/${model}/sae/${hook}/`, rows] as const);
    for (const mode of ['token', 'prompt']) {
      expect(r[`${mode}EncodeRel`]).toBeLessThanOrEqual(TOL);
      expect(r[`${mode}TopIndexMismatches`]).toBe(0);
      expect(r[`${mode}TopValueRel`]).toBeLessThanOrEqual(TOL);
    }
  });
}
