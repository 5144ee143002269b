// SAE folders over real HTTP (a local server in the hub's layout `/<owner>/<name>/resolve/<revision>/<path>`):
// the layout is told from whichever config file answers, missing files are typed errors naming what was expected,
// the release registry applies by repository, and a model folder's `sae/` is searched for resid_pre hooks too.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSae } from '../../../src/lib/sae/remote';
import { SaeFormatError, UnsupportedSaeKindError } from '../../../src/lib/sae';
import { discoverSaes, hubSaeFolderUrl, isExternalSae, locateSae, resolveModel, saeFolder } from '../../../src/lib/ui/models';
import { gemmaScope2Params, gemmaScopeNpz, randomSae, saeLensWeights } from './fixtures';

const dIn = 8;
const dSae = 32;
const standard = randomSae({ dIn, dSae, architecture: 'standard', seed: 4 });
const jump = randomSae({ dIn, dSae, architecture: 'jumprelu', seed: 5 });
const resJbCfg = {
  model_name: 'gpt2-small',
  hook_point: 'blocks.8.hook_resid_pre',
  hook_point_layer: 8,
  hook_point_head_index: null,
  d_in: dIn,
  dtype: 'torch.float32',
  device: 'mps',
  b_dec_init_method: 'geometric_median',
  expansion_factor: 4,
  l1_coefficient: 8e-5,
  d_sae: dSae,
};

const FILES: Record<string, Uint8Array | object> = {
  'jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre/cfg.json': resJbCfg,
  'jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre/sae_weights.safetensors': saeLensWeights(standard),
  'jbloom/GPT2-Small-SAEs-Reformatted/blocks.9.hook_resid_pre/cfg.json': { ...resJbCfg, hook_point: 'blocks.9.hook_resid_pre' },
  'google/gemma-scope-2-270m-pt/resid_post/layer_2_width_16k_l0_small/config.json': {
    hf_hook_point_in: 'model.layers.2.output',
    hf_hook_point_out: 'model.layers.2.output',
    width: dSae,
    model_name: 'google/gemma-3-270m-pt',
    architecture: 'jump_relu',
    l0: 20,
    affine_connection: false,
    type: 'sae',
  },
  'google/gemma-scope-2-270m-pt/resid_post/layer_2_width_16k_l0_small/params.safetensors': gemmaScope2Params(jump),
  'google/gemma-scope-2b-pt-res/layer_4/width_16k/average_l0_20/params.npz': gemmaScopeNpz(jump),
  'me/model/config.json': { n_layer: 12 },
  'me/model/sae/blocks.6.hook_resid_pre/cfg.json': { ...resJbCfg, hook_point: 'blocks.6.hook_resid_pre' },
};

let server: Server;
let hub = '';
const served: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/);
    const key = m ? `${m[1]}/${decodeURIComponent(m[2])}` : '';
    served.push(key);
    const body = FILES[key];
    if (url.pathname.startsWith('/spa/')) {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><html></html>');
      return;
    }
    if (body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
    res.writeHead(200, { 'Content-Type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json', 'Content-Length': bytes.byteLength });
    res.end(bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const folder = (repo: string, path: string) => `${hub}/${repo}/resolve/main/${path}/`;

describe('SAE folders over HTTP', () => {
  it('gpt2-small-res-jb replica: SAELens, resid_pre 8 = after block 7, centred by the release registry', async () => {
    const sae = await fetchSae(folder('jbloom/GPT2-Small-SAEs-Reformatted', 'blocks.8.hook_resid_pre'));
    expect(sae.config).toMatchObject({ format: 'saelens', layer: 7, centerResidual: true, applyBDecToInput: true, prependBos: true });
    expect(Array.from(sae.wEnc)).toEqual(Array.from(standard.wEnc));
  });

  it('a SAELens folder without its weights names the file it expected, not a model-folder message', async () => {
    const e = await fetchSae(folder('jbloom/GPT2-Small-SAEs-Reformatted', 'blocks.9.hook_resid_pre')).catch((x: Error) => x);
    expect(e).toBeInstanceOf(SaeFormatError);
    expect((e as Error).message).toMatch(/sae_weights\.safetensors answered HTTP 404: expected sae_weights\.safetensors beside a SAELens cfg\.json/);
    expect((e as Error).message).not.toMatch(/model folder/);
  });

  it('Gemma Scope 2 (config.json + params.safetensors) and Gemma Scope 1 (params.npz only) load from their repositories', async () => {
    const two = await fetchSae(folder('google/gemma-scope-2-270m-pt', 'resid_post/layer_2_width_16k_l0_small'));
    expect(two.config).toMatchObject({ format: 'gemma-scope', layer: 2, dSae, architecture: 'jumprelu' });
    const one = await fetchSae(folder('google/gemma-scope-2b-pt-res', 'layer_4/width_16k/average_l0_20'));
    expect(one.config).toMatchObject({ format: 'gemma-scope', layer: 4, dSae });
    expect(Array.from(one.threshold!)).toEqual(Array.from(jump.threshold!));
    const missing = await fetchSae(folder('google/gemma-scope-2b-pt-res', 'layer_5/width_16k/average_l0_20')).catch((x: Error) => x);
    expect((missing as Error).message).toMatch(/params\.npz answered HTTP 404: expected params\.safetensors \(Gemma Scope 2\) or params\.npz \(Gemma Scope 1\)/);
  });

  it('an HTML fallback page is "not there", naming the expected file', async () => {
    const e = await fetchSae(`${hub}/spa/sae/x/`).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/answered with an HTML page\): expected params\.safetensors \(Gemma Scope 2\) or params\.npz/);
  });

  it('a model folder holding only sae/blocks.6.hook_resid_pre/ finds it', async () => {
    const model = folder('me/model', '').replace(/\/+$/, '/');
    expect(await discoverSaes(model)).toEqual(['blocks.6.hook_resid_pre']);
    expect(await locateSae(model, 'blocks.1.hook_resid_post')).toBe('blocks.6.hook_resid_pre');
  });

  it('refuses a hook the model cannot steer at, by kind', async () => {
    FILES['jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_mlp_out/cfg.json'] = { ...resJbCfg, hook_point: 'blocks.8.hook_mlp_out' };
    FILES['jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_mlp_out/sae_weights.safetensors'] = saeLensWeights(standard);
    const e = await fetchSae(folder('jbloom/GPT2-Small-SAEs-Reformatted', 'blocks.8.hook_mlp_out')).catch((x: Error) => x);
    expect(e).toBeInstanceOf(UnsupportedSaeKindError);
    expect((e as Error).message).toMatch(/MLP output \(blocks\.8\.hook_mlp_out\).*expected a residual-stream SAE/);
  });

  it('an SAE from anywhere: hf:owner/repo/sub/folder[@rev] and folder URLs, independent of the model', async () => {
    expect(hubSaeFolderUrl('hf:jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre', hub)).toBe(folder('jbloom/GPT2-Small-SAEs-Reformatted', 'blocks.8.hook_resid_pre'));
    expect(hubSaeFolderUrl('hf:google/gemma-scope-2-270m-pt/resid_post/layer_2_width_16k_l0_small@v1.0', 'https://hub.example')).toBe(
      'https://hub.example/google/gemma-scope-2-270m-pt/resolve/v1.0/resid_post/layer_2_width_16k_l0_small/',
    );
    expect(() => hubSaeFolderUrl('hf:not a repo/x')).toThrow(/is not a hub repository id/);
    const sae = await fetchSae(hubSaeFolderUrl('hf:google/gemma-scope-2-270m-pt/resid_post/layer_2_width_16k_l0_small', hub));
    expect(sae.config.layer).toBe(2);
    const voices = resolveModel('voices');
    expect(isExternalSae('blocks.1.hook_resid_post')).toBe(false);
    expect(saeFolder(voices, 'blocks.1.hook_resid_post')).toBe('models/voices/sae/blocks.1.hook_resid_post/');
    expect(saeFolder(voices, 'hf:jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre')).toBe(
      'https://huggingface.co/jbloom/GPT2-Small-SAEs-Reformatted/resolve/main/blocks.8.hook_resid_pre/',
    );
    expect(saeFolder(voices, 'https://example.org/saes/mine')).toBe('https://example.org/saes/mine/');
    // An external SAE is not probed under the model's sae/ folder.
    const model = folder('me/model', '').replace(/\/+$/, '/');
    const before = served.length;
    expect(await locateSae(model, 'hf:a/b/c')).toBe('hf:a/b/c');
    expect(served.length).toBe(before);
  });
});
