// Real model size (issue 13, item 6): the GPT-2-small-shaped model from models/recipe/gpt2_small.py (12 layers,
// width 768, vocabulary 50,257, random weights, q4; random 24,576-latent TopK SAE at layer 8) through the playground
// engine on WASM and on WebGPU: load time (download from the local server, instrument, session, SAE), peak memory
// (JS heap as Chromium reports it, live GPU buffers on every device in the page, and the RSS of the bench runner's
// whole process tree — Chromium included — which is where ORT's WASM heap lives), analysis time and decode speed with a latent steered and
// a baseline row. Skipped, with the command to run, when the model folder has not been built.
export const name = 'GPT-2-small-sized model (random weights, q4) with a 24,576-latent SAE';

import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const DIR = 'models/gpt2-small-random';
const HOOK = 'blocks.8.hook_resid_post';

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
    return { values: { gpt2_small: { skipped: `no ${DIR}/: run /usr/bin/python3 models/recipe/gpt2_small.py` } }, rows: [] };
  }
  // The runner and everything it started (Chromium and its GPU and renderer processes; in bench:node, Dawn and ORT).
  const pid = process.pid;
  const out = {};
  const rows = [];
  const plan = [
    ['wasm', Number(process.env.BENCH_GPT2_TOKENS_WASM ?? 16)],
    ['webgpu', Number(process.env.BENCH_GPT2_TOKENS_WEBGPU ?? 4)],
  ];
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
    log(`${backend}: ${r.device.backend} (${r.device.adapter ?? r.device.fallbackReason}); load ${r.loadMs.toFixed(0)} ms, analyse ${r.analyseMs.toFixed(0)} ms, ${r.decodeTps.toFixed(3)} tok/s, heap ${r.peakHeapMb.toFixed(0)} MiB, GPU ${r.peakGpuMb.toFixed(0)} MiB, process tree +${(peakRss - baseRss).toFixed(0)} MiB`);
    Object.assign(out, {
      [`load_ms_${backend}`]: r.loadMs,
      [`analyse_ms_${backend}`]: r.analyseMs,
      [`decode_tps_${backend}`]: r.decodeTps,
      [`peak_js_heap_mb_${backend}`]: r.peakHeapMb,
      [`peak_gpu_buffers_mb_${backend}`]: r.peakGpuMb,
      [`peak_process_rss_delta_mb_${backend}`]: peakRss - baseRss,
    });
    rows.push(
      [`GPT-2 small, ${backend}: load (model + SAE)`, r.loadMs, 'ms'],
      [`GPT-2 small, ${backend}: analyse 9 tokens`, r.analyseMs, 'ms'],
      [`GPT-2 small, ${backend}: decode, 2 rows, steered`, r.decodeTps, 'tokens/s'],
      [`GPT-2 small, ${backend}: peak JS heap`, r.peakHeapMb, 'MiB'],
      [`GPT-2 small, ${backend}: peak GPU buffers`, r.peakGpuMb, 'MiB'],
      [`GPT-2 small, ${backend}: browser RSS growth`, peakRss - baseRss, 'MiB'],
    );
  }
  // The keys: load and peak from the WASM run (the backend auto picks here), GPU buffers from WebGPU's.
  out.load_ms = out.load_ms_wasm;
  out.peak_mb = Math.max(out.peak_process_rss_delta_mb_wasm ?? 0, out.peak_process_rss_delta_mb_webgpu ?? 0);
  return { values: { gpt2_small: out }, rows };
}
