// Direct reads of the service worker's model cache (runtime/offlineCache.ts) and fetchBytes's use of them: only
// same-origin model files, only from the worker's model cache, the same checks as a network response, and the
// network whenever the cache has nothing or cannot be read.
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { cachedModelFile, MODEL_CACHE_PREFIX } from '../../../src/lib/runtime/offlineCache';
import { fetchBytes } from '../../../src/lib/runtime/loader';
import { MissingFileError } from '../../../src/lib/runtime/errors';
import { onnxCandidates } from '../../../src/lib/runtime/layout';

const ORIGIN = 'https://app.example';
const MODEL = `${ORIGIN}/site/models/voices/onnx/model_q4.onnx`;

/** A CacheStorage holding `entries` (cache name → URL → body), matching URLs without their query as sw.js does. */
function fakeCaches(entries: Record<string, Record<string, { body: BodyInit; type?: string }>>) {
  const open = (name: string) => ({
    match: async (url: string, options?: { ignoreSearch?: boolean }) => {
      const key = options?.ignoreSearch ? url.split('?')[0] : url;
      const hit = entries[name]?.[key];
      return hit ? new Response(hit.body, { status: 200, headers: { 'Content-Type': hit.type ?? 'application/octet-stream' } }) : undefined;
    },
  });
  return { keys: async () => Object.keys(entries), open: async (name: string) => open(name) };
}

let network: ReturnType<typeof vi.fn>;

beforeEach(() => {
  vi.stubGlobal('location', new URL(`${ORIGIN}/site/`));
  network = vi.fn(async () => new Response(new Uint8Array([9, 9]), { status: 200 }));
  vi.stubGlobal('fetch', network);
});

afterEach(() => vi.unstubAllGlobals());

test('a cached model file is read from the model cache, query ignored, without the network', async () => {
  vi.stubGlobal('caches', fakeCaches({ [`${MODEL_CACHE_PREFIX}v1`]: { [MODEL]: { body: new Uint8Array([1, 2, 3]) } } }));
  expect(await cachedModelFile(`${MODEL}?v=2`)).toBeInstanceOf(Response);
  const progress: [number, number | undefined][] = [];
  const bytes = await fetchBytes(MODEL, (_u, loaded, total) => progress.push([loaded, total]));
  expect([...bytes]).toEqual([1, 2, 3]);
  expect(progress).toEqual([[3, 3]]);
  expect(network).not.toHaveBeenCalled();
});

test('other files, other origins and other caches are left to the network', async () => {
  const page = `${ORIGIN}/site/index.html`;
  const foreign = 'https://elsewhere.example/models/voices/onnx/model_q4.onnx';
  vi.stubGlobal('caches', fakeCaches({
    [`${MODEL_CACHE_PREFIX}v1`]: { [page]: { body: 'page' }, [foreign]: { body: 'x' } },
    'persona-playground-shell-v1': { [MODEL]: { body: new Uint8Array([7]) } },
  }));
  expect(await cachedModelFile(page)).toBeUndefined();
  expect(await cachedModelFile(foreign)).toBeUndefined();
  expect(await cachedModelFile(MODEL)).toBeUndefined();
  expect([...(await fetchBytes(MODEL))]).toEqual([9, 9]);
  expect(network).toHaveBeenCalledTimes(1);
});

test('no Cache Storage, or one that fails, falls back to the network', async () => {
  expect(await cachedModelFile(MODEL)).toBeUndefined(); // Node.js: no `caches`
  vi.stubGlobal('caches', { keys: async () => { throw new DOMException('blocked', 'SecurityError'); } });
  expect(await cachedModelFile(MODEL)).toBeUndefined();
  expect([...(await fetchBytes(MODEL))]).toEqual([9, 9]);
});

test('a cached HTML fallback page is still "missing" where the caller says so', async () => {
  vi.stubGlobal('caches', fakeCaches({ [`${MODEL_CACHE_PREFIX}v1`]: { [MODEL]: { body: '<!doctype html>', type: 'text/html' } } }));
  await expect(fetchBytes(MODEL, undefined, undefined, { htmlIsMissing: true })).rejects.toBeInstanceOf(MissingFileError);
  expect(network).not.toHaveBeenCalled();
});

test('both backends try the same graph file first, so its download can start before the backend is known', () => {
  expect(onnxCandidates('webgpu')[0]).toBe(onnxCandidates('wasm')[0]);
});
