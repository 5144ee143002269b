// Real model size (issue 13, item 6): the GPT-2-small-shaped model from models/recipe/gpt2_small.py (12 layers,
// width 768, vocabulary 50,257, random weights, q4; random 24,576-latent TopK SAE at layer 8) through the playground
// engine on WASM and on WebGPU: load time (download from the local server, instrument, session, SAE), peak memory
// (JS heap as Chromium reports it, live GPU buffers on every device in the page, and the RSS of the bench runner's
// whole process tree — Chromium included — which is where ORT's WASM heap lives), analysis time and decode speed with a latent steered and
// a baseline row. Skipped, with the command to run, when the model folder has not been built.
// BENCH_GPT2_DIR + BENCH_GPT2_HOOK measure another shape built by the same script (e.g. GPT-2 medium's, to see what
// breaks first as width and SAE size grow); its figures go under `gpt2_<folder name>` instead of `gpt2_small`.
export const name = 'GPT-2-small-sized model (random weights, q4) with a 24,576-latent SAE';

import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const DIR = process.env.BENCH_GPT2_DIR ?? 'models/gpt2-small-random';
const HOOK = process.env.BENCH_GPT2_HOOK ?? 'blocks.8.hook_resid_post';
const KEY = process.env.BENCH_GPT2_DIR ? `gpt2_${DIR.split('/').filter(Boolean).pop().replace(/[^a-z0-9]+/gi, '_')}` : 'gpt2_small';
const LABEL = process.env.BENCH_GPT2_DIR ? DIR.split('/').filter(Boolean).pop() : 'GPT-2 small';

/** Summed RSS (MiB) of a process and all its descendants. */
function treeRssMb(root) {
  const rows = execSync('ps -eo pid=,ppid=,rss=').toString().trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const kids = new Map();
  for (const [pid, ppid] of rows) kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
  const rss = new Map(rows.map(([pid, , r]) => [pid, r]));
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    total += rss.get(p) ?? 0;
    stack.push(...(kids.get(p) ?? []));
  }
  return total / 1024;
}

export async function run({ page, log }) {
  if (!existsSync(`${DIR}/sae/${HOOK}/sae_weights.safetensors`)) {
    log(`skipped: build the model first with /usr/bin/python3 models/recipe/gpt2_small.py (writes ${DIR}/)`);
    return { values: { [KEY]: { skipped: `no ${DIR}/: run /usr/bin/python3 models/recipe/gpt2_small.py` } }, rows: [] };
  }
  // The runner and everything it started (Chromium and its GPU and renderer processes; in bench:node, Dawn and ORT).
  const pid = process.pid;
  const out = {};
  const rows = [];
  // BENCH_GPT2_BACKENDS=wasm (or webgpu) measures one backend only.
  const only = process.env.BENCH_GPT2_BACKENDS?.split(',');
  const plan = [
    ['wasm', Number(process.env.BENCH_GPT2_TOKENS_WASM ?? 16)],
    ['webgpu', Number(process.env.BENCH_GPT2_TOKENS_WEBGPU ?? 4)],
  ].filter(([backend]) => !only || only.includes(backend));
  for (const [backend, newTokens] of plan) {
    log(`${backend}: load, analyse, generate ${newTokens} tokens (baseline + steered)`);
    const baseRss = pid ? treeRssMb(pid) : NaN;
    let peakRss = baseRss;
    const sampler = setInterval(() => pid && (peakRss = Math.max(peakRss, treeRssMb(pid))), 250);
    let r;
    try {
      r = await page.evaluate((o) => window.harness.sae.realSize(o), {
        modelUrl: `/${DIR}/`,
        saeUrl: `/${DIR}/sae/${HOOK}/`,
        backend,
        newTokens,
        latent: 1234,
        coefficient: 40,
      });
    } catch (e) {
      clearInterval(sampler);
      log(`${backend} failed: ${e.message.split('\n')[0]}`);
      out[`error_${backend}`] = e.message.split('\n')[0];
      continue;
    }
    clearInterval(sampler);
    log(`${backend}: ${r.device.backend} (${r.device.adapter ?? r.device.fallbackReason}); load ${r.loadMs.toFixed(0)} ms, analyse ${r.analyseMs.toFixed(0)} ms, ${r.decodeTps.toFixed(3)} tok/s, heap ${r.peakHeapMb.toFixed(0)} MiB (settled ${r.settledHeapMb.toFixed(0)}), GPU ${r.peakGpuMb.toFixed(0)} MiB, process tree +${(peakRss - baseRss).toFixed(0)} MiB`);
    Object.assign(out, {
      [`load_ms_${backend}`]: r.loadMs,
      [`analyse_ms_${backend}`]: r.analyseMs,
      [`decode_tps_${backend}`]: r.decodeTps,
      [`peak_js_heap_mb_${backend}`]: r.peakHeapMb,
      [`settled_js_heap_mb_${backend}`]: r.settledHeapMb,
      [`peak_gpu_buffers_mb_${backend}`]: r.peakGpuMb,
      [`peak_process_rss_delta_mb_${backend}`]: peakRss - baseRss,
    });
    rows.push(
      [`${LABEL}, ${backend}: load (model + SAE)`, r.loadMs, 'ms'],
      [`${LABEL}, ${backend}: analyse 9 tokens`, r.analyseMs, 'ms'],
      [`${LABEL}, ${backend}: decode, 2 rows, steered`, r.decodeTps, 'tokens/s'],
      [`${LABEL}, ${backend}: peak JS heap`, r.peakHeapMb, 'MiB'],
      [`${LABEL}, ${backend}: JS heap after the work, collected`, r.settledHeapMb, 'MiB'],
      [`${LABEL}, ${backend}: peak GPU buffers`, r.peakGpuMb, 'MiB'],
      [`${LABEL}, ${backend}: browser RSS growth`, peakRss - baseRss, 'MiB'],
    );
  }
  // The keys: load and peak from the WASM run (the backend auto picks here), GPU buffers from WebGPU's.
  out.load_ms = out.load_ms_wasm;
  out.peak_mb = Math.max(out.peak_process_rss_delta_mb_wasm ?? 0, out.peak_process_rss_delta_mb_webgpu ?? 0);
  return { values: { [KEY]: out }, rows };
}
