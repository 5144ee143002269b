// The Voices tokenizer (models/voices/tokenizer.json, trained by models/recipe/bpe.py) must load in the
// @huggingface/tokenizers runtime that the app uses, give exactly the ids of the recipe's Python encoder, and
// round-trip text.
import { describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const dir = resolve(__dirname, '../../models/voices');
const haveModel = existsSync(resolve(dir, 'tokenizer.json')) && existsSync(resolve(dir, 'golden.json'));

describe.skipIf(!haveModel)('Voices tokenizer', () => {
  const tokJson = JSON.parse(readFileSync(resolve(dir, 'tokenizer.json'), 'utf8'));
  const tokCfg = JSON.parse(readFileSync(resolve(dir, 'tokenizer_config.json'), 'utf8'));
  const golden = JSON.parse(readFileSync(resolve(dir, 'golden.json'), 'utf8'));
  const tok = new Tokenizer(tokJson, tokCfg);

  it('has the documented vocabulary and special token', () => {
    const config = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8'));
    expect(Object.keys(tokJson.model.vocab).length).toBe(config.vocab_size);
    expect(tokJson.model.vocab['<|endoftext|>']).toBe(config.eos_token_id);
    expect(tokCfg.model_max_length).toBe(config.n_ctx);
  });

  it('matches the Python encoder ids exactly', () => {
    expect(golden.tokenizer.length).toBeGreaterThanOrEqual(3);
    for (const f of golden.tokenizer) expect(Array.from(tok.encode(f.text).ids)).toEqual(f.ids);
    for (const p of golden.prompts) expect(Array.from(tok.encode(p.text).ids)).toEqual(p.ids);
  });

  it('round-trips text', () => {
    const texts = [
      ...golden.tokenizer.map((f: { text: string }) => f.text),
      'The weather today is',
      'Thou shalt not kill.\n\n  int main(void) { return 0; }',
      'naïve café — “quoted” 3.14159 ✓',
    ];
    for (const t of texts) expect(tok.decode(Array.from(tok.encode(t).ids))).toBe(t);
  });
});
