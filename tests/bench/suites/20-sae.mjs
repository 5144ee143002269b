// SAE figures (issue 4): one-token encode vs a copy kernel moving the same bytes, a 256-token prompt encode, the top-k
// pass alone with each bin selection (topk_ms_serial / _shared_scan / _subgroups; topk_one_workgroup_ms_* in one
// workgroup), and decode speed with interpretability on (capture + per-token SAE top-8 + one persona steering and
// monitor) against our plain engine (suite 10) and transformers.js. Runs tests/harness/sae.ts `benchSae` and
// `benchTopK` in the page.
export const name = 'SAE kernels and interpretability overhead';

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export async function run({ page, model, results, log }) {
  await page.waitForFunction(() => window.harness?.sae?.benchSae);
  const saeRoot = join('models', model.dir, 'sae');
  const hook = readdirSync(saeRoot)[0];
  const config = await page.evaluate(async (base) => (await fetch(`${base}config.json`)).json(), model.base);
  // Decode speed barely depends on length here; 32 tokens keeps the suite short on CPU-emulated WebGPU.
  const newTokens = Math.min(32, (config.n_positions ?? 256) - 16);
  log(`SAE ${hook}: kernels, then engine decode with and without interpretability (${newTokens} tokens)`);
  const r = await page.evaluate((o) => window.harness.sae.benchSae(o), {
    modelUrl: model.base,
    saeUrl: `${model.base}sae/${hook}/`,
    onnxFile: model.onnxFile,
    newTokens,
  });
  // The top-k pass alone with each bin selection (serial walk, workgroup-memory scan, subgroup scan where offered).
  const topk = await page.evaluate(() => window.harness.sae.benchTopK());
  const values = {
    ...r,
    ...topk,
    ratio_interp_vs_engine: results.decode_tps_engine ? r.decode_tps_engine_interp / results.decode_tps_engine : r.decode_tps_engine_interp / r.decode_tps_playground_plain,
    ratio_interp_vs_playground_plain: r.decode_tps_engine_interp / r.decode_tps_playground_plain,
    ratio_interp_vs_transformersjs: results.decode_tps_transformersjs ? r.decode_tps_engine_interp / results.decode_tps_transformersjs : NaN,
  };
  // Per-backend names of issue 13 (this suite runs on WebGPU; the WASM suite writes the `_wasm` ones).
  values.decode_tps_interp_webgpu = r.decode_tps_engine_interp;
  values.ratio_interp_vs_transformersjs_webgpu = values.ratio_interp_vs_transformersjs;
  return {
    values,
    rows: [
      [`SAE encode, 1 token (${r.d_in}→${r.d_sae}, ${r.sae_weight_dtype_on_gpu})`, r.sae_encode_token_ms, 'ms'],
      ['copy kernel, same bytes as W_enc', r.copy_bound_ms, 'ms'],
      ['ratio SAE encode / copy (goal ≤ 2)', values.ratio_sae_encode_vs_copy, '×'],
      ...['serial', 'shared_scan', 'subgroups'].flatMap((scan) =>
        [['', 'default launch'], ['_one_workgroup', 'one workgroup']]
          .filter(([shape]) => `topk${shape}_ms_${scan}` in topk)
          .map(([shape, how]) => [`top-k pass, 1 row of ${topk.topk_width}, k ${topk.topk_k}, ${how}, ${scan.replace('_', ' ')}`, topk[`topk${shape}_ms_${scan}`], 'ms']),
      ),
      ['SAE encode, 256-token prompt', r.sae_encode_prompt_ms, 'ms'],
      ['SAE encode, 256-token prompt', r.sae_encode_prompt_gflops, 'GFLOP/s'],
      ['decode, playground engine, interpretability off', r.decode_tps_playground_plain, 'tokens/s'],
      ['decode, capture + SAE top-8 + 1 persona', r.decode_tps_engine_interp, 'tokens/s'],
      ['ratio interp / plain engine (goal ≥ 0.9)', values.ratio_interp_vs_engine, '×'],
      ['ratio interp / transformers.js (goal ≥ 1)', values.ratio_interp_vs_transformersjs, '×'],
    ],
  };
}
