// Well-known pairs: the download size is asked of the hub before anything loads, against a replica of the real
// repositories (exact file names, LFS files redirected to a content host as the hub does) served on 127.0.0.1;
// an unreachable hub or a missing file is a clear error naming the pair and the host.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes, KNOWN_PAIRS, pairDownloadSize, PairUnavailableError } from '../../../src/lib/ui/pairs';
import { gemmaScope2Params, randomSae, saeLensWeights } from '../sae/fixtures';

const pair = KNOWN_PAIRS.find((p) => p.id === 'gpt2-small-res-jb-8')!;
const tiny = 'models/fixtures/tiny-gpt2';
const sae = randomSae({ dIn: 64, dSae: 128, architecture: 'standard', seed: 2 });
const FILES: Record<string, Uint8Array> = {
  'Xenova/gpt2/config.json': readFileSync(`${tiny}/config.json`),
  'Xenova/gpt2/tokenizer.json': readFileSync(`${tiny}/tokenizer.json`),
  'Xenova/gpt2/tokenizer_config.json': readFileSync(`${tiny}/tokenizer_config.json`),
  'Xenova/gpt2/onnx/model.onnx': readFileSync(`${tiny}/onnx/model.onnx`),
  'jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre/cfg.json': new TextEncoder().encode(
    JSON.stringify({ model_name: 'gpt2-small', hook_point: 'blocks.8.hook_resid_pre', hook_point_layer: 8, hook_point_head_index: null, d_in: 64, d_sae: 128 }),
  ),
  'jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre/sae_weights.safetensors': saeLensWeights(sae),
};
// Gemma 3 270M IT + Gemma Scope 2 (layer 12, 16k): the replica (models/fixtures/replicas.py) under the real
// repositories' file names, the fp32 graph with its weights in onnx/model.onnx_data as transformers.js publishes it.
const gemmaPair = KNOWN_PAIRS.find((p) => p.id === 'gemma-3-270m-it-gemmascope-2-res-16k-12')!;
const gemma = 'models/fixtures/gemma-3-270m-it-replica';
const GEMMA_REPO = 'onnx-community/gemma-3-270m-it-ONNX';
const SCOPE = 'google/gemma-scope-2-270m-it/resid_post/layer_12_width_16k_l0_medium';
for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data'])
  FILES[`${GEMMA_REPO}/${f}`] = readFileSync(`${gemma}/${f}`);
FILES[`${SCOPE}/config.json`] = new TextEncoder().encode(JSON.stringify({ hf_hook_point_in: 'model.layers.12.output', hf_hook_point_out: 'model.layers.12.output', width: 64, model_name: 'google/gemma-3-270m-it', architecture: 'jump_relu', l0: 60, affine_connection: false, type: 'sae' }));
FILES[`${SCOPE}/params.safetensors`] = gemmaScope2Params(randomSae({ dIn: 32, dSae: 64, architecture: 'jumprelu', seed: 3 }));
const LFS = (key: string) => key.endsWith('.onnx') || key.endsWith('.onnx_data') || key.endsWith('.safetensors');

let server: Server;
let hub = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const cdn = url.pathname.match(/^\/cdn\/(.+)$/);
    const m = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/);
    const key = cdn ? decodeURIComponent(cdn[1]) : m ? `${m[1]}/${m[2]}` : '';
    const body = FILES[key];
    if (!body) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    if (!cdn && LFS(key)) {
      // The hub redirects LFS files to its content host and states their size.
      res.writeHead(302, { Location: `/cdn/${encodeURIComponent(key)}`, 'X-Linked-Size': String(body.byteLength) }).end();
      return;
    }
    res.writeHead(200, { 'Content-Length': body.byteLength, 'Content-Type': 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('well-known pairs', () => {
  it('GPT-2 small + res-jb layer 8: the size is the sum of every file the load reads, asked before loading', async () => {
    const size = await pairDownloadSize(pair, { hub });
    const expected = Object.entries(FILES).filter(([k]) => /^(Xenova|jbloom)\//.test(k)).reduce((a, [, b]) => a + b.byteLength, 0);
    expect(size.bytes).toBe(expected);
    expect(size.files.map((f) => f.url.slice(hub.length))).toEqual([
      '/Xenova/gpt2/resolve/main/config.json',
      '/Xenova/gpt2/resolve/main/tokenizer.json',
      '/Xenova/gpt2/resolve/main/tokenizer_config.json',
      '/Xenova/gpt2/resolve/main/onnx/model.onnx',
      '/jbloom/GPT2-Small-SAEs-Reformatted/resolve/main/blocks.8.hook_resid_pre/cfg.json',
      '/jbloom/GPT2-Small-SAEs-Reformatted/resolve/main/blocks.8.hook_resid_pre/sae_weights.safetensors',
    ]);
    // On WebGPU the q4 file is what loads when the repository has it.
    FILES['Xenova/gpt2/onnx/model_q4.onnx'] = new Uint8Array(1234);
    const webgpu = await pairDownloadSize(pair, { hub, webgpu: true });
    expect(webgpu.files[3].url.endsWith('onnx/model_q4.onnx')).toBe(true);
    expect(webgpu.bytes).toBe(expected - FILES['Xenova/gpt2/onnx/model.onnx'].byteLength + 1234);
    delete FILES['Xenova/gpt2/onnx/model_q4.onnx'];
    expect(formatBytes(151_000_000)).toBe('151 MB');
  });

  it('Gemma 3 270M IT + Gemma Scope 2 layer 12: the fp32 graph and its external data, the SAE config and params', async () => {
    const size = await pairDownloadSize(gemmaPair, { hub });
    const keys = Object.keys(FILES).filter((k) => k.startsWith(GEMMA_REPO) || k.startsWith('google/'));
    expect(size.bytes).toBe(keys.reduce((a, k) => a + FILES[k].byteLength, 0));
    expect(size.files.map((f) => f.url.slice(hub.length))).toEqual([
      `/${GEMMA_REPO}/resolve/main/config.json`,
      `/${GEMMA_REPO}/resolve/main/generation_config.json`,
      `/${GEMMA_REPO}/resolve/main/tokenizer.json`,
      `/${GEMMA_REPO}/resolve/main/tokenizer_config.json`,
      `/${GEMMA_REPO}/resolve/main/onnx/model.onnx`,
      `/${GEMMA_REPO}/resolve/main/onnx/model.onnx_data`,
      '/google/gemma-scope-2-270m-it/resolve/main/resid_post/layer_12_width_16k_l0_medium/config.json',
      '/google/gemma-scope-2-270m-it/resolve/main/resid_post/layer_12_width_16k_l0_medium/params.safetensors',
    ]);
    expect(size.files[5].bytes).toBe(FILES[`${GEMMA_REPO}/onnx/model.onnx_data`].byteLength);
    // A repository that also has model_q4.onnx (no external data) is sized by that file, on either backend.
    FILES[`${GEMMA_REPO}/onnx/model_q4.onnx`] = new Uint8Array(4321);
    for (const webgpu of [false, true]) {
      const q4 = await pairDownloadSize(gemmaPair, { hub, webgpu });
      expect(q4.files.map((f) => f.url.slice(hub.length).replace(`/${GEMMA_REPO}/resolve/main/`, ''))).toContain('onnx/model_q4.onnx');
      expect(q4.files.some((f) => f.url.includes('model.onnx'))).toBe(false);
      expect(q4.bytes).toBe(size.bytes - FILES[`${GEMMA_REPO}/onnx/model.onnx`].byteLength - FILES[`${GEMMA_REPO}/onnx/model.onnx_data`].byteLength + 4321);
    }
    delete FILES[`${GEMMA_REPO}/onnx/model_q4.onnx`];
  });

  it('offline or missing: a typed error naming the pair and the host; nothing loaded', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const e = await pairDownloadSize(pair, { hub: `http://127.0.0.1:${port}` }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(PairUnavailableError);
    expect((e as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} could not be reached .*GPT-2 small \\+ res-jb \\(layer 8\\) downloads its files from there.*nothing was loaded`));
    const saved = FILES['Xenova/gpt2/tokenizer.json'];
    delete FILES['Xenova/gpt2/tokenizer.json'];
    const missing = await pairDownloadSize(pair, { hub }).catch((x: Error) => x);
    expect((missing as Error).message).toMatch(/Xenova\/gpt2\/resolve\/main\/tokenizer\.json answered HTTP 404: expected the file to exist on the hub/);
    FILES['Xenova/gpt2/tokenizer.json'] = saved;
  });
});
