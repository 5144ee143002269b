// Browser tests run in real headless Chromium with WebGPU through SwiftShader: real WGSL, real ORT WebGPU EP.
// Two projects: `engine` drives the library through the harness page (HARNESS_PATH: tests/harness/index.html) on the
// Vite dev server (fast to iterate, no build), `app` drives the built static app served by `vite preview` (run
// `vite build` first; `npm test` does).
import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';
import { HARNESS_PATH } from './tests/harness/location.mjs';

const chromium =
  process.env.CHROMIUM_PATH ??
  ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

// Ports default to 5173 (dev server, engine tests) and 4173 (preview of the build, app tests). Two checkouts testing
// at once on one machine set TEST_DEV_PORT / TEST_PREVIEW_PORT so neither reuses the other's server.
const DEV_PORT = Number(process.env.TEST_DEV_PORT ?? 5173);
const PREVIEW_PORT = Number(process.env.TEST_PREVIEW_PORT ?? 4173);

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
  // Limits are hang guards, not speed checks: a test that is slow on a busy machine must still pass.
  timeout: 600_000,
  // Waits are for states (model ready, first token streamed, device upgraded), never for durations: a busy machine
  // only makes them take longer, so every wait may take as long as the slow ones do.
  expect: { timeout: 300_000 },
  // Two test files at a time: most of a test's time is one CPU thread (ORT's WASM session or SwiftShader's emulated
  // GPU), so on a 2-core machine two workers take about half the time. Tests within a file still run in order, and
  // no two files share state (servers on ephemeral ports, outputs under per-test names).
  workers: 2,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: { launchOptions: { executablePath: chromium, args: CHROMIUM_ARGS } },
  projects: [
    { name: 'engine', testDir: 'tests/browser/engine', use: { baseURL: `http://127.0.0.1:${DEV_PORT}/` } },
    { name: 'app', testDir: 'tests/browser/app', use: { baseURL: `http://127.0.0.1:${PREVIEW_PORT}/` } },
  ],
  webServer: [
    {
      command: `npx vite --host 127.0.0.1 --port ${DEV_PORT} --strictPort`,
      url: `http://127.0.0.1:${DEV_PORT}/${HARNESS_PATH}`,
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
    },
    {
      command: `npx vite preview --host 127.0.0.1 --port ${PREVIEW_PORT} --strictPort`,
      url: `http://127.0.0.1:${PREVIEW_PORT}/`,
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
    },
  ],
});
