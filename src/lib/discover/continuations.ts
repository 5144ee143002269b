// A continuation as Discover shows it: one model's sampled text from a neutral prompt with the recipe's sampling,
// the voice the recipe's classifier gives its generated ids, and the tracked persona's monitor reading on it.
import type { GenerateRequest, GeneratedToken, PersonaPreset, SteeringTerm } from '../engine/api';
import { labelContinuation, type VoiceClassifier, type VoiceLabel } from '../lab/classifier';
import { mean, monitorSeries } from '../state/generation.svelte';

/** variants.json `sampling`: how the recipe sampled the continuations its behaviour rates count. */
export interface RecipeSampling {
  temperature: number;
  topK: number;
  newTokens: number;
  seeds: number[];
}

/** Sampling when variants.json has none: the recipe's defaults (models/recipe formats, `sampling`). */
export const DEFAULT_RECIPE_SAMPLING: RecipeSampling = { temperature: 0.8, topK: 40, newTokens: 48, seeds: [5, 6, 7] };

/**
 * The request for one continuation of `prompt` with the recipe's sampling (temperature, top-k, `newTokens`, no
 * top-p or penalties) and `seed`. With `strength` ≠ 0 the persona is steered at that strength (by its latents or its
 * persona vector, `use`: the preset's `defaultUse`, which the recipe chose by measurement) and the
 * unsteered baseline is sampled in the same batch (row 0 = baseline, row 1 = steered, same seed); the persona's
 * monitor is read on every generated token.
 */
export function continuationRequest(prompt: string, sampling: RecipeSampling, seed: number, personaId: string, strength = 0, use: 'latents' | 'vector' = 'latents'): GenerateRequest {
  const terms: SteeringTerm[] = strength !== 0 ? [{ kind: 'persona', personaId, strength, use }] : [];
  return {
    prompt,
    promptMode: 'text',
    sampling: {
      maxNewTokens: sampling.newTokens,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: 1,
      repetitionPenalty: 1,
      frequencyPenalty: 0,
      seed,
    },
    steering: { terms, positions: 'all' },
    withBaseline: strength !== 0,
    monitor: [personaId],
    topK: 0,
  };
}

export interface Continuation {
  /** variants.json id of the model that wrote it. */
  model: string;
  prompt: string;
  seed: number;
  /** Persona strength it was steered with (0 = unsteered). */
  strength: number;
  tokens: GeneratedToken[];
  /** The generated ids the classifier read (special tokens left out, the prompt never included). */
  ids: number[];
  text: string;
  voice: VoiceLabel;
  /** Mean of the persona's monitor reading over the generated tokens (NaN when none). */
  reading: number;
  /** `reading` on the persona's calibrated scale (0 = like the other voices, 1 = like its own); null if uncalibrated. */
  level: number | null;
}

/** Calibrated level of a monitor reading (persona-readings.ts's scale); null without a calibration. */
export function personaLevel(reading: number, persona: PersonaPreset | undefined): number | null {
  const m = persona?.monitor;
  return m && m.ownMean !== m.othersMean && Number.isFinite(reading) ? (reading - m.othersMean) / (m.ownMean - m.othersMean) : null;
}

/** A generated row as a labelled Continuation. `tokens` are the generated tokens only. */
export function toContinuation(
  tokens: GeneratedToken[],
  at: { model: string; prompt: string; seed: number; strength: number },
  classifier: VoiceClassifier,
  persona: PersonaPreset | undefined,
  personaId: string,
): Continuation {
  const ids = tokens.filter((t) => !t.special).map((t) => t.id);
  const readings = monitorSeries(
    tokens.filter((t) => !t.special),
    personaId,
  );
  const reading = mean(readings);
  return {
    ...at,
    tokens,
    ids,
    text: tokens.map((t) => t.text).join(''),
    voice: labelContinuation(classifier, ids),
    reading,
    level: personaLevel(reading, persona),
  };
}
