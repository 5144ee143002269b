// TextTokenizer against the ids the model recipes wrote (PyTorch side), and streaming pieces that add up.
import { readFileSync, existsSync } from 'node:fs';
import { expect, test } from 'vitest';
import { TextTokenizer } from '../../../src/lib/runtime/tokenizer';
import { readConfig } from '../../../src/lib/runtime/config';
import { MODELS } from '../graph/fixtures';

const read = (dir: string, file: string) => JSON.parse(readFileSync(`${MODELS}/${dir}/${file}`, 'utf8'));
const tokenizerFor = (dir: string) => new TextTokenizer(read(dir, 'tokenizer.json'), read(dir, 'tokenizer_config.json'));

test.each(['fixtures/tiny-gpt2', 'fixtures/tiny-llama'])('%s: prompts encode to the golden ids', (dir) => {
  const t = tokenizerFor(dir);
  for (const p of read(dir, 'golden.json').prompts) expect(t.encode(p.prompt)).toEqual(p.input_ids);
});

test.each(['voices', 'voices-smoke'].filter((d) => existsSync(`${MODELS}/${d}/golden.json`)))('%s: tokenizer fixtures', (dir) => {
  const t = tokenizerFor(dir);
  const g = read(dir, 'golden.json');
  for (const f of g.tokenizer) expect(t.encode(f.text)).toEqual(f.ids);
  for (const p of g.prompts) {
    const ids = t.encode(p.text);
    expect(ids).toEqual(p.ids);
    const pieces = t.pieces(ids).join('');
    expect(pieces).toBe(t.decode(ids));
  }
});

test('config readers cover GPT-2 and Llama key names', () => {
  const gpt2 = readConfig(read('fixtures/tiny-gpt2', 'config.json'));
  expect(gpt2).toMatchObject({ nLayer: 2, hidden: 64, vocab: 297, contextLength: 128, nHead: 4, kvHeads: 4, eosTokenIds: [296] });
  const llama = readConfig(read('fixtures/tiny-llama', 'config.json'));
  expect(llama).toMatchObject({ nLayer: 2, hidden: 64, nHead: 4, kvHeads: 2 });
  expect(() => readConfig({ n_head: 2 })).toThrow(/number of layers/);
});
