// The recipe's naive Bayes voice classifier (voice-classifier.json), read and applied in the page, so the lab labels
// its own sampled continuations with the same rule the recipe used for its behaviour rates.
import { LabFileFormatError, LabInputError } from './errors';
import { checkFormat, fetchLabJson, fieldReader, type Json } from './recipeFile';

export const VOICE_CLASSIFIER_FORMAT = 'voices-naive-bayes/1';

/** The label of a continuation whose best voice does not win by the margin. */
export const UNCLEAR = 'unclear';

export interface VoiceClassifier {
  /** Class order = personas.json ids (e.g. preacher, manual, lexicographer, novelist, hacker). */
  voices: string[];
  vocabSize: number;
  /** log P(token | voice), one row per voice [vocabSize] (natural log, as written: 5 decimals). */
  logProbs: Float64Array[];
  /** The "unclear" margin, in log-probability per token. */
  margin: number;
  /** The file's own statement of the rule (shown beside the results). */
  rule: string;
  /** Ids the recipe left out of every continuation (`special_token_ids`, e.g. end-of-text); empty when not given. */
  specialIds: ReadonlySet<number>;
}

/**
 * Reads voice-classifier.json (format `voices-naive-bayes/1`). `modelVocabSize` is the model's vocabulary (config.json
 * `vocab_size`): the classifier's must equal it, or token ids would index the wrong rows. Throws `LabFileFormatError`
 * for a wrong format tag, a vocab_size that is not the model's, a row whose length is not vocab_size, a
 * non-finite number, or fewer than two voices.
 */
export function parseVoiceClassifier(json: Json, source: string, modelVocabSize: number | null): VoiceClassifier {
  checkFormat(json, VOICE_CLASSIFIER_FORMAT, source);
  const f = fieldReader(source);
  const voices = f.array(json.voices, 'voices').map((v, i) => f.string(v, `voices[${i}]`));
  if (voices.length < 2) f.fail('voices', 'at least two voices', json.voices);
  const vocabSize = f.integer(json.vocab_size, 'vocab_size', 1);
  if (modelVocabSize !== null && vocabSize !== modelVocabSize)
    throw new LabFileFormatError(source, `vocab_size ${modelVocabSize} (the model's vocabulary)`, `vocab_size ${vocabSize}`);
  const rows = f.array(json.log_probs, 'log_probs', voices.length);
  const logProbs = rows.map((row, c) => {
    const values = f.array(row, `log_probs[${c}] (${voices[c]})`, vocabSize);
    const out = new Float64Array(vocabSize);
    for (let i = 0; i < vocabSize; i++) out[i] = f.number(values[i], `log_probs[${c}][${i}]`);
    return out;
  });
  const margin = f.number(json.margin, 'margin');
  const rule = typeof json.rule === 'string' ? json.rule : '';
  const special = json.special_token_ids === undefined ? [] : f.array(json.special_token_ids, 'special_token_ids').map((id, i) => f.integer(id, `special_token_ids[${i}]`));
  return { voices, vocabSize, logProbs, margin, rule, specialIds: new Set(special) };
}

/** Fetches and reads voice-classifier.json (see `parseVoiceClassifier`; fetch errors as `fetchLabJson`). */
export async function loadVoiceClassifier(url: string, modelVocabSize: number | null, fetcher?: typeof fetch): Promise<VoiceClassifier> {
  return parseVoiceClassifier((await fetchLabJson(url, { fetcher }))!, url, modelVocabSize);
}

export interface VoiceLabel {
  /** A voice id, or `unclear`. */
  label: string;
  /** Index of the best-scoring voice (ties: the lower index), whatever the label. */
  best: number;
  /** score_c = Σ log_probs[c][id] over the counted ids, per voice. */
  scores: number[];
  /** (best − second) / max(1, tokens): the per-token lead the margin is compared with. */
  lead: number;
  /** Ids counted (special tokens excluded). */
  tokens: number;
}

/**
 * Labels a continuation by the rule in models/recipe's formats (voice-classifier.json `rule`): score_c = sum over the
 * continuation's token ids of log_probs[c][id]; best = argmax (ties: lower index); `unclear` when (best score −
 * second score) / max(1, n_tokens) < margin. `ids` are the generated ids only (not the prompt); the file's
 * `special_token_ids` and ids in `special` (BOS, EOS as the engine marks them) are left out before counting. An empty continuation scores 0 for every voice, so it is `unclear`
 * whenever the margin is positive. Throws `LabInputError` for an id outside the vocabulary.
 */
export function labelContinuation(c: VoiceClassifier, ids: readonly number[], special?: ReadonlySet<number>): VoiceLabel {
  const scores = new Array<number>(c.voices.length).fill(0);
  let tokens = 0;
  for (const id of ids) {
    if (special?.has(id) || c.specialIds.has(id)) continue;
    if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new LabInputError(`Token id ${id} is outside the classifier's vocabulary of ${c.vocabSize}.`);
    tokens++;
    for (let v = 0; v < scores.length; v++) scores[v] += c.logProbs[v][id];
  }
  let best = 0;
  for (let v = 1; v < scores.length; v++) if (scores[v] > scores[best]) best = v;
  let second = -Infinity;
  for (let v = 0; v < scores.length; v++) if (v !== best && scores[v] > second) second = scores[v];
  const lead = (scores[best] - second) / Math.max(1, tokens);
  return { label: lead < c.margin ? UNCLEAR : c.voices[best], best, scores, lead, tokens };
}
