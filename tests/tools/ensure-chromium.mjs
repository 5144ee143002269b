#!/usr/bin/env node
// Makes sure a Chromium with WebGPU (SwiftShader) exists for the browser tests and benchmarks.
// A fresh machine has Node and npm but no browser; Playwright cannot download its own here, so we use
// Debian's chromium, installing it with apt when we are root.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function found() {
  if (process.env.CHROMIUM_PATH && existsSync(process.env.CHROMIUM_PATH)) return process.env.CHROMIUM_PATH;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

let path = found();
if (!path) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    console.log('[ensure-chromium] Chromium not found: installing Debian chromium with apt-get ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execSync('apt-get update -q', { stdio: 'inherit', env });
    execSync('apt-get install -y -q chromium', { stdio: 'inherit', env });
    path = found();
  }
}
if (!path) {
  const msg =
    '[ensure-chromium] No Chromium found. Install it (Debian/Ubuntu: `sudo apt-get install chromium`) ' +
    'or set CHROMIUM_PATH to a Chromium/Chrome binary with WebGPU support.';
  console.error(msg);
  process.exit(1);
} else {
  console.log(`[ensure-chromium] using ${path}`);
}
