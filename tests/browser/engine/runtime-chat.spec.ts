// An instruct model as published (tokenizer_config.json with a chat template; models/fixtures/tiny-llama-chat carries
// SmolLM2-135M-Instruct's): the loader reads the template, the chat prompt renders to the ids Python's jinja2 gave,
// the turn markers are special tokens, and greedy decoding from them equals the PyTorch golden ids.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { HARNESS_PATH } from '../../harness/location.mjs';

const BASE = '/models/fixtures/tiny-llama-chat/';
const golden = JSON.parse(readFileSync('models/fixtures/tiny-llama-chat/golden.json', 'utf8')).chat;

for (const backend of ['webgpu', 'wasm'] as const) {
  test(`${backend}: chat prompt ids and greedy reply equal the golden values`, async ({ page }) => {
    await page.goto(HARNESS_PATH);
    await page.waitForFunction(() => (window as any).harness?.runtime);
    const r = await page.evaluate(
      ([base, b, message]) => (window as any).harness.runtime.chatGreedy(base, b, message, 16),
      [BASE, backend, golden.messages[0].content] as const,
    );
    expect(r.device.backend).toBe(backend);
    expect(r.ids).toEqual(golden.input_ids);
    expect(r.special).toEqual(['<|im_start|>', '<|im_end|>', '<|im_start|>', '<|im_end|>', '<|im_start|>']);
    const stop = golden.greedy_16.indexOf(298);
    expect(r.greedy).toEqual(stop < 0 ? golden.greedy_16 : golden.greedy_16.slice(0, stop));
  });
}
