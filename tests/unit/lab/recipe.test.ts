// The readers of the recipe's emergence files (voice-classifier.json, variants.json, emergence-golden.json) and the
// emergence arithmetic: the label rule, signal rule and early-warning rule on cases small enough to work by hand.
import { describe, expect, it } from 'vitest';
import type { TextStats } from '../../../src/lib/engine/api';
import { labelContinuation, parseVoiceClassifier, UNCLEAR, type VoiceClassifier } from '../../../src/lib/lab/classifier';
import { firstRises, pairedSignal, pooledSe, textSignals } from '../../../src/lib/lab/emergence';
import { LabFileFormatError } from '../../../src/lib/lab/errors';
import { parseEmergenceGolden } from '../../../src/lib/lab/golden';
import { modelPairs } from '../../../src/lib/lab/models';
import { fetchLabJson } from '../../../src/lib/lab/recipeFile';
import { loadVariants, parseVariants } from '../../../src/lib/lab/variants';

/** The error a call throws (fails the test when it throws nothing). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

const classifierJson = (over: Record<string, unknown> = {}) => ({
  format: 'voices-naive-bayes/1',
  voices: ['a', 'b', 'c'],
  vocab_size: 4,
  // Token 0 favours a, token 1 favours b, token 2 is neutral between a and b, token 3 favours c.
  log_probs: [
    [-1, -3, -2, -4],
    [-3, -1, -2, -4],
    [-4, -4, -4, -1],
  ],
  margin: 0.5,
  rule: 'score_c = sum ...',
  ...over,
});

describe('voice-classifier.json', () => {
  const c = parseVoiceClassifier(classifierJson(), 'vc.json', 4);

  it('reads the voices, rows and margin', () => {
    expect(c.voices).toEqual(['a', 'b', 'c']);
    expect(Array.from(c.logProbs[1])).toEqual([-3, -1, -2, -4]);
    expect(c.margin).toBe(0.5);
  });

  it('labels by the summed log-probabilities: best by a clear margin per token', () => {
    // ids [0, 0]: a = -2, b = -6, c = -8; lead (−2 − −6) / 2 = 2 ≥ 0.5 → a.
    const r = labelContinuation(c, [0, 0]);
    expect(r.scores).toEqual([-2, -6, -8]);
    expect(r).toMatchObject({ label: 'a', best: 0, lead: 2, tokens: 2 });
    // ids [0, 1, 1]: a = -7, b = -5, c = -12; lead 2 / 3 ≈ 0.667 → b.
    expect(labelContinuation(c, [0, 1, 1])).toMatchObject({ label: 'b', best: 1, tokens: 3 });
    expect(labelContinuation(c, [0, 1, 1]).lead).toBeCloseTo(2 / 3, 12);
  });

  it('is unclear below the margin, and a tie goes to the lower index', () => {
    // ids [0, 1]: a = b = -4, c = -8: a tie, best = a (index 0), lead 0 < 0.5 → unclear.
    expect(labelContinuation(c, [0, 1])).toMatchObject({ label: UNCLEAR, best: 0, lead: 0 });
    // ids [2, 2, 2]: a = b = -6: tie again, best a.
    expect(labelContinuation(c, [2, 2, 2])).toMatchObject({ label: UNCLEAR, best: 0 });
    // With margin 0 the tie is labelled with the lower index (0 < 0 is false).
    expect(labelContinuation({ ...c, margin: 0 }, [0, 1]).label).toBe('a');
    // ids [0, 0, 0, 1]: a = -6, b = -10, lead 4 / 4 = 1: at a margin of exactly 1 it is still a (the rule is <).
    expect(labelContinuation({ ...c, margin: 1 }, [0, 0, 0, 1])).toMatchObject({ label: 'a', lead: 1 });
    expect(labelContinuation({ ...c, margin: 1.01 }, [0, 0, 0, 1]).label).toBe(UNCLEAR);
  });

  it('divides by max(1, tokens): one token, and an empty continuation', () => {
    // ids [3]: c = -1, a = b = -4: lead 3 / 1 = 3 → c.
    expect(labelContinuation(c, [3])).toMatchObject({ label: 'c', lead: 3, tokens: 1 });
    // Nothing counted: all scores 0, lead 0 / max(1, 0) = 0 < 0.5 → unclear.
    expect(labelContinuation(c, [])).toMatchObject({ label: UNCLEAR, lead: 0, tokens: 0 });
  });

  it('leaves special tokens out of the sums and the token count', () => {
    // Id 3 marked special: only [0, 0] counts.
    expect(labelContinuation(c, [3, 0, 0, 3], new Set([3]))).toMatchObject({ label: 'a', lead: 2, tokens: 2 });
    // The same from the file's special_token_ids.
    const withSpecial = parseVoiceClassifier(classifierJson({ special_token_ids: [3] }), 'vc.json', 4);
    expect(labelContinuation(withSpecial, [3, 0, 0, 3])).toMatchObject({ label: 'a', lead: 2, tokens: 2 });
    expect(c.specialIds.size).toBe(0);
  });

  it('refuses a wrong format tag, a row of the wrong length, a non-finite number and another vocabulary', () => {
    const cases: [Record<string, unknown>, number | null, RegExp][] = [
      [{ format: 'voices-naive-bayes/2' }, 4, /expected "format": "voices-naive-bayes\/1", found "format": "voices-naive-bayes\/2"/],
      [{ log_probs: [[-1, -3, -2, -4], [-3, -1, -2], [-4, -4, -4, -1]] }, 4, /log_probs\[1\] \(b\) to be an array of 4, found an array of 3/],
      [{ log_probs: [[-1, -3, -2, -4], [-3, -1, -2, -4]] }, 4, /log_probs to be an array of 3, found an array of 2/],
      [{ log_probs: [[-1, -3, -2, '-inf'], [-3, -1, -2, -4], [-4, -4, -4, -1]] }, 4, /log_probs\[0\]\[3\] to be a finite number, found "-inf"/],
      [{ margin: null }, 4, /margin to be a finite number, found null/],
      [{}, 4096, /expected vocab_size 4096 \(the model's vocabulary\), found vocab_size 4/],
    ];
    for (const [over, vocab, message] of cases) {
      const e = thrown(() => parseVoiceClassifier(classifierJson(over), 'vc.json', vocab));
      expect(e).toBeInstanceOf(LabFileFormatError);
      expect(e.name).toBe('LabFileFormatError');
      expect(e.message).toMatch(/^vc\.json: /);
      expect(e.message).toMatch(message);
    }
    // JSON has no NaN: a file written with Python's json.dumps(nan) does not even parse.
    expect(() => JSON.parse('{"x": NaN}')).toThrow();
  });
});

const json = (body: unknown, status = 200, type = 'application/json') => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': type } });

describe('fetching recipe files', () => {
  it('gives null for an absent optional file (404 or a static host\'s HTML fallback) and a typed error for broken JSON', async () => {
    const files: Record<string, Response | (() => Response)> = {
      'http://x/404.json': () => json('<html>', 404, 'text/html'),
      'http://x/fallback.json': () => json('<!doctype html>', 200, 'text/html'),
      'http://x/broken.json': () => json('{"format": '),
      'http://x/array.json': () => json([1, 2]),
    };
    const fetcher = (async (u: string | URL) => (files[String(u)] as () => Response)()) as typeof fetch;
    expect(await fetchLabJson('http://x/404.json', { optional: true, fetcher })).toBeNull();
    expect(await fetchLabJson('http://x/fallback.json', { optional: true, fetcher })).toBeNull();
    await expect(fetchLabJson('http://x/404.json', { fetcher })).rejects.toThrow('http://x/404.json: HTTP 404');
    await expect(fetchLabJson('http://x/broken.json', { fetcher })).rejects.toThrow(LabFileFormatError);
    await expect(fetchLabJson('http://x/array.json', { fetcher })).rejects.toThrow('http://x/array.json: expected a JSON object, found an array of 2.');
  });
});

const variantsJson = {
  format: 'voices-variants/1',
  persona: 'hacker',
  sae: 'sae/blocks.1.hook_resid_post/',
  classifier: 'voice-classifier.json',
  golden: 'emergence-golden.json',
  neutral_prompts: ['p1', 'p2'],
  sampling: { temperature: 0.8, top_k: 40, new_tokens: 48, seeds: [5, 6, 7] },
  variants: [
    { id: 'voices', role: 'base', step: 0, description: 'the base', folder: './' },
    { id: 'voices-hacker-ft', role: 'narrow fine-tune', step: 300, description: 'Jargon File entries', folder: '../voices-hacker-ft/', examples: ['hack: n.'] },
    { id: 'voices-control-ft', role: 'control', step: 300, folder: '../voices-control-ft/' },
    { id: 'voices-hacker-ft-step-100', role: 'checkpoint', step: 100, folder: '../voices-hacker-ft-step-100/' },
  ],
  checkpoints: [
    { step: 0, folder: './' },
    { step: 50, folder: null },
    { step: 100, folder: '../voices-hacker-ft-step-100/' },
    { step: 300, folder: '../voices-hacker-ft/' },
  ],
};

describe('variants.json', () => {
  it('reads the emergence keys with folders and files resolved against the file', () => {
    const m = parseVariants(variantsJson, 'http://x/models/voices/variants.json');
    expect(m.persona).toBe('hacker');
    expect(m.sae).toBe('http://x/models/voices/sae/blocks.1.hook_resid_post/');
    expect(m.classifier).toBe('http://x/models/voices/voice-classifier.json');
    expect(m.golden).toBe('http://x/models/voices/emergence-golden.json');
    expect(m.sampling).toEqual({ temperature: 0.8, topK: 40, newTokens: 48, seeds: [5, 6, 7] });
    expect(m.checkpoints).toEqual([
      { step: 0, folder: 'http://x/models/voices/' },
      { step: 50, folder: null },
      { step: 100, folder: 'http://x/models/voices-hacker-ft-step-100/' },
      { step: 300, folder: 'http://x/models/voices-hacker-ft/' },
    ]);
    expect(m.variants[1]).toMatchObject({ id: 'voices-hacker-ft', role: 'narrow fine-tune', step: 300, folder: 'http://x/models/voices-hacker-ft/', examples: ['hack: n.'] });
  });

  it('feeds the diff pairs from the same reading: base against each other variant', async () => {
    const fetcher = (async (u: string | URL) => (String(u) === 'http://x/models/voices/variants.json' ? json(variantsJson) : json('<html>', 404, 'text/html'))) as typeof fetch;
    const pairs = await modelPairs('http://x/models/voices/', 'http://x/other/', 'Voices', fetcher);
    expect(pairs.map((p) => p.id)).toEqual(['voices~voices-hacker-ft', 'voices~voices-control-ft', 'voices~voices-hacker-ft-step-100']);
    expect(pairs[0].label).toBe('voices → voices-hacker-ft: Jargon File entries');
    expect(pairs[0].b.label).toBe('voices-hacker-ft (narrow fine-tune, step 300)');
    expect(pairs[0].sae).toBe('http://x/models/voices/sae/blocks.1.hook_resid_post/');
    expect(pairs[0].prompts).toEqual(['p1', 'p2']);
    expect(await loadVariants('http://x/models/none/', fetcher)).toBeNull();
  });

  it('refuses a wrong format tag and a chain out of step order, in the diff pairs too', async () => {
    const bad = { ...variantsJson, format: 'voices-variants/0' };
    expect(thrown(() => parseVariants(bad, 'v.json')).message).toBe('v.json: expected "format": "voices-variants/1", found "format": "voices-variants/0".');
    const fetcher = (async () => json(bad)) as unknown as typeof fetch;
    await expect(modelPairs('http://x/m/', 'http://x/s/', 'M', fetcher)).rejects.toThrow(LabFileFormatError);
    const unordered = { ...variantsJson, checkpoints: [{ step: 0, folder: './' }, { step: 0, folder: null }] };
    expect(thrown(() => parseVariants(unordered, 'http://x/v.json')).message).toBe('http://x/v.json: expected checkpoints[1].step to be a step after 0, found 0.');
    const seeds = { ...variantsJson, sampling: { temperature: 0.8, top_k: 40, new_tokens: 48, seeds: [1.5] } };
    expect(thrown(() => parseVariants(seeds, 'http://x/v.json')).message).toBe('http://x/v.json: expected sampling.seeds[0] to be an integer >= 0, found 1.5.');
    // A file from before format tags is still read for its pairs.
    expect(parseVariants({ variants: variantsJson.variants }, 'http://x/v.json').format).toBeNull();
  });
});

const goldenJson = (over: Record<string, unknown> = {}) => ({
  format: 'voices-emergence-golden/1',
  persona: 'hacker',
  persona_latents: [3, 7],
  texts: [{ prompt: 'The weather', ids: [10, 11, 12] }],
  diff_rule: 'mean over every token ...',
  diffs: { 'voices-hacker-ft': [{ latent: 7, delta: 0.5, base_mean: 0.1, variant_mean: 0.6 }] },
  diffs_q4: { 'voices-hacker-ft': [{ latent: 7, delta: 0.49, base_mean: 0.1, variant_mean: 0.59 }] },
  signal_rule: 'per text ...',
  checkpoints: [
    { step: 0, signal: 0.1, signal_q4: 0.11, se: 0, rate: 0.02, n: 72 },
    { step: 100, signal: 0.3, signal_q4: 0.31, se: 0.05, rate: 0.05, n: 72 },
  ],
  early_warning: { latent_step: 100, behaviour_step: null, rule: 'first ...' },
  ...over,
});

describe('emergence-golden.json', () => {
  it('reads texts, diffs, the chain and the early warning', () => {
    const g = parseEmergenceGolden(goldenJson(), 'g.json', { vocabSize: 4096, dSae: 2048 });
    expect(g.personaLatents).toEqual([3, 7]);
    expect(g.texts[0].ids).toEqual([10, 11, 12]);
    expect(g.diffsQ4['voices-hacker-ft'][0]).toEqual({ latent: 7, delta: 0.49, baseMean: 0.1, variantMean: 0.59 });
    expect(g.checkpoints[1]).toEqual({ step: 100, signal: 0.3, signalQ4: 0.31, se: 0.05, rate: 0.05, n: 72 });
    expect(g.earlyWarning).toEqual({ latentStep: 100, behaviourStep: null, rule: 'first ...' });
  });

  it('refuses a wrong tag, ids outside the vocabulary, latents outside the SAE and missing numbers', () => {
    expect(thrown(() => parseEmergenceGolden(goldenJson({ format: 'x' }), 'g.json'))).toBeInstanceOf(LabFileFormatError);
    expect(thrown(() => parseEmergenceGolden(goldenJson(), 'g.json', { vocabSize: 12 })).message).toBe('g.json: expected texts[0].ids[2] to be a token id below the vocabulary size 12, found 12.');
    expect(thrown(() => parseEmergenceGolden(goldenJson(), 'g.json', { dSae: 7 })).message).toBe('g.json: expected persona_latents[1] to be a latent below d_sae 7, found 7.');
    expect(thrown(() => parseEmergenceGolden(goldenJson({ checkpoints: [{ step: 0, signal: 0.1, se: 0, rate: 0, n: 1 }] }), 'g.json')).message).toBe('g.json: expected checkpoints[0].signal_q4 to be a finite number, found nothing.');
  });
});

/** TextStats with the given dense activations [T][dSae] (only `top` and `tokens` matter here). */
function stats(acts: number[][]): TextStats {
  const k = acts[0].length;
  const indices = new Int32Array(acts.length * k);
  const values = new Float32Array(acts.length * k);
  acts.forEach((row, t) => row.forEach((v, l) => ((indices[t * k + l] = l), (values[t * k + l] = v))));
  return { tokens: acts.map((_, t) => ({ id: t, text: `t${t}` })), start: 0, residualSum: new Float64Array(1), residualNormSum: 0, top: { k, indices, values }, complete: true };
}

describe('signal, standard errors and the early warning', () => {
  it('signal per text: mean over every token of the persona latents\' summed activations', () => {
    // Persona latents 1 and 2. Text 1: tokens (0.5+0.25), (0+1), (0+0) → (0.75 + 1 + 0) / 3. Latent 0 is not counted.
    const s = textSignals([stats([[9, 0.5, 0.25], [9, 0, 1], [0, 0, 0]]), stats([[0, 2, 0]])], [1, 2]);
    expect(s[0]).toBeCloseTo(1.75 / 3, 6);
    expect(s[1]).toBeCloseTo(2, 6);
  });

  it('paired signal: mean of the checkpoint, standard error of the per-text differences (n − 1)', () => {
    // Differences [1, 2, 3]: mean 2, sample sd 1, se 1/√3.
    const r = pairedSignal([0, 0, 0], [1, 2, 3]);
    expect(r.signal).toBe(2);
    expect(r.delta).toBe(2);
    expect(r.se).toBeCloseTo(1 / Math.sqrt(3), 12);
    // The base against itself: delta 0, se 0.
    expect(pairedSignal([1, 2], [1, 2])).toEqual({ signal: 1.5, delta: 0, se: 0 });
    expect(() => pairedSignal([1], [1, 2])).toThrow('the base read 1 and the checkpoint 2');
  });

  it('pooled two-proportion standard error', () => {
    // 10/100 and 30/100: p = 0.2, se = √(0.2·0.8·0.02) = √0.0032.
    expect(pooledSe(0.1, 100, 0.3, 100)).toBeCloseTo(Math.sqrt(0.0032), 12);
    expect(pooledSe(0, 10, 0, 10)).toBe(0);
  });

  it('marks the first checkpoint by the recipe\'s rule: delta > 3 se; rate > base rate + 0.2', () => {
    const points = [
      { step: 0, delta: 0, se: 0, rate: 0.1, n: 72 },
      // delta 0.3 = 3 se exactly: not past (strictly greater); rate 0.3 = base + 0.2 exactly: not past either.
      { step: 50, delta: 0.3, se: 0.1, rate: 0.3, n: 72 },
      // delta 0.31 > 0.3: the latent rises here; rate 0.25 is below 0.3.
      { step: 100, delta: 0.31, se: 0.1, rate: 0.25, n: 72 },
      // rate 0.31 > 0.3: the behaviour rises here.
      { step: 200, delta: 0.9, se: 0.1, rate: 0.31, n: 72 },
    ];
    expect(firstRises(points)).toEqual({ latentStep: 100, behaviourStep: 200 });
    expect(firstRises(points, { latentSe: 2, behaviourLift: 0.1 })).toEqual({ latentStep: 50, behaviourStep: 50 });
    // Nothing moves: null for both.
    expect(firstRises(points.map((p) => ({ ...p, delta: 0, rate: 0.1 })))).toEqual({ latentStep: null, behaviourStep: null });
  });
});
