// Lab figures (issue 12): a model diff over 24 prompts (the model's fp32 graph against its q4 graph, the pair the
// lab offers today) against its floor, analysing the same prompts once with each model (= twice one analysis pass
// when both are one model). Both sides exclude model loading (reported apart). Runs tests/harness/lab.ts.
export const name = 'Lab: model diff against two analyses';

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export async function run({ page, model, log }) {
  await page.waitForFunction(() => window.harness?.lab);
  // The lab's own default set (src/lib/lab/models.ts NEUTRAL_PROMPTS), so the figure is for what the page runs.
  const PROMPTS = await page.evaluate(() => window.harness.lab.neutralPrompts);
  const hook = readdirSync(join('models', model.dir, 'sae'))[0];
  const sae = `${model.base}sae/${hook}/`;
  log(`model diff over ${PROMPTS.length} prompts: onnx/model.onnx vs onnx/model_q4.onnx`);
  const diff = await page.evaluate(([f, s, p]) => window.harness.lab.diff(f, s, 'onnx/model.onnx', 'onnx/model_q4.onnx', p, 'abs', 20), [model.base, sae, PROMPTS]);
  const ref = await page.evaluate(([f, s, p]) => window.harness.lab.reference(f, s, 'onnx/model.onnx', 'onnx/model_q4.onnx', p, 32), [model.base, sae, PROMPTS]);
  const values = {
    diff_prompts: PROMPTS.length,
    diff_ms: diff.readMs,
    diff_ms_with_loads: diff.ms,
    two_analyses_ms: ref.analyseMs,
    ratio_diff_vs_two_analyses: diff.readMs / ref.analyseMs,
  };
  return {
    values,
    rows: [
      [`model diff, ${PROMPTS.length} prompts × 2 models (loads excluded)`, values.diff_ms, 'ms'],
      ['same, with both model loads', values.diff_ms_with_loads, 'ms'],
      ['floor: analyse the prompts once with each model', values.two_analyses_ms, 'ms'],
      ['ratio diff / floor (goal ≤ 1.3)', values.ratio_diff_vs_two_analyses, '×'],
    ],
  };
}
