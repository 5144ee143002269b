// The well-known pair GPT-2 small + gpt2-small-res-jb (layer 8) loads end to end from a replica hub: the picker's
// own pair entry resolved against a hub-layout route on this page, serving a 12-block GPT-2 replica under
// Xenova/gpt2's file names and an SAE under jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre with the
// real cfg.json's keys. The SAE reads the residual after block 7, mean-centred (release registry), with BOS first.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { KNOWN_PAIRS } from '../../../src/lib/ui/pairs';
import { hubSaeFolderUrl } from '../../../src/lib/ui/models';
import { hubFolderUrl } from '../../../src/lib/runtime/hub';
import { gemmaScope2Params, randomSae, saeLensWeights } from '../../unit/sae/fixtures';
import { HARNESS_PATH } from '../../harness/location.mjs';

const REPLICA = 'models/fixtures/gpt2-small-replica';
const pair = KNOWN_PAIRS.find((p) => p.id === 'gpt2-small-res-jb-8')!;

test('GPT-2 small + res-jb layer 8 (replica): model and SAE from their hub paths, SAE at block 8 resid_pre', async ({ page, baseURL }) => {
  const hub = `${baseURL}hub`;
  const modelUrl = hubFolderUrl(pair.model.slice(3), hub);
  const saeUrl = hubSaeFolderUrl(pair.sae, hub);
  const sae = randomSae({ dIn: 32, dSae: 64, architecture: 'standard', seed: 21 });
  const files: Record<string, Buffer> = {};
  for (const f of pair.modelFiles) files[modelUrl + f] = readFileSync(`${REPLICA}/${f}`);
  files[saeUrl + 'cfg.json'] = Buffer.from(
    JSON.stringify({
      model_name: 'gpt2-small',
      hook_point: 'blocks.8.hook_resid_pre',
      hook_point_layer: 8,
      hook_point_head_index: null,
      d_in: 32,
      dtype: 'torch.float32',
      device: 'mps',
      b_dec_init_method: 'geometric_median',
      expansion_factor: 2,
      l1_coefficient: 8e-5,
      d_sae: 64,
    }),
  );
  files[saeUrl + 'sae_weights.safetensors'] = Buffer.from(saeLensWeights(sae));
  const served: string[] = [];
  await page.route(`${hub}/**`, (route) => {
    const url = route.request().url();
    served.push(url.slice(hub.length));
    const body = files[url];
    return body ? route.fulfill({ body, headers: { 'content-length': String(body.byteLength) } }) : route.fulfill({ status: 404, body: 'Entry not found' });
  });
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sae?.playground !== undefined);
  const loaded = await page.evaluate(([m, s]) => (window as any).harness.sae.playground.load(m, s, { backend: 'wasm' }), [modelUrl, saeUrl]);
  expect(loaded.model).toMatchObject({ nLayer: 12, dModel: 32 });
  expect(loaded.sae).toMatchObject({ hookName: 'blocks.8.hook_resid_pre', layer: 7, dSae: 64, prependBos: true, neuronpediaId: 'gpt2-small/8-res-jb' });
  expect(loaded.sae.notes.join(' ')).toMatch(/gpt2-small-res-jb.*center_writing_weights/);
  const a = await page.evaluate(() => (window as any).harness.sae.playground.analyse('hello world', 4));
  expect(a.ids).toEqual([296, 256, 290, 111, 281]);
  expect(a.special[0]).toBe(true);
  expect(served).toContain('/Xenova/gpt2/resolve/main/onnx/model.onnx');
  expect(served).toContain('/jbloom/GPT2-Small-SAEs-Reformatted/resolve/main/blocks.8.hook_resid_pre/sae_weights.safetensors');
  await page.evaluate(() => (window as any).harness.sae.playground.dispose());
});

// Gemma 3 270M IT + Gemma Scope 2 (layer 12, 16k, medium L0): an 18-layer replica under
// onnx-community/gemma-3-270m-it-ONNX's file names (fp32 graph with its weights in onnx/model.onnx_data; a Llama body,
// see models/fixtures/replicas.py) and an SAE under google/gemma-scope-2-270m-it/resid_post/layer_12_width_16k_l0_medium
// with Gemma Scope 2's config.json keys. The picker's pair entry resolves against the hub route; nothing else is served.
const GEMMA = 'models/fixtures/gemma-3-270m-it-replica';
const gemmaPair = KNOWN_PAIRS.find((p) => p.id === 'gemma-3-270m-it-gemmascope-2-res-16k-12')!;

test('Gemma 3 270M IT + Gemma Scope 2 layer 12 (replica): model with external data and SAE from their hub paths, SAE after block 12', async ({ page, baseURL }) => {
  const hub = `${baseURL}hub`;
  const modelUrl = hubFolderUrl(gemmaPair.model.slice(3), hub);
  const saeUrl = hubSaeFolderUrl(gemmaPair.sae, hub);
  const files: Record<string, Buffer> = {};
  for (const f of [...gemmaPair.modelFiles, 'onnx/model.onnx_data']) files[modelUrl + f] = readFileSync(`${GEMMA}/${f}`);
  files[saeUrl + 'config.json'] = Buffer.from(
    JSON.stringify({
      hf_hook_point_in: 'model.layers.12.output',
      hf_hook_point_out: 'model.layers.12.output',
      width: 64,
      model_name: 'google/gemma-3-270m-it',
      architecture: 'jump_relu',
      l0: 60,
      affine_connection: false,
      type: 'sae',
    }),
  );
  files[saeUrl + 'params.safetensors'] = Buffer.from(gemmaScope2Params(randomSae({ dIn: 32, dSae: 64, architecture: 'jumprelu', seed: 22 })));
  const served: string[] = [];
  await page.route(`${hub}/**`, (route) => {
    const url = route.request().url();
    served.push(url.slice(hub.length));
    const body = files[url];
    return body ? route.fulfill({ body, headers: { 'content-length': String(body.byteLength) } }) : route.fulfill({ status: 404, body: 'Entry not found' });
  });
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sae?.playground !== undefined);
  const loaded = await page.evaluate(([m, s]) => (window as any).harness.sae.playground.load(m, s, { backend: 'wasm' }), [modelUrl, saeUrl]);
  expect(loaded.model).toMatchObject({ nLayer: 18, dModel: 32 });
  expect(loaded.sae).toMatchObject({ hookName: 'blocks.12.hook_resid_post', layer: 12, dSae: 64, prependBos: true });
  const golden = JSON.parse(readFileSync(`${GEMMA}/golden.json`, 'utf8'));
  const bos = JSON.parse(readFileSync(`${GEMMA}/config.json`, 'utf8')).bos_token_id;
  const a = await page.evaluate(() => (window as any).harness.sae.playground.analyse('hello world', 4));
  // Gemma Scope SAEs are trained with BOS first: the tokenizer's BOS, marked special, then the prompt's own ids.
  expect(golden.prompts[0].prompt).toBe('hello world');
  expect(a.ids).toEqual([bos, ...golden.prompts[0].input_ids]);
  expect(a.special[0]).toBe(true);
  expect(served).toContain('/onnx-community/gemma-3-270m-it-ONNX/resolve/main/onnx/model.onnx_data');
  expect(served).toContain('/google/gemma-scope-2-270m-it/resolve/main/resid_post/layer_12_width_16k_l0_medium/params.safetensors');
  await page.evaluate(() => (window as any).harness.sae.playground.dispose());
});
