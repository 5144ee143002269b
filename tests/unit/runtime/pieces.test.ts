// Per-token text for characters split across tokens (issue 10, item 8): the token that completes a UTF-8 character
// carries it, partial tokens carry '', pieces join to the full decode, and the stream gives the same pieces.
// The rule is huggingface/tokenizers' DecodeStream (tokenizers/src/tokenizer/mod.rs, step_decode_stream).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { TextTokenizer } from '../../../src/lib/runtime/tokenizer';
import { MODELS } from '../graph/fixtures';
import { byteFallbackTokenizer } from './byteFallbackTokenizer';

const voicesDir = `${MODELS}/voices`;
const haveVoices = existsSync(`${voicesDir}/tokenizer.json`);

function streamed(t: TextTokenizer, prompt: number[], generated: number[]): string[] {
  const s = t.stream();
  for (const id of prompt) s.step(id);
  return generated.map((id) => s.step(id));
}

describe.skipIf(!haveVoices)('Voices tokenizer (byte-level BPE)', () => {
  const read = (f: string) => JSON.parse(readFileSync(`${voicesDir}/${f}`, 'utf8'));
  const t = new TextTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));

  test('hi 👋 there: the fourth byte token carries the emoji', () => {
    const ids = t.encode('hi 👋 there');
    expect(ids).toEqual([104, 105, 32, 240, 159, 145, 139, 504]);
    expect(t.pieces(ids)).toEqual(['h', 'i', ' ', '', '', '', '👋', ' there']);
  });

  test('👩‍👩‍👧: each code point appears on the token that completes it, no U+FFFD', () => {
    const ids = t.encode('👩‍👩‍👧');
    expect(ids).toHaveLength(18);
    const pieces = t.pieces(ids);
    expect(pieces).toEqual(['', '', '', '👩', '', '', '\u200D', '', '', '', '👩', '', '', '\u200D', '', '', '', '👧']);
    expect(pieces.join('')).toBe('👩‍👩‍👧');
    expect(pieces.join('')).not.toContain('\uFFFD');
  });

  test('streamed generated text equals the full decode, token by token', () => {
    const prompt = t.encode('Say');
    const generated = t.encode(' hi 👋 there 깰 👩‍👩‍👧!');
    const pieces = streamed(t, prompt, generated);
    expect(pieces.join('')).toBe(' hi 👋 there 깰 👩‍👩‍👧!');
    expect(pieces).toEqual(t.pieces([...prompt, ...generated]).slice(prompt.length));
  });

  test('a sequence cut mid-character keeps decode()\'s U+FFFD on its last token, so pieces still join', () => {
    const ids = t.encode('ok 👋').slice(0, -1);
    const pieces = t.pieces(ids);
    expect(pieces.join('')).toBe(t.decode(ids));
    expect(pieces.slice(0, -1).join('')).toBe('ok ');
  });
});

describe('byte-fallback tokenizer (Llama-2 tokenizer.json layout)', () => {
  const { json, config } = byteFallbackTokenizer();
  const t = new TextTokenizer(json, config);
  const vocab = json.model.vocab as Record<string, number>;

  test('깰 is three <0x..> byte tokens; the third carries the syllable', () => {
    const ids = t.encode('깰');
    expect(ids).toEqual([1, vocab['▁'], vocab['<0xEA>'], vocab['<0xB9>'], vocab['<0xB0>']]);
    expect(t.pieces(ids)).toEqual(['<s>', ' ', '', '', '깰']);
    expect(t.pieces(ids).join('')).toBe(t.decode(ids));
  });

  test('hi 👋 there: leading-space rules (Metaspace + Strip) and byte fallback together', () => {
    const ids = t.encode('hi 👋 there');
    expect(ids).toEqual([1, vocab['▁hi'], vocab['▁'], vocab['<0xF0>'], vocab['<0x9F>'], vocab['<0x91>'], vocab['<0x8B>'], vocab['▁there']]);
    expect(t.pieces(ids)).toEqual(['<s>', ' hi', ' ', '', '', '', '👋', ' there']);
    expect(t.pieces(ids).join('')).toBe('<s> hi 👋 there');
  });

  test('streamed text equals the full decode', () => {
    const prompt = t.encode('hi');
    const generated = t.encode('hi there 깰 👋').slice(2);
    const pieces = streamed(t, prompt, generated);
    expect(pieces.join('')).toBe(t.decode([...prompt, ...generated]).slice(t.decode(prompt).length));
    expect(pieces.join('')).toBe(' there 깰 👋');
    expect(pieces.join('')).not.toContain('\uFFFD');
  });

  test('special tokens are read from added_tokens', () => {
    expect([...t.specialIds].sort((a, b) => a - b)).toEqual([0, 1, 2]);
  });
});
