// Text <-> token ids through @huggingface/tokenizers (no ORT inside), plus streaming-safe per-token text.
import { Tokenizer } from '@huggingface/tokenizers';

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  constructor(tokenizerJson: object, tokenizerConfig: object) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text).ids;
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: false });
  }

  /**
   * Text that token `ids[i]` adds, given the tokens before it: decoding pieces alone breaks multi-byte characters
   * and leading-space rules, so we diff the decodings of the prefix with and without it.
   */
  pieceAt(ids: number[], i: number): string {
    if (i === 0) return this.decode([ids[0]]); // decode([]) throws in @huggingface/tokenizers
    const before = this.decode(ids.slice(0, i));
    const after = this.decode(ids.slice(0, i + 1));
    return after.startsWith(before) ? after.slice(before.length) : this.decode([ids[i]]);
  }
}
