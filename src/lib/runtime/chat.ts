// Instruct models are prompted through their own chat template, rendered by @huggingface/jinja exactly as
// transformers.js's `apply_chat_template` does (src/tokenization_utils.js): the template gets `messages`,
// `add_generation_prompt` and the special tokens named in tokenizer_config.json, and the rendered text is tokenised
// without adding special tokens again (the template already wrote them).
import { Template } from '@huggingface/jinja';
import { ConfigError } from './errors';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The special-token names transformers.js hands to the template (tokenization_utils.js, SPECIAL_TOKEN_ATTRIBUTES). */
const SPECIAL_TOKEN_ATTRIBUTES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

export class ChatTemplate {
  private readonly template: Template;
  private readonly specialTokens: Record<string, string>;

  private constructor(readonly source: string, tokenizerConfig: Record<string, unknown>) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new ConfigError(`The model's chat template does not parse as Jinja: ${(e as Error).message}`);
    }
    this.specialTokens = {};
    for (const key of SPECIAL_TOKEN_ATTRIBUTES) {
      const token = tokenText(tokenizerConfig[key]);
      if (token) this.specialTokens[key] = token;
    }
  }

  /**
   * The model's template, or undefined for a base model. `chat_template.jinja` (the file transformers ≥ 4.43 saves
   * beside the tokenizer) wins over tokenizer_config.json's `chat_template`; of a list of named templates the one
   * named "default" is used, as transformers.js's `get_chat_template` does.
   */
  static from(tokenizerConfig: Record<string, unknown>, jinjaFile?: string): ChatTemplate | undefined {
    const source = jinjaFile?.trim() ? jinjaFile : pickTemplate(tokenizerConfig.chat_template);
    return source ? new ChatTemplate(source, tokenizerConfig) : undefined;
  }

  /**
   * The prompt text for `messages`; with `addGenerationPrompt` it ends with the header of the assistant's turn, so
   * what the model writes next is the reply. Throws ConfigError when the template itself raises (e.g. a template
   * that refuses a system message).
   */
  render(messages: ChatMessage[], addGenerationPrompt = true): string {
    try {
      return this.template.render({ messages, add_generation_prompt: addGenerationPrompt, ...this.specialTokens });
    } catch (e) {
      throw new ConfigError(`The model's chat template failed on this conversation: ${(e as Error).message}`);
    }
  }
}

function pickTemplate(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value as { name?: string; template?: string }[];
    return named.find((t) => t.name === 'default')?.template;
  }
  return undefined;
}

/** A special token in tokenizer_config.json: a string, or an AddedToken object with `content`. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return undefined;
}
