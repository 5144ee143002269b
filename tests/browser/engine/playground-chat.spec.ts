// An instruct model through the real engine (issue 10, "Chat models"): tiny-llama-chat carries SmolLM2-Instruct's
// chat template; a random SAELens SAE (written by the test) reads its block-1 residual. In chat mode the analysed
// tokens are the template's rendering (golden ids from Python's jinja2), its turn markers are flagged special, the
// unsteered reply is the golden greedy one, and steering "the assistant's reply only" leaves the conversation alone.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { randomSae, saeLensV6Files } from '../../unit/sae/fixtures';
import { HARNESS_PATH } from '../../harness/location.mjs';

const golden = JSON.parse(readFileSync('models/fixtures/tiny-llama-chat/golden.json', 'utf8')).chat;

test('chat mode: rendered ids, special markers, golden reply, reply-only steering', async ({ page }) => {
  const sae = randomSae({ dIn: 64, dSae: 32, architecture: 'topk', k: 4, seed: 3 });
  sae.config.hookName = 'blocks.1.hook_resid_post';
  const files = saeLensV6Files(sae);
  await page.route('**/chat-sae/cfg.json', (r) => r.fulfill({ body: JSON.stringify(files.cfg), contentType: 'application/json' }));
  await page.route('**/chat-sae/sae_weights.safetensors', (r) => r.fulfill({ body: Buffer.from(files.weights as Uint8Array) }));
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sae?.playground !== undefined);
  const loaded = await page.evaluate(() =>
    (window as any).harness.sae.playground.load('/models/fixtures/tiny-llama-chat/', '/chat-sae/', { backend: 'wasm' }),
  );
  expect(loaded.model.chatTemplate).toBe(true);

  const message = golden.messages[0].content;
  const a = await page.evaluate(([m]) => (window as any).harness.sae.playground.analyse(m, 4, 'chat'), [message]);
  expect(a.ids).toEqual(golden.input_ids);
  expect(a.texts.join('')).toBe(golden.rendered);
  const markers = a.ids.map((id: number, i: number) => (id === 297 || id === 298) === a.special[i]);
  expect(markers.every(Boolean)).toBe(true);
  expect(a.special.filter(Boolean)).toHaveLength(5);
  const plain = await page.evaluate(([m]) => (window as any).harness.sae.playground.analyse(m, 4), [message]);
  expect(plain.ids).toEqual([256, 290, 111, 281]); // "hello world" as plain text, no template

  const request = (positions: 'all' | 'generated') => ({
    prompt: message,
    promptMode: 'chat',
    sampling: { maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 0 },
    steering: { positions, terms: [{ kind: 'latent', latent: 0, coefficient: 40, method: 'add' }] },
    withBaseline: true,
    monitor: [],
    topK: 0,
  });
  const r = await page.evaluate((req) => (window as any).harness.sae.playground.generate(req), request('generated'));
  const stop = golden.greedy_16.indexOf(298);
  const want = (stop < 0 ? golden.greedy_16 : golden.greedy_16.slice(0, stop)).slice(0, 12);
  expect(r.rows[0].ids).toEqual(want);
  // Reply-only steering: the prompt's forward pass is unsteered, so the first reply token is the baseline's.
  expect(r.rows[1].ids[0]).toBe(r.rows[0].ids[0]);
  expect(r.rows[1].ids).not.toEqual(r.rows[0].ids);
});
