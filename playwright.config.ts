// Browser tests run in real headless Chromium with WebGPU through SwiftShader: real WGSL, real ORT WebGPU EP.
// Two projects: `engine` drives the library through harness.html on the Vite dev server (fast to iterate, no
// build), `app` drives the built static app served by `vite preview` (run `vite build` first; `npm test` does).
import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';

const chromium =
  process.env.CHROMIUM_PATH ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export default defineConfig({
  timeout: 240_000,
  expect: { timeout: 60_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: { launchOptions: { executablePath: chromium, args: CHROMIUM_ARGS } },
  projects: [
    { name: 'engine', testDir: 'tests/browser/engine', use: { baseURL: 'http://127.0.0.1:5173/' } },
    { name: 'app', testDir: 'tests/browser/app', use: { baseURL: 'http://127.0.0.1:4173/' } },
  ],
  webServer: [
    {
      command: 'npx vite --host 127.0.0.1 --port 5173 --strictPort',
      url: 'http://127.0.0.1:5173/harness.html',
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
    },
    {
      command: 'npx vite preview --host 127.0.0.1 --port 4173 --strictPort',
      url: 'http://127.0.0.1:4173/',
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
    },
  ],
});
