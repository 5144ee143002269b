// emergence-golden.json: the recipe's own numbers for the emergence story (the fixed diff texts as token ids, the top
// latent changes per variant, the persona signal and behaviour rate along the checkpoint chain), which the page
// recomputes and shows beside its own.
import { LabFileFormatError } from './errors';
import { checkFormat, fetchLabJson, fieldReader, type Json } from './recipeFile';

export const EMERGENCE_GOLDEN_FORMAT = 'voices-emergence-golden/1';

/** One latent's change between the base and a variant (diff_rule: mean activation over every token of every text). */
export interface GoldenDiff {
  latent: number;
  /** variantMean − baseMean. */
  delta: number;
  baseMean: number;
  variantMean: number;
}

/** The recipe's figures for one checkpoint of the chain (shipped or not). */
export interface GoldenCheckpoint {
  step: number;
  /** Persona signal (signal_rule) with fp32 weights, and with the dequantised q4 weights the page runs. */
  signal: number;
  signalQ4: number;
  /** Standard error over texts of the per-text (checkpoint − base) signal. */
  se: number;
  /** Share of continuations the classifier labelled with the persona. */
  rate: number;
  /** Continuations behind `rate`. */
  n: number;
}

export interface EmergenceGolden {
  persona: string;
  personaLatents: number[];
  /** The fixed diff texts: a neutral prompt plus the base model's greedy continuation, as token ids. */
  texts: { prompt: string; ids: number[] }[];
  diffRule: string;
  /** Ranked by increase, per variant id: fp32 weights and the shipped q4 graphs' dequantised weights. */
  diffs: Record<string, GoldenDiff[]>;
  diffsQ4: Record<string, GoldenDiff[]>;
  signalRule: string;
  checkpoints: GoldenCheckpoint[];
  earlyWarning: { latentStep: number | null; behaviourStep: number | null; rule: string };
}

export interface GoldenLimits {
  /** The model's vocabulary: every text id must be below it. */
  vocabSize?: number;
  /** The SAE's width: every latent id must be below it. */
  dSae?: number;
}

/**
 * Reads emergence-golden.json (format `voices-emergence-golden/1`). Throws `LabFileFormatError` for a wrong format
 * tag, a missing or non-finite number, a text without ids, a token id ≥ `limits.vocabSize` or a latent ≥
 * `limits.dSae`.
 */
export function parseEmergenceGolden(json: Json, source: string, limits: GoldenLimits = {}): EmergenceGolden {
  checkFormat(json, EMERGENCE_GOLDEN_FORMAT, source);
  const f = fieldReader(source);
  const latent = (v: unknown, path: string) => {
    const l = f.integer(v, path);
    if (limits.dSae !== undefined && l >= limits.dSae) throw new LabFileFormatError(source, `${path} to be a latent below d_sae ${limits.dSae}`, String(l));
    return l;
  };
  const texts = f.array(json.texts, 'texts').map((raw, i) => {
    const t = f.object(raw, `texts[${i}]`);
    const ids = f.array(t.ids, `texts[${i}].ids`).map((id, j) => {
      const x = f.integer(id, `texts[${i}].ids[${j}]`);
      if (limits.vocabSize !== undefined && x >= limits.vocabSize) throw new LabFileFormatError(source, `texts[${i}].ids[${j}] to be a token id below the vocabulary size ${limits.vocabSize}`, String(x));
      return x;
    });
    if (!ids.length) f.fail(`texts[${i}].ids`, 'at least one token id', t.ids);
    return { prompt: typeof t.prompt === 'string' ? t.prompt : '', ids };
  });
  if (!texts.length) f.fail('texts', 'at least one text', json.texts);
  const diffTable = (v: unknown, path: string): Record<string, GoldenDiff[]> => {
    const table: Record<string, GoldenDiff[]> = {};
    for (const [id, rows] of Object.entries(v === undefined ? {} : f.object(v, path)))
      table[id] = f.array(rows, `${path}.${id}`).map((raw, i) => {
        const r = f.object(raw, `${path}.${id}[${i}]`);
        const p = `${path}.${id}[${i}]`;
        return { latent: latent(r.latent, `${p}.latent`), delta: f.number(r.delta, `${p}.delta`), baseMean: f.number(r.base_mean, `${p}.base_mean`), variantMean: f.number(r.variant_mean, `${p}.variant_mean`) };
      });
    return table;
  };
  const checkpoints = f.array(json.checkpoints, 'checkpoints').map((raw, i): GoldenCheckpoint => {
    const c = f.object(raw, `checkpoints[${i}]`);
    const p = `checkpoints[${i}]`;
    return {
      step: f.integer(c.step, `${p}.step`),
      signal: f.number(c.signal, `${p}.signal`),
      signalQ4: f.number(c.signal_q4, `${p}.signal_q4`),
      se: f.number(c.se, `${p}.se`),
      rate: f.number(c.rate, `${p}.rate`),
      n: f.integer(c.n, `${p}.n`),
    };
  });
  const ew = json.early_warning === undefined ? {} : f.object(json.early_warning, 'early_warning');
  const step = (v: unknown, path: string) => (v === null || v === undefined ? null : f.integer(v, path));
  return {
    persona: f.string(json.persona, 'persona'),
    personaLatents: f.array(json.persona_latents, 'persona_latents').map((l, i) => latent(l, `persona_latents[${i}]`)),
    texts,
    diffRule: typeof json.diff_rule === 'string' ? json.diff_rule : '',
    diffs: diffTable(json.diffs, 'diffs'),
    diffsQ4: diffTable(json.diffs_q4, 'diffs_q4'),
    signalRule: typeof json.signal_rule === 'string' ? json.signal_rule : '',
    checkpoints,
    earlyWarning: { latentStep: step(ew.latent_step, 'early_warning.latent_step'), behaviourStep: step(ew.behaviour_step, 'early_warning.behaviour_step'), rule: typeof ew.rule === 'string' ? ew.rule : '' },
  };
}

/** Fetches and reads emergence-golden.json (see `parseEmergenceGolden`; fetch errors as `fetchLabJson`). */
export async function loadEmergenceGolden(url: string, limits: GoldenLimits = {}, fetcher?: typeof fetch): Promise<EmergenceGolden> {
  return parseEmergenceGolden((await fetchLabJson(url, { fetcher }))!, url, limits);
}
