// Folders opened from disk go through the same loaders as folders on a server: the SAE loader and the model-folder
// probes read a local-folder:// URL through fetch, from the files the page was given; nothing is uploaded.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  fetchLocal,
  filesFromPicker,
  installLocalFolderFetch,
  localFilesUnder,
  openLocalFolder,
  registerLocalFolder,
} from '../../../src/lib/runtime/localFolder';
import { fetchJson } from '../../../src/lib/runtime/loader';
import { fetchSae } from '../../../src/lib/sae/remote';
import { discoverSaes, saeFolder, resolveModel } from '../../../src/lib/ui/models';
import { folderKind } from '../../../src/lib/ui/localFolders';
import { gemmaScopeNpz, randomSae, saeLensWeights } from '../sae/fixtures';

const blob = (x: Uint8Array | object) => new Blob([x instanceof Uint8Array ? new Uint8Array(x) : JSON.stringify(x)]);
const sae = randomSae({ dIn: 64, dSae: 96, architecture: 'standard', seed: 8 });
const jump = randomSae({ dIn: 64, dSae: 96, architecture: 'jumprelu', seed: 9 });
const tiny = 'models/fixtures/tiny-gpt2';

beforeAll(() => installLocalFolderFetch());

describe('folders from disk', () => {
  it('a model folder with its own sae/ reads through fetch: config, discovery of a resid_pre SAE, the SAE itself', async () => {
    const files = {
      'config.json': blob(JSON.parse(readFileSync(`${tiny}/config.json`, 'utf8'))),
      'tokenizer.json': blob(readFileSync(`${tiny}/tokenizer.json`)),
      'tokenizer_config.json': blob(readFileSync(`${tiny}/tokenizer_config.json`)),
      'onnx/model.onnx': blob(readFileSync(`${tiny}/onnx/model.onnx`)),
      'sae/blocks.1.hook_resid_pre/cfg.json': blob({ hook_point: 'blocks.1.hook_resid_pre', d_in: 64, d_sae: 96, expansion_factor: 1.5 }),
      'sae/blocks.1.hook_resid_pre/sae_weights.safetensors': blob(saeLensWeights(sae)),
    };
    expect(folderKind(files)).toBe('model');
    const url = openLocalFolder('my model', files);
    expect(url).toMatch(/^local-folder:\/\/my-model-[a-z0-9]+\/$/);
    expect((await fetchJson(`${url}config.json`)).n_layer).toBe(2);
    expect(await discoverSaes(url)).toEqual(['blocks.1.hook_resid_pre']);
    const loaded = await fetchSae(saeFolder(resolveModel(url), 'blocks.1.hook_resid_pre'));
    expect(loaded.config).toMatchObject({ format: 'saelens', layer: 0, applyBDecToInput: true });
    expect(Array.from(loaded.wDec)).toEqual(Array.from(sae.wDec));
    // What a worker is handed for the SAE folder: its files, relative to it; registered there (after the model
    // folder's files, as a worker gets them), the model's files and the SAE's both answer.
    const saeFiles = localFilesUnder(`${url}sae/blocks.1.hook_resid_pre/`)!;
    expect(Object.keys(saeFiles).sort()).toEqual(['cfg.json', 'sae_weights.safetensors']);
    const worker = 'local-folder://worker-copy-1/';
    registerLocalFolder(worker, localFilesUnder(url)!);
    registerLocalFolder(`${worker}sae/blocks.1.hook_resid_pre/`, saeFiles);
    expect((await fetchLocal(`${worker}config.json`)).status).toBe(200);
    expect((await fetchSae(`${worker}sae/blocks.1.hook_resid_pre/`)).config.layer).toBe(0);
  });

  it('an SAE folder from a folder picker (Gemma Scope 1 params.npz) loads; the worker side registers the same files', async () => {
    const npz = gemmaScopeNpz(jump);
    const picked = [new File([new Uint8Array(npz)], 'params.npz')];
    Object.defineProperty(picked[0], 'webkitRelativePath', { value: 'layer_1/params.npz' });
    const { name, files } = filesFromPicker(picked);
    expect(name).toBe('layer_1');
    expect(Object.keys(files)).toEqual(['params.npz']);
    expect(folderKind(files)).toBe('sae');
    const url = openLocalFolder(name, files);
    const loaded = await fetchSae(url);
    expect(loaded.config).toMatchObject({ format: 'gemma-scope', layer: 1, dSae: 96 });
    registerLocalFolder('local-folder://copied-1/', files);
    expect((await fetchLocal('local-folder://copied-1/params.npz')).status).toBe(200);
  });

  it('missing files are 404s; a folder that is no longer open says so; other folders are refused by kind', async () => {
    const url = openLocalFolder('x', { 'cfg.json': blob({ hook_point: 'blocks.1.hook_resid_post', d_sae: 3 }) });
    expect((await fetchLocal(`${url}sae_weights.safetensors`)).status).toBe(404);
    const e = await fetchSae(url).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/sae_weights\.safetensors answered HTTP 404: expected sae_weights\.safetensors beside a SAELens cfg\.json/);
    await expect(fetchLocal('local-folder://gone-123/config.json')).rejects.toThrow(/no longer open .*open it again/);
    expect(() => folderKind({ 'notes.txt': blob({}) })).toThrow(/neither a model .* nor an SAE folder .*found notes\.txt/);
  });
});
