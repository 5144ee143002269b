// A well-known pair in the built app's model picker, against a replica of the hub: choosing Gemma 3 270M IT + Gemma
// Scope 2 shows the download size asked of the hub (HEAD requests, nothing loaded yet), and Load brings the replica
// model (onnx-community/gemma-3-270m-it-ONNX's file names, weights in onnx/model.onnx_data) and the SAE
// (google/gemma-scope-2-270m-it/resid_post/layer_12_width_16k_l0_medium) in through the same loaders.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { formatBytes, KNOWN_PAIRS, PAIR_PREFIX } from '../../../src/lib/ui/pairs';
import { hubSaeFolderUrl } from '../../../src/lib/ui/models';
import { DEFAULT_HUB, hubFolderUrl } from '../../../src/lib/runtime/hub';
import { gemmaScope2Params, randomSae } from '../../unit/sae/fixtures';
import { appUrl, waitForAnalysis, waitForModel } from './helpers';

const REPLICA = 'models/fixtures/gemma-3-270m-it-replica';
const pair = KNOWN_PAIRS.find((p) => p.id === 'gemma-3-270m-it-gemmascope-2-res-16k-12')!;

test('Gemma 3 270M IT + Gemma Scope 2: the picker shows the download size from the hub, then Load brings the pair in', async ({ page, context }) => {
  const modelUrl = hubFolderUrl(pair.model.slice(3), DEFAULT_HUB);
  const saeUrl = hubSaeFolderUrl(pair.sae, DEFAULT_HUB);
  const files: Record<string, Buffer> = {};
  for (const f of [...pair.modelFiles, 'onnx/model.onnx_data']) files[modelUrl + f] = readFileSync(`${REPLICA}/${f}`);
  files[saeUrl + 'config.json'] = Buffer.from(
    JSON.stringify({ hf_hook_point_in: 'model.layers.12.output', hf_hook_point_out: 'model.layers.12.output', width: 64, model_name: 'google/gemma-3-270m-it', architecture: 'jump_relu', l0: 60, affine_connection: false, type: 'sae' }),
  );
  files[saeUrl + 'params.safetensors'] = Buffer.from(gemmaScope2Params(randomSae({ dIn: 32, dSae: 64, architecture: 'jumprelu', seed: 23 })));
  const requested: string[] = [];
  await context.route(`${DEFAULT_HUB}/**`, (route) => {
    const url = route.request().url();
    requested.push(`${route.request().method()} ${url.slice(DEFAULT_HUB.length)}`);
    const body = files[url];
    return body ? route.fulfill({ body, headers: { 'content-length': String(body.byteLength) } }) : route.fulfill({ status: 404, body: 'Entry not found' });
  });
  await page.goto(appUrl());
  await waitForAnalysis(page);
  await page.getByTestId('model-select').selectOption(PAIR_PREFIX + pair.id);
  const total = Object.values(files).reduce((a, b) => a + b.byteLength, 0);
  await expect(page.getByTestId('pair-size')).toHaveText(`Downloads ${formatBytes(total)} from the hub (8 files)`);
  // Only HEAD requests so far: nothing was downloaded before Load.
  expect(requested.every((r) => r.startsWith('HEAD '))).toBe(true);
  await page.getByTestId('model-load').click();
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-phase', 'loading');
  await waitForModel(page);
  // The link follows the experiment through a debounced sync: wait for it to carry the pair, not for a duration.
  await expect
    .poll(() => decodeURIComponent(page.url()))
    .toContain('m=hf:onnx-community/gemma-3-270m-it-ONNX');
  expect(decodeURIComponent(page.url())).toContain('s=hf:google/gemma-scope-2-270m-it/resid_post/layer_12_width_16k_l0_medium');
  expect(requested).toContain('GET /onnx-community/gemma-3-270m-it-ONNX/resolve/main/onnx/model.onnx_data');
  expect(requested).toContain('GET /google/gemma-scope-2-270m-it/resolve/main/resid_post/layer_12_width_16k_l0_medium/params.safetensors');
});
