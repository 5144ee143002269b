// Text <-> token ids through @huggingface/tokenizers (no ORT inside), plus per-token text that never splits a
// character: a token holding only part of a UTF-8 character (byte-level BPE, `<0xF0>` byte fallback) shows nothing,
// and the token that completes the character carries all of it.
import { Tokenizer } from '@huggingface/tokenizers';
import { ChatTemplate, type ChatMessage } from './chat';
import { ConfigError } from './errors';
import type { TokenText } from '../engine/api';

/** U+FFFD, what a decoder writes for bytes that are not (yet) a whole UTF-8 character. */
const REPLACEMENT = '\uFFFD';

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  /** Ids of the added tokens marked `special` in tokenizer.json (BOS, EOS, pad, chat-template markers). */
  readonly specialIds: ReadonlySet<number>;
  /** The model's chat template; undefined for a base model. */
  readonly chat?: ChatTemplate;
  /** `chatTemplateFile`: the folder's chat_template.jinja, when it has one. */
  constructor(tokenizerJson: object, tokenizerConfig: object, chatTemplateFile?: string) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.chat = ChatTemplate.from(tokenizerConfig as Record<string, unknown>, chatTemplateFile);
    const added = (tokenizerJson as { added_tokens?: { id: number; special?: boolean }[] }).added_tokens ?? [];
    this.specialIds = new Set(added.filter((t) => t.special === true).map((t) => t.id));
  }

  /** Token ids; `addSpecialTokens` false leaves out what the tokenizer's post-processor adds (e.g. BOS). */
  encode(text: string, addSpecialTokens = true): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /**
   * A conversation through the chat template, tokenised as transformers.js's apply_chat_template does: the rendered
   * text with `add_special_tokens: false` (the template wrote BOS and turn markers itself). Throws ConfigError for
   * a model without a template.
   */
  encodeChat(messages: ChatMessage[], addGenerationPrompt = true): number[] {
    if (!this.chat) throw new ConfigError('This model has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja).');
    return this.encode(this.chat.render(messages, addGenerationPrompt), false);
  }

  decode(ids: number[]): string {
    // decode([]) throws in @huggingface/tokenizers.
    return ids.length === 0 ? '' : this.tokenizer.decode(ids, { skip_special_tokens: false });
  }

  /**
   * Each token with its piece (see `pieces`); BOS/EOS and chat-template markers (added tokens marked `special` in
   * tokenizer.json) carry `special: true`.
   */
  tokenTexts(ids: number[]): TokenText[] {
    const pieces = this.pieces(ids);
    return ids.map((id, i) => (this.specialIds.has(id) ? { id, text: pieces[i], special: true } : { id, text: pieces[i] }));
  }

  /** A decoder that hands out each token's text as it arrives (see `PieceStream`). */
  stream(): PieceStream {
    return new PieceStream((ids) => this.decode(ids));
  }

  /**
   * The text each token of `ids` adds, so that `pieces(ids).join('') === decode(ids)`. A token that ends inside a
   * multi-byte character gets '' and the token completing it gets the whole character; whatever is still
   * incomplete after the last token (a sequence cut mid-character) goes to the last token as decode() writes it.
   */
  pieces(ids: number[]): string[] {
    const stream = this.stream();
    const out = ids.map((id) => stream.step(id));
    if (out.length > 0) out[out.length - 1] += stream.flush();
    return out;
  }
}

/**
 * Incremental detokenisation, the rule of huggingface/tokenizers `DecodeStream`
 * (tokenizers/src/tokenizer/mod.rs, `step_decode_stream`): decode a short window of ids (the tokens of the last
 * emitted step plus the new ones); if it is longer than the window's prefix and does not end in U+FFFD, emit the
 * difference and slide the window; otherwise emit nothing and wait for the next token. Decoding with the previous
 * tokens as context keeps leading-space rules (Metaspace, `Strip`) and byte fallback right, and each step costs a
 * few tokens, not the whole text.
 */
export class PieceStream {
  private ids: number[] = [];
  private prefix = '';
  private prefixIndex = 0;
  /** Text emitted so far. */
  private emitted = '';
  /** Every id stepped so far (for the fallback below). */
  private all: number[] = [];

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** Text that token `id` completes ('' while a character is still incomplete). */
  step(id: number): string {
    this.all.push(id);
    this.ids.push(id);
    const text = this.decode(this.ids);
    if (text.length <= this.prefix.length || text.endsWith(REPLACEMENT)) return '';
    let piece: string;
    if (text.startsWith(this.prefix)) piece = text.slice(this.prefix.length);
    else {
      // tokenizers raises InvalidPrefix here (a decoder that rewrites earlier text); we take the difference of
      // the whole decodings instead, which is what its Node binding recovers to by replaying every token.
      const whole = this.decode(this.all);
      piece = whole.startsWith(this.emitted) ? whole.slice(this.emitted.length) : text.slice(this.prefix.length);
    }
    const nextPrefixIndex = this.ids.length - this.prefixIndex;
    this.ids = this.ids.slice(this.prefixIndex);
    this.prefix = this.decode(this.ids);
    this.prefixIndex = nextPrefixIndex;
    this.emitted += piece;
    return piece;
  }

  /** What decode() of every id so far has beyond the emitted text: '' unless the ids end mid-character. */
  flush(): string {
    const whole = this.decode(this.all);
    const rest = whole.startsWith(this.emitted) ? whole.slice(this.emitted.length) : '';
    this.emitted += rest;
    return rest;
  }
}
