// The built folder works from a plain static server under a sub-path (as on a blog or GitHub Pages).
import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { MODEL, waitForAnalysis } from './helpers';

const DIST = resolve(process.cwd(), 'dist');
const PREFIX = '/blog/playground/';
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript',
};

let server: Server;
let origin = '';

test.beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (!path.startsWith(PREFIX)) return void res.writeHead(404).end();
    let rel = normalize(path.slice(PREFIX.length) || 'index.html');
    if (rel.startsWith('..')) return void res.writeHead(403).end();
    // The smoke model is not copied into dist; serve it from models/ when the suite runs against it.
    let file = join(DIST, rel);
    if (!existsSync(file) && rel.startsWith('models/')) file = resolve(process.cwd(), rel);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

test.afterAll(async () => {
  await new Promise((r) => server.close(r));
});

test('the static build works under a sub-path from a plain file server', async ({ page }) => {
  test.skip(!existsSync(join(DIST, 'index.html')), 'run `npx vite build` first');
  const query = MODEL === 'voices' ? '' : `?m=${MODEL}`;
  await page.goto(`${origin}${PREFIX}${query}`);
  await waitForAnalysis(page);
  const share = page.getByTestId('copy-link');
  await share.click();
  await expect(page.getByTestId('share-link')).toHaveValue(new RegExp(`^${origin}${PREFIX}\\?v=1&`));
  // The embed view, reached through the old embed.html address's forwarder.
  await page.goto(`${origin}${PREFIX}embed.html${query}`);
  await expect(page).toHaveURL(`${origin}${PREFIX}index.html?embed${query.replace('?', '&')}`);
  await expect(page.getByTestId('embed')).toBeVisible();
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-stage', 'ready', { timeout: 300_000 });
});
