// The tiny fixtures' byte-level BPE tokenizer (models/fixtures/*/tokenizer.json) loads in @huggingface/tokenizers,
// gives exactly the token ids recorded in each golden.json (computed by the Python reference BPE), and round-trips.
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const ROOT = resolve(__dirname, '../../models/fixtures');
const FIXTURES = ['tiny-gpt2', 'tiny-gpt2-fused', 'tiny-llama', 'no-residual'];
const read = (name: string, file: string) => JSON.parse(readFileSync(resolve(ROOT, name, file), 'utf8'));

describe.each(FIXTURES)('%s tokenizer', (name) => {
  const tok = new Tokenizer(read(name, 'tokenizer.json'), read(name, 'tokenizer_config.json'));
  const golden = read(name, 'golden.json') as {
    vocab_size: number;
    prompts: { prompt: string; input_ids: number[]; greedy_64?: number[] }[];
  };

  test('exact ids for "hello world"', () => {
    // he | ll | o | Ġworld
    expect(tok.encode('hello world').ids).toEqual([256, 290, 111, 281]);
  });

  test('golden prompts: ids equal the Python reference BPE and round-trip', () => {
    expect(golden.prompts.length).toBe(2);
    for (const p of golden.prompts) {
      const ids = tok.encode(p.prompt).ids;
      expect(ids).toEqual(p.input_ids);
      expect(tok.decode(ids)).toBe(p.prompt);
    }
  });

  test('vocab: 256 byte symbols + merges + <|endoftext|> as the last id', () => {
    const json = read(name, 'tokenizer.json');
    const vocab = json.model.vocab as Record<string, number>;
    expect(Object.keys(vocab).length).toBe(golden.vocab_size);
    expect(vocab['<|endoftext|>']).toBe(golden.vocab_size - 1);
    expect(tok.encode('<|endoftext|>').ids).toEqual([golden.vocab_size - 1]);
    expect(read(name, 'config.json').vocab_size).toBe(golden.vocab_size);
  });

  test('greedy continuation ids are in range and decode', () => {
    const g = golden.prompts[0].greedy_64!;
    expect(g.length).toBe(64);
    expect(g.every((i) => i >= 0 && i < golden.vocab_size)).toBe(true);
    expect(typeof tok.decode(g)).toBe('string');
  });
});
