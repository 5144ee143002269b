// The timeline's driver on scripted engines: one engine per checkpoint, disposed before the next is made; the signal
// and rate per checkpoint recomputed by hand from what the engines returned; cancel disposes at once; the export
// lines the page's numbers up with the recipe's by step.
import { describe, expect, it } from 'vitest';
import type { GenerateRequest, LabEngine, LabText, TextStats } from '../../../src/lib/engine/api';
import type { VoiceClassifier } from '../../../src/lib/lab/classifier';
import { withOwnEngine } from '../../../src/lib/lab/ownEngine';
import { runTimeline, type TimelinePlan } from '../../../src/lib/lab/runTimeline';
import { timelineReport } from '../../../src/lib/lab/timelineReport';
import { textIds } from '../../../src/lib/engine/textStats';

/** One row of latents per token: latent 1 (the persona's) at `a`, latent 0 at 5 (not counted). */
function statsOf(acts: number[]): TextStats {
  const k = 2;
  const indices = new Int32Array(acts.length * k);
  const values = new Float32Array(acts.length * k);
  acts.forEach((a, t) => {
    indices.set([0, 1], t * k);
    values.set([5, a], t * k);
  });
  return { tokens: acts.map((_, t) => ({ id: t, text: 'x' })), start: 0, residualSum: new Float64Array(1), residualNormSum: 0, top: { k, indices, values }, complete: true };
}

interface Script {
  /** Per checkpoint folder: the persona latent's activation per token of each golden text. */
  acts: Record<string, number[][]>;
  /** Per checkpoint folder: the generated ids of each call, in order (token 9 is special). */
  ids: Record<string, number[][]>;
}

function fakeEngines(script: Script) {
  const log: string[] = [];
  let live = 0;
  let maxLive = 0;
  const requests: GenerateRequest[] = [];
  const create = (): LabEngine => {
    let folder = '';
    let calls = 0;
    live++;
    maxLive = Math.max(maxLive, live);
    const engine = {
      async loadModel(source: { baseUrl: string; onnxFile?: string }) {
        folder = source.baseUrl;
        log.push(`load ${folder} ${source.onnxFile}`);
        return {};
      },
      async loadSae(url: string) {
        log.push(`sae ${url}`);
        return { dSae: 4 };
      },
      async textStats(texts: LabText[]) {
        expect(texts).toEqual([[1, 2], [3]]);
        return script.acts[folder].map(statsOf);
      },
      async generate(request: GenerateRequest) {
        requests.push(request);
        const ids = script.ids[folder][calls++];
        return { rows: [{ tokens: ids.map((id) => ({ id, text: `<${id}>`, ...(id === 9 ? { special: true } : {}) })), text: ids.map((id) => `<${id}>`).join(''), stopReason: 'length' }], decodeTokensPerSecond: 1 };
      },
      async dispose() {
        live--;
        log.push(`dispose ${folder}`);
      },
    };
    return engine as unknown as LabEngine;
  };
  return { create, log, requests, maxLive: () => maxLive, live: () => live };
}

// Voice a favours token 0, voice h (the persona) token 1; margin 0.5 per token.
const classifier: VoiceClassifier = { voices: ['a', 'h'], vocabSize: 10, logProbs: [Float64Array.from([-1, -3, -2, -2, -2, -2, -2, -2, -2, -2]), Float64Array.from([-3, -1, -2, -2, -2, -2, -2, -2, -2, -2])], margin: 0.5, rule: '', specialIds: new Set() };

const plan: TimelinePlan = {
  checkpoints: [
    { step: 0, label: 'base', folder: 'http://x/base/', onnxFile: 'onnx/model_q4.onnx' },
    { step: 100, label: 'ft', folder: 'http://x/ft/', onnxFile: 'onnx/model_q4.onnx' },
  ],
  sae: 'http://x/sae/',
  personaLatents: [1],
  texts: [[1, 2], [3]],
  prompts: ['p0', 'p1'],
  sampling: { temperature: 0.8, topK: 40, newTokens: 4, seeds: [5, 6] },
  classifier,
  persona: 'h',
  latentsPerToken: 2,
};

const script: Script = {
  acts: {
    // Base: text signals (0 + 1) / 2 = 0.5 and 1; fine-tune: (1 + 2) / 2 = 1.5 and 4. Differences 1 and 3.
    'http://x/base/': [[0, 1], [1]],
    'http://x/ft/': [[1, 2], [4]],
  },
  ids: {
    // Base: a, a, unclear (tie), h → rate 1/4. Fine-tune: h, h, h (special 9 left out), a → 3/4.
    'http://x/base/': [[0, 0], [0], [0, 1], [1, 1]],
    'http://x/ft/': [[1], [1, 1], [9, 1, 9], [0, 2]],
  },
};

describe('runTimeline', () => {
  it('reads each checkpoint on its own engine, one at a time, and computes signal, paired SE and rate', async () => {
    const engines = fakeEngines(script);
    const progress: number[] = [];
    const out = await runTimeline(engines.create, plan, { onProgress: (p) => progress.push(p.done) });
    expect(engines.maxLive()).toBe(1);
    expect(engines.live()).toBe(0);
    expect(engines.log).toEqual(['load http://x/base/ onnx/model_q4.onnx', 'sae http://x/sae/', 'dispose http://x/base/', 'load http://x/ft/ onnx/model_q4.onnx', 'sae http://x/sae/', 'dispose http://x/ft/']);
    const [base, ft] = out.readings;
    expect(base.textSignals).toEqual([0.5, 1]);
    expect(base).toMatchObject({ signal: 0.75, delta: 0, se: 0, rate: 0.25, n: 4, labels: { a: 2, unclear: 1, h: 1 } });
    expect(ft.textSignals).toEqual([1.5, 4]);
    // Differences [1, 3]: mean 2, sample sd √2, se √2 / √2 = 1.
    expect(ft.signal).toBe(2.75);
    expect(ft.delta).toBe(2);
    expect(ft.se).toBeCloseTo(1, 12);
    expect(ft).toMatchObject({ rate: 0.75, n: 4, labels: { h: 3, a: 1 } });
    expect(ft.continuations[2]).toMatchObject({ prompt: 1, seed: 5, ids: [1], label: 'h' });
    // One continuation per prompt and seed, with the recipe's sampling and nothing else on.
    expect(engines.requests.slice(0, 4).map((r) => [r.prompt, r.sampling.seed])).toEqual([['p0', 5], ['p0', 6], ['p1', 5], ['p1', 6]]);
    expect(engines.requests[0].sampling).toEqual({ maxNewTokens: 4, temperature: 0.8, topK: 40, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 5 });
    expect(engines.requests[0].steering.terms).toEqual([]);
    // The recipe's rule: delta 2 is not past 3 se (3); rate 0.75 is past 0.25 + 0.2.
    expect(out).toMatchObject({ latentStep: null, behaviourStep: 100 });
    expect(progress.at(-1)).toBe(2);
  });

  it('cancelling disposes the engine at once and rejects with a CancelledError; the next checkpoint never loads', async () => {
    const engines = fakeEngines(script);
    const abort = new AbortController();
    let models = -1;
    const run = runTimeline(engines.create, plan, {
      signal: abort.signal,
      onModels: (n) => (models = n),
      onProgress: (p) => {
        if (p.stage.includes('sampling continuation 2')) abort.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'CancelledError', message: 'The timeline was cancelled after 0 of 2 checkpoints; the checkpoint model was released.' });
    expect(engines.live()).toBe(0);
    expect(models).toBe(0);
    expect(engines.log.filter((l) => l.startsWith('load'))).toEqual(['load http://x/base/ onnx/model_q4.onnx']);
  });

  it('withOwnEngine passes other errors on and still disposes', async () => {
    const engines = fakeEngines(script);
    await expect(withOwnEngine(engines.create, {}, 'cancelled', async () => Promise.reject(new TypeError('boom')))).rejects.toThrow('boom');
    expect(engines.live()).toBe(0);
    const abort = new AbortController();
    abort.abort();
    await expect(withOwnEngine(engines.create, { signal: abort.signal }, 'cancelled early', async () => 1)).rejects.toMatchObject({ name: 'CancelledError' });
    expect(engines.maxLive()).toBe(1); // an aborted signal makes no engine at all
  });
});

describe('timelineReport', () => {
  it('lines the page up with the recipe by step, unshipped steps with page null', () => {
    const figures = (step: number, rate: number) => ({ step, signal: step / 100, signalQ4: step / 100 + 0.01, se: 0.1, rate, n: 72 });
    const report = timelineReport({
      manifest: 'http://x/variants.json',
      persona: 'h',
      seeds: [5],
      prompts: 2,
      sampling: { temperature: 0.8, topK: 40, newTokens: 4 },
      readings: [
        { step: 0, label: 'base', signal: 0.75, delta: 0, se: 0, rate: 0.25, n: 4, labels: { a: 3, h: 1 }, textSignals: [0.5, 1] },
        { step: 100, label: 'ft', signal: 2.75, delta: 2, se: 1, rate: 0.75, n: 4, labels: { h: 3, a: 1 }, textSignals: [1.5, 4] },
      ],
      continuations: [{ step: 0, prompt: 'p0', seed: 5, text: 'x', label: 'a' }],
      latentStep: null,
      behaviourStep: 100,
      recipe: { chain: [{ step: 0, shipped: true, figures: figures(0, 0.02) }, { step: 50, shipped: false, figures: figures(50, 0.1) }, { step: 100, shipped: true, figures: figures(100, 0.7) }], latentStep: 50, behaviourStep: 100, rule: 'r' },
    }) as { checkpoints: { step: number; shipped: boolean; page: unknown; recipe: unknown }[]; early_warning: unknown; choices: unknown };
    expect(report.checkpoints.map((c) => [c.step, c.shipped, c.page !== null, c.recipe !== null])).toEqual([[0, true, true, true], [50, false, false, true], [100, true, true, true]]);
    expect(report.checkpoints[2].page).toMatchObject({ model: 'ft', signal: 2.75, se: 1, rate: 0.75, n: 4, text_signals: [1.5, 4] });
    expect(report.checkpoints[1].recipe).toEqual({ signal: 0.5, signal_q4: 0.51, se: 0.1, rate: 0.1, n: 72 });
    expect(report.early_warning).toMatchObject({ page: { latent_step: null, behaviour_step: 100 }, recipe: { latent_step: 50, behaviour_step: 100, rule: 'r' } });
    expect(report.choices).toEqual({ seeds: [5], prompts: 2 });
  });
});

describe('texts given as token ids (textStats)', () => {
  const model = { encode: (t: string) => [...t].map((c) => c.charCodeAt(0) % 8), config: { vocab: 8, contextLength: 4 } } as unknown as Parameters<typeof textIds>[0];
  it('reads ids as given and strings through the tokenizer', () => {
    expect(textIds(model, [7, 0, 3], 0)).toEqual([7, 0, 3]);
    expect(textIds(model, 'ab', 0)).toEqual([1, 2]);
  });
  it('refuses ids outside the vocabulary, empty lists and lists past the context', () => {
    expect(() => textIds(model, [1, 8], 2)).toThrow('Text 3 holds token id 8; the model\'s vocabulary has ids 0 to 7.');
    expect(() => textIds(model, [1.5], 0)).toThrow(/token id 1.5/);
    expect(() => textIds(model, [], 0)).toThrow('Text 1 has no token ids.');
    expect(() => textIds(model, [1, 2, 3, 4, 5], 0)).toThrow(expect.objectContaining({ name: 'ContextOverflowError' }));
  });
});
