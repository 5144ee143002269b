// Chat templates (issue 10, "Chat models"): the tiny instruct fixture carries SmolLM2-135M-Instruct's real template
// (models/fixtures/build.py, SMOLLM2_CHAT_TEMPLATE). Rendering with @huggingface/jinja and tokenising without added
// special tokens must give exactly the ids that Python's jinja2 (transformers' sandboxed environment) and the
// reference BPE wrote into golden.json; the turn markers are flagged special.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ChatTemplate } from '../../../src/lib/runtime/chat';
import { TextTokenizer } from '../../../src/lib/runtime/tokenizer';
import { MODELS } from '../graph/fixtures';

const dir = `${MODELS}/fixtures/tiny-llama-chat`;
const read = (f: string) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));

describe('tiny-llama-chat (SmolLM2-Instruct template)', () => {
  const config = read('tokenizer_config.json');
  const tok = new TextTokenizer(read('tokenizer.json'), config);
  const golden = read('golden.json').chat;

  test('renders the conversation exactly as jinja2 did', () => {
    expect(tok.chat).toBeDefined();
    expect(tok.chat!.render(golden.messages)).toBe(golden.rendered);
    expect(golden.rendered).toBe(
      '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' +
        '<|im_start|>user\nhello world<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('tokenises to the golden ids, turn markers as single special tokens', () => {
    const ids = tok.encodeChat(golden.messages);
    expect(ids).toEqual(golden.input_ids);
    expect(ids.filter((id) => id === 297)).toHaveLength(3); // <|im_start|>
    expect(ids.filter((id) => id === 298)).toHaveLength(2); // <|im_end|>
    const texts = tok.tokenTexts(ids);
    expect(texts.filter((t) => t.special).map((t) => t.text)).toEqual([
      '<|im_start|>', '<|im_end|>', '<|im_start|>', '<|im_end|>', '<|im_start|>',
    ]);
    expect(texts.map((t) => t.text).join('')).toBe(golden.rendered);
  });

  test('an explicit system message replaces the default one; without the generation prompt no assistant header', () => {
    const rendered = tok.chat!.render([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }], false);
    expect(rendered).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n');
  });

  test('chat_template.jinja wins over tokenizer_config.json; base models have no template', () => {
    const fromFile = ChatTemplate.from(config, "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}");
    expect(fromFile!.render([{ role: 'user', content: 'x' }])).toBe('<|im_start|>x');
    expect(ChatTemplate.from({ bos_token: '<s>' })).toBeUndefined();
    const base = new TextTokenizer(JSON.parse(readFileSync(`${MODELS}/fixtures/tiny-llama/tokenizer.json`, 'utf8')), {});
    expect(() => base.encodeChat([{ role: 'user', content: 'x' }])).toThrow(/no chat template/);
  });

  test('a template that does not parse is a ConfigError naming the template', () => {
    expect(() => ChatTemplate.from({ chat_template: '{% for %}' })).toThrow(/chat template does not parse/);
  });
});

test('generation_config.json eos ids join config.json ones (Gemma 3 IT lists <end_of_turn> there)', async () => {
  const { readConfig, withGenerationConfig } = await import('../../../src/lib/runtime/config');
  const base = readConfig({ n_layer: 1, n_embd: 8, n_head: 2, vocab_size: 300, n_positions: 16, eos_token_id: 1 });
  expect(withGenerationConfig(base, '{"eos_token_id": [1, 106]}').eosTokenIds).toEqual([1, 106]);
  expect(withGenerationConfig(base, '{"eos_token_id": 2}').eosTokenIds).toEqual([1, 2]);
  expect(withGenerationConfig(base, undefined).eosTokenIds).toEqual([1]);
  expect(withGenerationConfig(base, 'not json').eosTokenIds).toEqual([1]);
});
