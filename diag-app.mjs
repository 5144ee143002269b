import { chromium } from '@playwright/test';
import { preview } from 'vite';
const root = '/work/main';
const server = await preview({ root, configFile: root + '/vite.config.ts', logLevel: 'error', preview: { host: '127.0.0.1', port: 5374, strictPort: true } });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--enable-unsafe-webgpu', '--no-sandbox'] });
const context = await browser.newContext();
const page = await context.newPage();
const t0 = Date.now();
page.on('console', (m) => { if (m.text().startsWith('T ')) console.log(m.text()); });
for (let i = 0; i < 2; i++) {
  await page.goto('http://127.0.0.1:5374/');
  const ms = await (await page.waitForFunction(() => performance.getEntriesByName('playground:first-token-view')[0]?.startTime, undefined, { timeout: 600000, polling: 100 })).jsonValue();
  const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => `${m.name.replace('playground:', '')} ${Math.round(m.startTime)}`).join(', '));
  const nav = await page.evaluate(() => { const n = performance.getEntriesByType('navigation')[0]; return `dcl ${Math.round(n.domContentLoadedEventEnd)} load ${Math.round(n.loadEventEnd)}`; });
  const origin = await page.evaluate(() => performance.timeOrigin); console.log('origin', Math.round(origin));
  console.log(`visit ${i}: ${Math.round(ms)} ms; ${nav}; ${marks}`);
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, undefined, { timeout: 60000 }).catch(() => {});
  await page.waitForTimeout(500);
}
await browser.close(); await server.close();
