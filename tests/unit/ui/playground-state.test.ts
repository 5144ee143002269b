// State logic against a scripted engine (test double only): loading, failures that keep the previous state,
// the request an experiment stands for, streaming into baseline/steered rows.
import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import type {
  Analysis,
  GenerateRequest,
  GenerateResult,
  LoadModelOptions,
  ModelSource,
  PersonaPreset,
  PlaygroundEngine,
  TokenEvent,
} from '../../../src/lib/engine/api';
import { Playground } from '../../../src/lib/state/playground.svelte';
import type { EngineNotice } from '../../../src/lib/worker/protocol';
import { firstCrossing, mean, monitorSeries, rowTopLatents } from '../../../src/lib/state/generation.svelte';

class ScriptedEngine implements PlaygroundEngine {
  loads: string[] = [];
  requests: GenerateRequest[] = [];
  user: PersonaPreset[] = [];
  cancelled = false;
  loadOptions: LoadModelOptions[] = [];
  listeners: ((n: EngineNotice) => void)[] = [];
  onNotice(listener: (n: EngineNotice) => void) {
    this.listeners.push(listener);
  }
  async loadModel(source: ModelSource, options: LoadModelOptions = {}) {
    this.loads.push(source.baseUrl);
    this.loadOptions.push(options);
    if (source.baseUrl.includes('missing')) throw new Error('config.json: HTTP 404');
    return { name: 'voices', modelType: 'gpt2', nLayer: 4, dModel: 8, vocabSize: 10, contextLength: 64, device: { backend: 'wasm' as const, fallbackReason: 'no WebGPU' } };
  }
  saeLoads: string[] = [];
  async loadSae(url: string) {
    this.saeLoads.push(url);
    if (url.includes('GPT2-Small')) return { hookName: 'blocks.8.hook_resid_pre', layer: 7, dIn: 8, dSae: 32, architecture: 'standard', warnings: ['Norm scaling factor not saved: test'], notes: [] };
    return { hookName: 'blocks.1.hook_resid_post', layer: 1, dIn: 8, dSae: 32, architecture: 'topk' };
  }
  async personas(): Promise<PersonaPreset[]> {
    const preacher: PersonaPreset = { id: 'preacher', name: 'Preacher', layer: 1, latents: [{ latent: 3, coefficient: 2 }], defaultUse: 'latents', strength: { min: -3, max: 3, recommended: 1 }, source: 'preset' };
    return [preacher, ...this.user];
  }
  async definePersona(p: PersonaPreset) {
    if (p.latents.some((l) => l.latent >= 32)) throw new Error(`latent ${p.latents[0].latent} >= d_sae 32`);
    this.user = [...this.user.filter((u) => u.id !== p.id), p];
  }
  async removePersona(id: string) {
    this.user = this.user.filter((u) => u.id !== id);
  }
  async analyse(prompt: string, topK: number): Promise<Analysis> {
    const n = prompt.split(' ').length;
    return {
      tokens: prompt.split(' ').map((text, id) => ({ id, text })),
      top: { k: topK, indices: new Int32Array(n * topK).map((_, i) => i % topK), values: new Float32Array(n * topK).map((_, i) => (i % topK === 2 ? 5 : 1)) },
      reconstructionError: new Float32Array(n),
      monitor: {},
      backend: 'wasm',
    };
  }
  async generate(request: GenerateRequest, onToken?: (e: TokenEvent) => void): Promise<GenerateResult> {
    this.requests.push(request);
    for (let step = 0; step < 3; step++)
      onToken?.({ step, rows: [{ id: step, text: ` b${step}`, monitor: { preacher: 0.1 } }, { id: step, text: ` s${step}`, monitor: { preacher: 1 + step } }] });
    return { rows: [{ tokens: [], text: '', stopReason: 'length' }, { tokens: [], text: '', stopReason: 'length' }], decodeTokensPerSecond: 10 };
  }
  cancel() {
    this.cancelled = true;
  }
  async dispose() {}
}

function make() {
  const engine = new ScriptedEngine();
  const pg = new Playground(engine, { baseUrl: 'https://example.org/app/', fetchCatalogue: async () => null, locateSae: async (_url, preferred) => preferred, discoverSaes: async () => ['blocks.1.hook_resid_post', 'blocks.2.hook_resid_post'] });
  return { engine, pg };
}

describe('Playground state', () => {
  it('an SAE from the hub, independent of the model: loaded from its own folder, kept in the link, its warnings shown', async () => {
    const { engine, pg } = make();
    const hf = 'hf:jbloom/GPT2-Small-SAEs-Reformatted/blocks.8.hook_resid_pre';
    expect(await pg.loadModel('voices', hf)).toBe(true);
    expect(engine.saeLoads.at(-1)).toBe('https://huggingface.co/jbloom/GPT2-Small-SAEs-Reformatted/resolve/main/blocks.8.hook_resid_pre/');
    expect(pg.experiment.sae).toBe(hf);
    expect(decodeURIComponent(pg.query)).toContain(`s=${hf}`);
    expect(pg.notices.map((n) => `${n.kind}: ${n.message}`)).toContain('warning: SAE blocks.8.hook_resid_pre: Norm scaling factor not saved: test');
    // The model's own sae/ stays the default.
    const other = make();
    await other.pg.loadModel('voices');
    expect(other.engine.saeLoads.at(-1)).toBe('https://example.org/app/models/voices/sae/blocks.1.hook_resid_post/');
  });

  it('loads the model by absolute URL, analyses the prompt and picks the strongest latent to colour', async () => {
    const { engine, pg } = make();
    await pg.start();
    flushSync();
    expect(engine.loads).toEqual(['https://example.org/app/models/voices/']);
    expect(pg.phase).toBe('ready');
    expect(pg.progress?.stage).toBe('ready');
    expect(pg.analysis?.tokens.length).toBeGreaterThan(1);
    expect(pg.colourLatent).toBe(2);
    pg.experiment.selectedLatent = 7;
    expect(pg.colourLatent).toBe(7);
  });

  it('passes a forced backend (the page\'s backend URL key) to every model load', async () => {
    const engine = new ScriptedEngine();
    const pg = new Playground(engine, { baseUrl: 'https://example.org/app/', backend: 'wasm', fetchCatalogue: async () => null, locateSae: async (_url, preferred) => preferred, discoverSaes: async () => [] });
    await pg.start();
    expect(engine.loadOptions.map((o) => o.backend)).toEqual(['wasm']);
  });

  it('asks for a quick start and follows device notices: the move to WebGPU quietly, a lost GPU out loud', async () => {
    const { engine, pg } = make();
    await pg.start();
    expect(engine.loadOptions[0].quickStart).toBe(true);
    expect(engine.loadOptions[0].backend).toBe('auto');
    expect(engine.listeners.length).toBe(1);
    const notices = pg.notices.length;
    engine.listeners[0]({ kind: 'device-upgraded', message: 'Now running on WebGPU (test gpu).', device: { backend: 'webgpu', adapter: 'test gpu' } });
    expect(pg.model?.device).toEqual({ backend: 'webgpu', adapter: 'test gpu' });
    expect(pg.notices.length).toBe(notices);
    engine.listeners[0]({ kind: 'device-upgraded', message: 'Staying on the CPU (WASM): no adapter', device: { backend: 'wasm', fallbackReason: 'no adapter' } });
    expect(pg.model?.device.backend).toBe('wasm');
    expect(pg.notices.at(-1)).toMatchObject({ kind: 'warning', message: 'Staying on the CPU (WASM): no adapter' });
    engine.listeners[0]({ kind: 'device-lost', message: 'The GPU device was lost' });
    expect(pg.notices.at(-1)).toMatchObject({ kind: 'warning', message: 'The GPU device was lost' });
    expect(pg.model?.name).toBe('voices');
  });

  it('keeps the previous model and the typed prompt when a model folder fails', async () => {
    const { pg } = make();
    await pg.start();
    pg.experiment.prompt = 'my own words';
    const ok = await pg.loadModel('models/missing/');
    expect(ok).toBe(false);
    expect(pg.phase).toBe('ready');
    expect(pg.experiment.model).toBe('voices');
    expect(pg.experiment.prompt).toBe('my own words');
    expect(pg.notices.at(-1)?.kind).toBe('error');
    expect(pg.notices.at(-1)?.message).toMatch(/404/);
    await pg.analyse();
    expect(pg.analysedPrompt).toBe('my own words');
  });

  it('is in the error phase when the first load fails, with the message shown', async () => {
    const { pg } = make();
    pg.experiment.model = 'models/missing/';
    await pg.start();
    expect(pg.phase).toBe('error');
    expect(pg.notices[0].message).toMatch(/missing/);
  });

  it('builds one request: persona and latent terms, monitor for active and watched personas, same seed', async () => {
    const { pg } = make();
    await pg.start();
    pg.setPersonaStrength('preacher', 1.5);
    pg.setPersonaStrength('ghost', 2); // not a known persona: left out
    pg.steerWithLatent(9);
    pg.experiment.latents.push({ latent: 4, coefficient: 0, method: 'clamp' });
    pg.experiment.sampling.seed = 7;
    const r = pg.request();
    expect(r.withBaseline).toBe(true);
    expect(r.steering.special).toBe(false);
    pg.experiment.steerSpecial = true;
    expect(pg.request().steering.special).toBe(true);
    pg.experiment.steerSpecial = false;
    expect(r.sampling.seed).toBe(7);
    expect(r.steering.terms).toEqual([
      { kind: 'persona', personaId: 'preacher', strength: 1.5 },
      { kind: 'latent', latent: 9, coefficient: 8, method: 'add' },
      { kind: 'latent', latent: 4, coefficient: 0, method: 'clamp' },
    ]);
    expect(r.monitor).toEqual(['preacher']);
  });

  it('streams baseline and steered rows and reads the monitor per row', async () => {
    const { pg } = make();
    await pg.start();
    pg.setPersonaStrength('preacher', 2);
    await pg.generate();
    flushSync();
    const run = pg.run!;
    expect(run.status).toBe('done');
    expect(run.text('baseline')).toBe(' b0 b1 b2');
    expect(run.text('steered')).toBe(' s0 s1 s2');
    const steered = monitorSeries(run.rows[1].tokens, 'preacher');
    expect(mean(steered)).toBe(2);
    expect(mean(monitorSeries(run.rows[0].tokens, 'preacher'))).toBeCloseTo(0.1);
    expect(firstCrossing(steered, 1.5)).toBe(1);
  });

  it('creates, validates and removes custom personas', async () => {
    const { pg } = make();
    await pg.start();
    expect(await pg.addCustomPersona('Bad', [{ latent: 99, coefficient: 1 }])).toBe(false);
    expect(pg.notices.at(-1)?.message).toMatch(/d_sae/);
    expect(await pg.addCustomPersona('Mine', [{ latent: 5, coefficient: 2 }])).toBe(true);
    expect(pg.presets.map((p) => p.id)).toContain('u1');
    expect(pg.strengthOf('u1')).toBe(1);
    expect(pg.query).toContain('cp=u1:Mine:5/2');
    await pg.removeCustomPersona('u1');
    expect(pg.presets.map((p) => p.id)).not.toContain('u1');
    expect(pg.experiment.personas.find((p) => p.personaId === 'u1')).toBeUndefined();
  });

  it('lays out generated tokens as top-k rows for the token view', () => {
    const rows = rowTopLatents([
      { id: 1, text: 'a', monitor: {}, topIndices: Int32Array.from([4, 2]), topValues: Float32Array.from([3, 1]) },
      { id: 2, text: 'b', monitor: {} },
    ]);
    expect(rows.k).toBe(2);
    expect(Array.from(rows.indices)).toEqual([4, 2, -1, -1]);
    expect(Array.from(rows.values)).toEqual([3, 1, 0, 0]);
  });
});

describe('SAE choice', () => {
  it('lists the SAEs found in the model folder after loading', async () => {
    const engine = new ScriptedEngine();
    const pg = new Playground(engine, {
      baseUrl: 'https://example.org/',
      fetchCatalogue: async () => null,
      locateSae: async () => 'blocks.2.hook_resid_post',
      discoverSaes: async () => ['blocks.1.hook_resid_post', 'blocks.2.hook_resid_post'],
    });
    await pg.start();
    await new Promise((r) => setTimeout(r, 0));
    expect(pg.experiment.sae).toBe('blocks.2.hook_resid_post');
    expect(pg.saeOptions).toEqual(['blocks.1.hook_resid_post', 'blocks.2.hook_resid_post']);
  });
});
