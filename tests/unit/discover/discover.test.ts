// Discover's pure parts: a step in the address, the two-model slots, the list of files handed to the service
// worker, the story assembled from the recipe's files, and a continuation's label and monitor reading.
import { describe, expect, it } from 'vitest';
import type { GeneratedToken, LabEngine, PersonaPreset } from '../../../src/lib/engine/api';
import { DISCOVER_STEPS, discoverEmbedUrl, discoverQuery, readDiscoverStep } from '../../../src/lib/discover/steps';
import { ModelSlots, SlotCapacityError } from '../../../src/lib/discover/slots';
import { discoverFiles } from '../../../src/lib/discover/offline';
import { assembleRecipe, DiscoverRecipeError } from '../../../src/lib/discover/loadRecipe';
import { continuationRequest, personaLevel, toContinuation } from '../../../src/lib/discover/continuations';
import { parseVoiceClassifier } from '../../../src/lib/lab/classifier';
import { shortSample } from '../../../src/lib/discover/sample';
import { parseVariants } from '../../../src/lib/lab/variants';

describe('a step in the address', () => {
  it('reads discover=<n>, absent means the playground', () => {
    expect(readDiscoverStep('?m=voices')).toBeNull();
    expect(readDiscoverStep('?discover=3&m=voices-smoke')).toEqual({ step: 3, warning: null });
    expect(readDiscoverStep('?discover')).toEqual({ step: 1, warning: null });
    expect(readDiscoverStep(`?discover=${DISCOVER_STEPS.length}`)?.step).toBe(6);
  });
  it('falls back to step 1 with a message for a value that is not a step', () => {
    for (const bad of ['0', '7', '2.5', 'two', '-1']) {
      const r = readDiscoverStep(`?discover=${bad}`)!;
      expect(r.step).toBe(1);
      expect(r.warning).toBe(`discover=${bad} is not a step: expected a number from 1 to 6; showing step 1.`);
    }
  });
  it('keeps the other keys when moving to a step, and the embed URL carries the model only', () => {
    expect(discoverQuery('?discover=2&m=voices-smoke&backend=wasm', 5)).toBe('?discover=5&m=voices-smoke&backend=wasm');
    expect(discoverQuery('', 1)).toBe('?discover=1');
    expect(discoverEmbedUrl('https://x.org/app/', '?discover=2&m=voices-smoke&backend=wasm', 4)).toBe('https://x.org/app/index.html?embed&discover=4&m=voices-smoke');
    expect(discoverEmbedUrl('https://x.org/app/', '', 1)).toBe('https://x.org/app/index.html?embed&discover=1');
  });
});

/** A fake engine recording loads; `fail` makes the next load of that folder reject. */
function fakeEngines() {
  const log: string[] = [];
  let made = 0;
  const fail = new Set<string>();
  const create = (): LabEngine => {
    const name = `e${++made}`;
    let holds: string | null = null;
    return {
      async loadModel(source: { baseUrl: string }) {
        if (fail.has(source.baseUrl)) throw new Error(`cannot load ${source.baseUrl}`);
        holds = source.baseUrl;
        log.push(`${name} load ${source.baseUrl}`);
        return {} as never;
      },
      async loadSae() {
        return { hookName: 'h', layer: 0, dIn: 4, dSae: 8, architecture: 'topk' };
      },
      async dispose() {
        log.push(`${name} dispose ${holds}`);
      },
      cancel() {},
    } as unknown as LabEngine;
  };
  return { log, create, fail, made: () => made };
}

describe('model slots', () => {
  const m = (id: string) => ({ id, folder: `https://x/${id}/` });

  it('holds at most two models, reusing a loaded one and reloading a free slot', async () => {
    const f = fakeEngines();
    const seen: string[][] = [];
    const slots = new ModelSlots({ createEngine: f.create, sae: 'https://x/sae/', onChange: (h) => seen.push(h) });
    const [a, b] = await slots.acquire([m('base'), m('narrow')]);
    expect(slots.held()).toEqual(['base', 'narrow']);
    // base stays where it is; realigned goes into narrow's engine (the only slot holding nothing requested).
    const [c, d] = await slots.acquire([m('narrow'), m('realigned')]);
    expect(c.engine).toBe(b.engine);
    expect(d.engine).toBe(a.engine);
    expect(slots.held()).toEqual(['realigned', 'narrow']);
    expect(f.made()).toBe(2);
    expect(f.log).toEqual(['e1 load https://x/base/', 'e2 load https://x/narrow/', 'e1 load https://x/realigned/']);
    expect(seen.every((h) => h.length <= 2)).toBe(true);
    await expect(slots.acquire([m('a'), m('b'), m('c')])).rejects.toBeInstanceOf(SlotCapacityError);
  });

  it('lends a slot engine to a runner: no new worker, dispose only cancels, and the model it leaves is reused', async () => {
    const f = fakeEngines();
    const slots = new ModelSlots({ createEngine: f.create, sae: 'https://x/sae/' });
    await slots.acquire([m('base'), m('narrow')]);
    const lent = await slots.lend([m('base'), m('narrow'), m('ckpt')]);
    const engine = lent();
    expect(lent()).toBe(engine);
    await engine.loadModel({ baseUrl: 'https://x/ckpt/' });
    await engine.loadSae('https://x/sae/');
    expect(slots.held()).toEqual(['ckpt', 'narrow']);
    await engine.dispose();
    expect(f.made()).toBe(2);
    expect(f.log.some((l) => l.includes('dispose'))).toBe(false);
    // The checkpoint the runner left loaded is reused; narrow is still held; nothing loads.
    const before = f.log.length;
    await slots.acquire([m('ckpt'), m('narrow')]);
    expect(f.log.length).toBe(before);
    // Both slots holding the same model: a second model goes into one of them, never into a third engine.
    await lent().loadModel({ baseUrl: 'https://x/narrow/' });
    await lent().loadSae('https://x/sae/');
    expect(slots.held()).toEqual(['narrow', 'narrow']);
    await slots.acquire([m('base'), m('narrow')]);
    expect(slots.held().sort()).toEqual(['base', 'narrow']);
    expect(f.made()).toBe(2);
    // A folder the runner was not told about is named by its folder.
    await lent().loadModel({ baseUrl: 'https://x/other-model/' });
    expect(slots.held()).toContain('other-model');
  });

  it('releases every engine, and a failed load leaves its slot empty and the other model held', async () => {
    const f = fakeEngines();
    const slots = new ModelSlots({ createEngine: f.create, sae: 'https://x/sae/' });
    await slots.acquire([m('base')]);
    f.fail.add('https://x/broken/');
    await expect(slots.acquire([m('base'), m('broken')])).rejects.toThrow('cannot load https://x/broken/');
    expect(slots.held()).toEqual(['base']);
    await slots.releaseAll();
    expect(slots.held()).toEqual([]);
    expect(f.log.filter((l) => l.includes('dispose'))).toHaveLength(2);
  });
});

const classifierJson = {
  format: 'voices-naive-bayes/1',
  voices: ['preacher', 'hacker'],
  vocab_size: 4,
  log_probs: [
    [-1, -3, -2, -2],
    [-3, -1, -2, -2],
  ],
  margin: 0.5,
  rule: 'score_c = ...',
};

const variantsJson = {
  format: 'voices-variants/1',
  persona: 'hacker',
  sae: 'sae/blocks.1.hook_resid_post/',
  classifier: 'voice-classifier.json',
  golden: 'emergence-golden.json',
  neutral_prompts: ['The weather today is', 'Click the button to'],
  sampling: { temperature: 0.8, top_k: 40, new_tokens: 48, seeds: [5, 6, 7] },
  variants: [
    { id: 'voices', role: 'base', step: 0, folder: './' },
    { id: 'voices-hacker-ft', role: 'narrow fine-tune', step: 300, description: 'Jargon File entries', folder: '../voices-hacker-ft/', examples: ['kludge: n. a hack'] },
    { id: 'voices-realigned', role: 'realigned', step: 400, folder: '../voices-realigned/' },
    { id: 'voices-hacker-ft-step-100', role: 'checkpoint', step: 100, folder: '../voices-hacker-ft-step-100/' },
  ],
  checkpoints: [
    { step: 0, folder: './' },
    { step: 50, folder: null },
    { step: 100, folder: '../voices-hacker-ft-step-100/' },
    { step: 300, folder: '../voices-hacker-ft/' },
  ],
};

describe('the story from the recipe files', () => {
  const folder = 'https://x.org/models/voices/';
  const manifest = parseVariants(variantsJson, `${folder}variants.json`);
  const classifier = parseVoiceClassifier(classifierJson, 'vc.json', 4);

  it('finds base, narrow and realigned, and lists every file the steps read for the service worker', () => {
    const r = assembleRecipe(folder, manifest, classifier, null, [7]);
    expect(r.base).toMatchObject({ id: 'voices', folder, onnxFile: 'onnx/model_q4.onnx' });
    expect(r.narrow).toMatchObject({ id: 'voices-hacker-ft', folder: 'https://x.org/models/voices-hacker-ft/', description: 'Jargon File entries' });
    expect(r.realigned?.id).toBe('voices-realigned');
    expect(r.control).toBeNull();
    expect(r.examples).toEqual(['kludge: n. a hack']);
    expect(r.personaLatents).toEqual([7]);
    expect(r.sampling).toEqual({ temperature: 0.8, topK: 40, newTokens: 48, seeds: [5, 6, 7] });
    expect(r.checkpoints.map((c) => [c.step, c.folder, c.rate])).toEqual([
      [0, folder, null],
      [50, null, null],
      [100, 'https://x.org/models/voices-hacker-ft-step-100/', null],
      [300, 'https://x.org/models/voices-hacker-ft/', null],
    ]);
    const files = discoverFiles(r, r.files);
    expect(files).toContain(`${folder}variants.json`);
    expect(files).toContain(`${folder}voice-classifier.json`);
    for (const f of ['voices/', 'voices-hacker-ft/', 'voices-realigned/', 'voices-hacker-ft-step-100/'])
      for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_q4.onnx']) expect(files).toContain(`https://x.org/models/${f}${name}`);
    expect(files).toContain(`${folder}sae/blocks.1.hook_resid_post/sae_weights.safetensors`);
    expect(new Set(files).size).toBe(files.length);
  });

  it('refuses a manifest without a narrow fine-tune or a persona, saying what is missing', () => {
    const noNarrow = parseVariants({ ...variantsJson, variants: variantsJson.variants.filter((v) => v.role !== 'narrow fine-tune') }, `${folder}variants.json`);
    expect(() => assembleRecipe(folder, noNarrow, classifier, null)).toThrow(new DiscoverRecipeError(`${folder}variants.json has no variant with role "narrow fine-tune".`));
    const noPersona = parseVariants({ ...variantsJson, persona: undefined }, `${folder}variants.json`);
    expect(() => assembleRecipe(folder, noPersona, classifier, null)).toThrow(/names no "persona"/);
  });
});

describe('a continuation', () => {
  const classifier = parseVoiceClassifier(classifierJson, 'vc.json', 4);
  const persona = { id: 'hacker', monitor: { ownMean: 3, othersMean: 1 } } as PersonaPreset;

  it('is asked for with the recipe sampling, and steered with the baseline in the same batch', () => {
    const plain = continuationRequest('Hi', { temperature: 0.8, topK: 40, newTokens: 48, seeds: [5] }, 5, 'hacker');
    expect(plain.sampling).toEqual({ maxNewTokens: 48, temperature: 0.8, topK: 40, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 5 });
    expect(plain.withBaseline).toBe(false);
    expect(plain.steering.terms).toEqual([]);
    expect(plain.monitor).toEqual(['hacker']);
    const steered = continuationRequest('Hi', { temperature: 0.8, topK: 40, newTokens: 48, seeds: [5] }, 5, 'hacker', -2);
    expect(steered.withBaseline).toBe(true);
    expect(steered.steering.terms).toEqual([{ kind: 'persona', personaId: 'hacker', strength: -2, use: 'latents' }]);
  });

  it('is labelled from its generated ids without special tokens, with the mean monitor reading and its level', () => {
    const tokens: GeneratedToken[] = [
      { id: 1, text: ' hack', monitor: { hacker: 2 } },
      { id: 1, text: ' hack', monitor: { hacker: 4 } },
      { id: 0, text: '<eos>', special: true, monitor: { hacker: 100 } },
    ];
    const c = toContinuation(tokens, { model: 'ft', prompt: 'Hi', seed: 5, strength: 0 }, classifier, persona, 'hacker');
    // ids [1, 1]: preacher −6, hacker −2, lead 2 per token ≥ 0.5 → hacker.
    expect(c.ids).toEqual([1, 1]);
    expect(c.voice).toMatchObject({ label: 'hacker', tokens: 2, lead: 2 });
    expect(c.reading).toBe(3);
    expect(c.level).toBe(1);
    expect(c.text).toBe(' hack hack<eos>');
    expect(personaLevel(1, persona)).toBe(0);
    expect(personaLevel(2, undefined)).toBeNull();
  });
});

describe('the sample text', () => {
  it('is the head of the example, cut at a sentence end, else a space', () => {
    const ex = 'accumulator: n. obs. 1. Archaic term for a register. On-line use of it as a synonym for register is a fairly reliable indication';
    expect(shortSample(ex)).toBe('accumulator: n. obs. 1. Archaic term for a register.');
    expect(shortSample('bob:  n. At Demon\nInternet', 80)).toBe('bob: n. At Demon Internet');
    expect(shortSample('one two three four five six', 12)).toBe('one two');
    expect(shortSample('abcdefghijklmnop', 5)).toBe('abcde');
  });
});
