// Special tokens as the SAE sees them: the BOS its training text started with (SAELens `prepend_bos`), and which
// positions hold special tokens, so that rankings, colour scales and default steering can leave them out.
import type { LanguageModel } from '../runtime';
import { ContextOverflowError } from '../runtime/errors';
import type { PromptMode, SaeInfo } from './api';

interface AddedTokensSource {
  get_added_tokens_decoder?: () => Map<number, { special?: boolean }>;
}

/**
 * Ids of the tokenizer's special tokens: tokenizer.json `added_tokens` marked `special: true` (read through
 * @huggingface/tokenizers' get_added_tokens_decoder), plus the model's BOS and EOS ids from config.json.
 */
export function specialTokenIds(model: LanguageModel): Set<number> {
  const ids = new Set<number>(model.config.eosTokenIds);
  if (model.config.bosTokenId !== undefined) ids.add(model.config.bosTokenId);
  const tok = model.tokenizer as unknown as { specialIds?: ReadonlySet<number>; tokenizer?: AddedTokensSource };
  // A TextTokenizer that lists its special ids (tokenizer.json added_tokens with special: true) is asked directly;
  // otherwise the @huggingface/tokenizers instance it keeps in a TypeScript-private field is.
  if (tok.specialIds) for (const id of tok.specialIds) ids.add(id);
  else for (const [id, token] of tok.tokenizer?.get_added_tokens_decoder?.() ?? []) if (token.special) ids.add(id);
  return ids;
}

/**
 * The prompt's ids as the SAE was trained to read them: SAELens trains with `prepend_bos` (TransformerLens
 * to_tokens puts the tokenizer's BOS first), so when the SAE says so and the tokenizer has a BOS that encoding did
 * not already add, it is prepended. Throws ContextOverflowError if that no longer fits.
 */
export function promptIdsForSae(
  model: LanguageModel,
  prompt: string,
  sae: Pick<SaeInfo, 'prependBos'> | undefined,
  mode: PromptMode = 'text',
): number[] {
  // A chat template usually writes the BOS itself; it is then not added twice.
  const ids = model.encode(prompt, mode);
  const bos = model.config.bosTokenId;
  if (!sae?.prependBos || bos === undefined || ids[0] === bos) return ids;
  if (ids.length + 1 > model.config.contextLength) throw new ContextOverflowError(ids.length + 1, model.config.contextLength);
  return [bos, ...ids];
}

/** Sets `special: true` on the tokens whose id is special; leaves the others without the field. */
export function markSpecial<T extends { id: number; special?: boolean }>(tokens: T[], special: ReadonlySet<number>): T[] {
  for (const t of tokens) if (special.has(t.id)) t.special = true;
  return tokens;
}

/**
 * The special ids whose positions generation must leave unsteered, or undefined when masking cannot matter: the
 * prompt holds no special token and the only special tokens are end-of-sequence ones (a row that samples one
 * stops, so its position is never steered into a continuation).
 */
export function unsteeredSpecialIds(special: ReadonlySet<number>, promptIds: number[], eosIds: number[]): ReadonlySet<number> | undefined {
  const inPrompt = promptIds.some((id) => special.has(id));
  const beyondEos = [...special].some((id) => !eosIds.includes(id));
  return inPrompt || beyondEos ? special : undefined;
}
