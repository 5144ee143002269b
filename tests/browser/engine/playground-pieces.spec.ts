// Characters split across tokens (issue 10, item 8) through the real engine on the Voices model: the token view's
// pieces and the streamed generated pieces put each character on the token that completes it, join to the full
// decode and hold no U+FFFD. The rule is huggingface/tokenizers' DecodeStream (see src/lib/runtime/tokenizer.ts).
import { expect, test } from '@playwright/test';
import { existsSync, readdirSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const MODELS = ['voices', 'voices-smoke'].filter((m) => existsSync(`models/${m}/golden.json`) && existsSync(`models/${m}/sae`));

for (const model of MODELS) {
  test(`${model}: token view and streamed pieces carry whole characters`, async ({ page }) => {
    await page.goto(HARNESS_PATH);
    await page.waitForFunction(() => (window as any).harness?.sae?.playground !== undefined);
    const hook = readdirSync(`models/${model}/sae`)[0];
    await page.evaluate(
      ([m, h]) => (window as any).harness.sae.playground.load(`/models/${m}/`, `/models/${m}/sae/${h}/`, { onnxFile: 'onnx/model.onnx', backend: 'wasm' }),
      [model, hook],
    );
    const a = await page.evaluate(() => (window as any).harness.sae.playground.analyse('hi 👋 there', 1));
    if (model === 'voices') expect(a.ids).toEqual([104, 105, 32, 240, 159, 145, 139, 504]);
    expect(a.texts.join('')).toBe('hi 👋 there');
    expect(a.texts.filter((t: string) => t.includes('👋'))).toEqual(['👋']);
    expect(a.texts.join('')).not.toContain('\uFFFD');
    const family = await page.evaluate(() => (window as any).harness.sae.playground.analyse('👩‍👩‍👧', 1));
    expect(family.texts.filter((t: string) => t !== '')).toEqual(['👩', '\u200D', '👩', '\u200D', '👧']);

    const sampling = { maxNewTokens: 24, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 0 };
    const r = await page.evaluate(
      (s) => (window as any).harness.sae.playground.generate({ prompt: 'Say 👋 to', sampling: s, steering: { positions: 'all', terms: [] }, withBaseline: false, monitor: [], topK: 0 }),
      sampling,
    );
    const streamed = r.events.map((e: { rows: { text: string }[] }) => e.rows[0].text);
    expect(streamed).toEqual(r.rows[0].texts);
    expect(streamed.join('')).toBe(r.rows[0].text);
    expect(r.rows[0].ids.length).toBe(24);
  });
}
