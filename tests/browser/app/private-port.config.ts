// The app tests on a private preview port, for running them while other suites hold port 4173:
//   npx vite build && npx playwright test -c tests/browser/app/private-port.config.ts [spec]
import { defineConfig } from '@playwright/test';
import base from '../../../playwright.config';

const PORT = Number(process.env.APP_TEST_PORT ?? 4273);
const app = base.projects!.find((p) => p.name === 'app')!;

export default defineConfig({
  ...base,
  testDir: '.',
  outputDir: '../../../test-results',
  projects: [{ ...app, testDir: '.', use: { ...app.use, baseURL: `http://127.0.0.1:${PORT}/` } }],
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    cwd: '../../..',
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 300_000,
  },
});
