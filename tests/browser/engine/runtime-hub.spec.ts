// Loading from a model hub: a real HTTP server on 127.0.0.1 serves fixture repositories in the Hugging Face hub's
// layout (`/<owner>/<name>/resolve/<revision>/<file>`, large files answered with a redirect to a content URL, as the
// hub does, and CORS headers). The page loads `owner/name` through `hubFolderUrl` and must reproduce the golden
// greedy tokens; a missing repository and a download cut mid-file are typed errors, and the engine stays usable.
import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { HARNESS_PATH } from '../../harness/location.mjs';

const REPOS: Record<string, string> = { 'fixtures/tiny-gpt2': 'models/fixtures/tiny-gpt2', 'fixtures/tiny-llama': 'models/fixtures/tiny-llama' };
let server: Server;
let hub = '';
const requests: string[] = [];

test.beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    res.setHeader('Access-Control-Allow-Origin', '*');
    const cdn = url.pathname.match(/^\/cdn\/(.+)$/);
    if (cdn) {
      const [repo, file] = decodeURIComponent(cdn[1]).split('::');
      const path = `${REPOS[repo]}/${file}`;
      const body = readFileSync(path);
      if (url.searchParams.has('cut')) {
        // Announce the whole file, send half, then drop the connection.
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.byteLength });
        res.write(body.subarray(0, body.byteLength >> 1), () => res.destroy());
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.byteLength });
      res.end(body);
      return;
    }
    const m = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    const dir = m && REPOS[m[1]];
    const path = dir && `${dir}/${m[3]}`;
    if (!m || !path || m[2] !== 'main' || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    if (m[3].endsWith('.onnx')) {
      const cut = m[1] === 'fixtures/tiny-llama' && url.searchParams.has('cut') ? '?cut=1' : '';
      res.writeHead(302, { Location: `/cdn/${encodeURIComponent(`${m[1]}::${m[3]}`)}${cut}` }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

test('owner/name from a hub-layout server on 127.0.0.1 loads and matches golden; missing repo and cut download are typed errors', async ({ page }) => {
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.runtime?.hubFolderUrl);
  const folder = (repo: string) => page.evaluate(([r, h]) => (window as any).harness.runtime.hubFolderUrl(r, h), [repo, hub]);

  const gpt2 = await folder('fixtures/tiny-gpt2');
  expect(gpt2).toBe(`${hub}/fixtures/tiny-gpt2/resolve/main/`);
  const r = await page.evaluate((base) => (window as any).harness.runtime.cacheVsRecompute(base, 'wasm', 32), gpt2);
  expect(r.cached).toEqual(r.golden.slice(0, 32));
  expect(requests).toContain('/fixtures/tiny-gpt2/resolve/main/onnx/model.onnx');
  expect(requests.some((p) => p.startsWith('/cdn/'))).toBe(true);

  const missing = await page.evaluate((base) => (window as any).harness.runtime.loadError(base), await folder('nobody/nothing'));
  expect(missing.name).toBe('MissingFileError');
  expect(missing.message).toContain('/nobody/nothing/resolve/main/config.json');

  // The redirect target drops the connection half-way through the ONNX file.
  const cutBase = `${await folder('fixtures/tiny-llama')}`;
  const cut = await page.evaluate(
    (base) => (window as any).harness.runtime.loadError(base, { backend: 'wasm', onnxFile: 'onnx/model.onnx?cut=1' }),
    cutBase,
  );
  expect(cut.name).toBe('DownloadError');

  // Still usable: the llama fixture from the same hub, uncut.
  const llama = await page.evaluate((base) => (window as any).harness.runtime.cacheVsRecompute(base, 'wasm', 16), cutBase);
  expect(llama.cached).toEqual(llama.golden.slice(0, 16));
});
