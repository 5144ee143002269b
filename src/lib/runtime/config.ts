// Reads the few numbers we need from a Hugging Face config.json, across the key names model families use.
import { ConfigError } from './errors';

export interface ModelConfig {
  modelType: string;
  nLayer: number;
  hidden: number;
  vocab: number;
  contextLength: number;
  nHead: number;
  kvHeads: number;
  /** Per-head width: config.json `head_dim` where given (Gemma's is not hidden/heads), else hidden / heads. */
  headDim: number;
  eosTokenIds: number[];
  bosTokenId?: number;
}

/**
 * Adds generation_config.json's `eos_token_id` (a number or a list) to the stop tokens: what transformers'
 * `generate()` stops on, and where instruct models list their end-of-turn token (Gemma 3 IT: `<end_of_turn>`).
 */
export function withGenerationConfig(config: ModelConfig, generationConfigText: string | undefined): ModelConfig {
  if (!generationConfigText) return config;
  let raw: { eos_token_id?: unknown };
  try {
    raw = JSON.parse(generationConfigText);
  } catch {
    return config;
  }
  const eos = raw.eos_token_id;
  const extra = (Array.isArray(eos) ? eos : [eos]).filter((x): x is number => Number.isInteger(x));
  return { ...config, eosTokenIds: [...new Set([...config.eosTokenIds, ...extra])] };
}

export function readConfig(raw: Record<string, unknown>): ModelConfig {
  const num = (...keys: string[]): number | undefined => {
    for (const k of keys) if (typeof raw[k] === 'number') return raw[k] as number;
    return undefined;
  };
  const need = (what: string, ...keys: string[]): number => {
    const v = num(...keys);
    if (v === undefined) throw new ConfigError(`config.json lacks ${what} (looked for ${keys.join(', ')}).`);
    return v;
  };
  const nHead = need('the number of attention heads', 'n_head', 'num_attention_heads');
  const eos = raw.eos_token_id;
  const nLayer = need('the number of layers', 'n_layer', 'num_hidden_layers');
  const hidden = need('the hidden size', 'n_embd', 'hidden_size', 'd_model');
  return {
    modelType: typeof raw.model_type === 'string' ? raw.model_type : 'unknown',
    nLayer,
    hidden,
    vocab: need('the vocabulary size', 'vocab_size'),
    contextLength: need('the context length', 'n_positions', 'max_position_embeddings', 'n_ctx'),
    nHead,
    kvHeads: num('num_key_value_heads') ?? nHead,
    // transformers' LlamaAttention/Gemma3Attention: getattr(config, "head_dim", hidden_size // num_attention_heads).
    headDim: num('head_dim') ?? hidden / nHead,
    eosTokenIds: Array.isArray(eos) ? (eos as number[]) : typeof eos === 'number' ? [eos] : [],
    bosTokenId: num('bos_token_id'),
  };
}
