// The Node.js + Dawn bench runner (tests/bench/node/run.mjs), which a machine with a real GPU and no browser runs,
// tested here on Dawn's software path (Mesa llvmpipe through OpenGL ES): it loads the project's engine and
// transformers.js on the same onnxruntime-web module with Dawn as navigator.gpu, and both choose the same greedy
// tokens.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const MESA_EGL = ['/usr/lib/x86_64-linux-gnu/libEGL_mesa.so.0', '/usr/lib/aarch64-linux-gnu/libEGL_mesa.so.0'];

test('bench:node runs the engine suite on Dawn: Voices q4, our greedy tokens equal transformers.js generate()', async () => {
  test.skip(!MESA_EGL.some(existsSync), 'Dawn needs a GPU or Mesa (apt-get install libegl1 libgles2 libegl-mesa0)');
  test.setTimeout(900_000);
  const out = 'test-results/dawn-node-bench.json';
  execFileSync(process.execPath, ['tests/bench/node/run.mjs'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      BENCH_SUITES: 'engine',
      BENCH_RUNS: '1',
      BENCH_NEW_TOKENS: '6',
      BENCH_OUT: out,
      // Its own Vite server, beside the engine project's dev server.
      BENCH_PORT: String(Number(process.env.TEST_DEV_PORT ?? 5173) + 2),
    },
  });
  const r = JSON.parse(readFileSync(out, 'utf8'));
  expect(r.runner).toMatch(/^node v\d+.* \+ Dawn/);
  expect(r.device).toMatch(/^webgpu \(/);
  expect(r.new_tokens).toBe(6);
  expect(r.greedy_match_engine_vs_transformersjs).toBe(1);
  for (const key of ['decode_tps_engine', 'decode_tps_engine_capture', 'decode_tps_transformersjs']) expect(r[key]).toBeGreaterThan(0);
});
