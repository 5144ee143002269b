// Published SAE layouts through the real engine in the browser, on the tiny GPT-2 fixture: an old SAELens upload
// served in the hub's layout under gpt2-small-res-jb's repository name (pre-6.0 cfg.json: hook_point, prepend_bos by
// default), read as SAELens with the release registry's centring; the SAE's BOS is prepended and marked special; an
// SAE that says prepend_bos false gets none; an MLP-output Gemma Scope 2 SAE is refused by kind and the engine
// keeps the SAE it had.
import { expect, test, type Page } from '@playwright/test';
import { randomSae, saeLensWeights, gemmaScope2Params } from '../../unit/sae/fixtures';
import { HARNESS_PATH } from '../../harness/location.mjs';

const MODEL = '/models/fixtures/tiny-gpt2/';
const BOS = 296; // tiny-gpt2's <|endoftext|> (bos = eos), models/fixtures/README.md
const HELLO = [256, 290, 111, 281]; // "hello world"
const HUB = '/hub/jbloom/GPT2-Small-SAEs-Reformatted/resolve/main/blocks.1.hook_resid_pre/';

const sae = randomSae({ dIn: 64, dSae: 128, architecture: 'standard', seed: 12 });
const oldCfg = {
  model_name: 'gpt2-small',
  hook_point: 'blocks.1.hook_resid_pre',
  hook_point_layer: 1,
  hook_point_head_index: null,
  d_in: 64,
  dtype: 'torch.float32',
  device: 'mps',
  b_dec_init_method: 'geometric_median',
  expansion_factor: 2,
  l1_coefficient: 8e-5,
  d_sae: 128,
};

async function serve(page: Page, folder: string, files: Record<string, Uint8Array | object>) {
  for (const [name, body] of Object.entries(files)) {
    await page.route(`**${folder}${name}`, (route) =>
      route.fulfill(body instanceof Uint8Array ? { body: Buffer.from(body) } : { body: JSON.stringify(body), contentType: 'application/json' }),
    );
  }
}

test('an old SAELens upload on its hub path: BOS prepended and marked special, centring from the registry; other kinds refused', async ({ page }) => {
  await serve(page, HUB, { 'cfg.json': oldCfg, 'sae_weights.safetensors': saeLensWeights(sae) });
  await serve(page, '/local-sae/no-bos/', {
    'cfg.json': { ...oldCfg, hook_point: 'blocks.1.hook_resid_post', prepend_bos: false },
    'sae_weights.safetensors': saeLensWeights(sae),
  });
  await serve(page, '/hub/google/gemma-scope-2-270m-pt/resolve/main/mlp_out/layer_1_width_16k_l0_small/', {
    'config.json': { hf_hook_point_in: 'model.layers.1.post_feedforward_layernorm.output', hf_hook_point_out: 'model.layers.1.post_feedforward_layernorm.output', width: 128, architecture: 'jump_relu', type: 'sae', l0: 10, affine_connection: false, model_name: 'google/gemma-3-270m-pt' },
    'params.safetensors': gemmaScope2Params(randomSae({ dIn: 64, dSae: 128, architecture: 'jumprelu', seed: 13 })),
  });
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sae?.playground !== undefined);
  const loaded = await page.evaluate(([m, s]) => (window as any).harness.sae.playground.load(m, s, { onnxFile: 'onnx/model.onnx' }), [MODEL, HUB]);
  expect(loaded.sae).toMatchObject({ hookName: 'blocks.1.hook_resid_pre', layer: 0, dIn: 64, dSae: 128, architecture: 'standard', prependBos: true, warnings: [] });
  expect(loaded.sae.notes.join(' ')).toMatch(/center_writing_weights/);

  const a = await page.evaluate(() => (window as any).harness.sae.playground.analyse('hello world', 4));
  expect(a.ids).toEqual([BOS, ...HELLO]);
  expect(a.special).toEqual([true, false, false, false, false]);
  expect(a.values.length).toBe(5 * a.k);

  const refused = await page.evaluate(() =>
    (window as any).harness.sae.playground.loadSae('/hub/google/gemma-scope-2-270m-pt/resolve/main/mlp_out/layer_1_width_16k_l0_small/'),
  );
  expect(refused.error).toBe('UnsupportedSaeKindError');
  expect(refused.message).toMatch(/MLP output \(model\.layers\.1\.post_feedforward_layernorm\.output\).*expected a residual-stream SAE/);
  // The engine keeps the SAE it had.
  const again = await page.evaluate(() => (window as any).harness.sae.playground.analyse('hello world', 4));
  expect(again.ids).toEqual([BOS, ...HELLO]);

  const noBos = await page.evaluate(() => (window as any).harness.sae.playground.loadSae('/local-sae/no-bos/'));
  expect(noBos).toMatchObject({ layer: 1, prependBos: false });
  const b = await page.evaluate(() => (window as any).harness.sae.playground.analyse('hello world', 4));
  expect(b.ids).toEqual(HELLO);
  expect(b.special).toEqual([false, false, false, false]);
  await page.evaluate(() => (window as any).harness.sae.playground.dispose());
});
