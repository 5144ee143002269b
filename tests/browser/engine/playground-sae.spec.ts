// The in-thread PlaygroundEngine on the Voices model (or its smoke build): SAE top latents per token equal the
// recipe's PyTorch golden values, persona-steered greedy continuations equal the golden ones, latent steering and
// clamping act on the SAE's own reading, and bad SAE folders / personas are typed errors that leave the engine usable.
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { writeSafetensors } from '../../../src/lib/sae/safetensors';
import { randomSae, saeLensV6Files } from '../../unit/sae/fixtures';
import { HARNESS_PATH } from '../../harness/location.mjs';

const MODELS = ['voices', 'voices-smoke'].filter((m) => existsSync(`models/${m}/golden.json`) && existsSync(`models/${m}/sae`));

interface Golden {
  hook_name: string;
  prompts: {
    text: string;
    ids: number[];
    sae_top: { indices: number[]; values: number[] }[];
    greedy: { unsteered: number[] };
    steered: Record<string, { strength: number; use: 'vector' | 'latents'; ids: number[] }>;
  }[];
}

// WebGPU by default: these tests are the GPU SAE kernels' end-to-end check (`auto` would pick WASM on SwiftShader).
async function open(page: Page, model: string, backend: 'webgpu' | 'wasm' = 'webgpu', layers?: number[]) {
  await page.goto(HARNESS_PATH);
  await page.waitForFunction(() => (window as any).harness?.sae?.playground !== undefined);
  const hook = readdirSync(`models/${model}/sae`)[0];
  return page.evaluate(
    ([m, h, b, l]) => (window as any).harness.sae.playground.load(`/models/${m}/`, `/models/${m}/sae/${h}/`, { onnxFile: 'onnx/model.onnx', backend: b, layers: l }),
    [model, hook, backend, layers] as const,
  );
}

function expectGoldenTop(a: { k: number; indices: number[]; values: number[] }, sae_top: Golden['prompts'][number]['sae_top']) {
  sae_top.forEach((want, t) => {
    for (let m = 0; m < want.indices.length; m++) {
      const got = a.values[t * a.k + m];
      expect(Math.abs(got - want.values[m])).toBeLessThan(2e-3 * Math.max(1, Math.abs(want.values[m])));
      if (a.indices[t * a.k + m] !== want.indices[m]) {
        // Only a near-tie in the golden values may swap places.
        const other = want.indices.indexOf(a.indices[t * a.k + m]);
        expect(other, `token ${t} rank ${m}`).toBeGreaterThanOrEqual(0);
        expect(Math.abs(want.values[other] - want.values[m])).toBeLessThan(2e-3);
      }
    }
  });
}

const greedy = (maxNewTokens: number) => ({ maxNewTokens, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0, seed: 0 });

for (const model of MODELS) {
  const golden: Golden = JSON.parse(readFileSync(`models/${model}/golden.json`, 'utf8'));
  // The long generations run the WebGPU kernels end to end on the smallest model present (the smoke build in CI) and
  // the full Voices model on WASM (the TypeScript reference): each golden is still checked on Voices, and SwiftShader,
  // which emulates the GPU on this CPU, spends its minutes on the model where a step costs least.
  const generateOn: 'webgpu' | 'wasm' = model === MODELS[MODELS.length - 1] ? 'webgpu' : 'wasm';

  test.describe(`PlaygroundEngine + SAE on ${model}`, () => {
    test('top latents per token equal the golden values', async ({ page }) => {
      await open(page, model);
      for (const prompt of golden.prompts) {
        const a = await page.evaluate(([text]) => (window as any).harness.sae.playground.analyse(text, 8), [prompt.text]);
        expect(a.ids).toEqual(prompt.ids);
        expectGoldenTop(a, prompt.sae_top);
        for (const e of a.reconstructionError) expect(e).toBeLessThan(1);
      }
    });

    test(`persona-steered greedy continuations equal the golden ones (first 32 tokens, ${generateOn})`, async ({ page }) => {
      // Each persona once (on the first golden prompt that has it): 32 batched steps each, slow on CPU-emulated WebGPU.
      test.setTimeout(900_000);
      const { model: info } = await open(page, model, generateOn);
      expect(info.device.backend).toBe(generateOn);
      const done = new Set<string>();
      for (const prompt of golden.prompts) {
        for (const [personaId, s] of Object.entries(prompt.steered)) {
          if (done.has(personaId)) continue;
          done.add(personaId);
          const r = await page.evaluate(
            (req) => (window as any).harness.sae.playground.generate(req),
            {
              prompt: prompt.text,
              sampling: greedy(32),
              steering: { positions: 'all', terms: [{ kind: 'persona', personaId, strength: s.strength, use: s.use }] },
              withBaseline: true,
              monitor: [],
              topK: 0,
            },
          );
          expect(r.rows[0].ids, `baseline for "${prompt.text}"`).toEqual(prompt.greedy.unsteered.slice(0, 32));
          expect(r.rows[1].ids, `${personaId} on "${prompt.text}"`).toEqual(s.ids.slice(0, 32));
        }
      }
      expect(done.size).toBeGreaterThan(0);
    });

    test(`adding c·W_dec[i] raises latent i; clamping latent i to 0 zeroes it (${generateOn})`, async ({ page }) => {
      const { sae } = await open(page, model, generateOn);
      const prompt = golden.prompts[0].text;
      const a = await page.evaluate(([text]) => (window as any).harness.sae.playground.analyse(text, 1), [prompt]);
      // The latent most active on the last prompt token: a good candidate to clamp; a rarely active one to push.
      const hot = a.indices[a.indices.length - 1];
      const cold = (hot + Math.floor(sae.dSae / 2)) % sae.dSae;
      for (const latent of [hot, cold]) {
        const r = await page.evaluate(
          ([latent, layer]) =>
            (window as any).harness.sae.playground.definePersona({ id: `only-${latent}`, name: `latent ${latent}`, layer, latents: [{ latent, coefficient: 1 }], defaultUse: 'latents', strength: { min: -1, max: 1, recommended: 1 }, source: 'user' }),
          [latent, sae.layer],
        );
        expect(r).toEqual({ ok: true });
      }
      const run = (terms: unknown[], monitor: string) =>
        page.evaluate((req) => (window as any).harness.sae.playground.generate(req), {
          prompt,
          sampling: greedy(6),
          steering: { positions: 'all', terms },
          withBaseline: true,
          monitor: [monitor],
          topK: 4,
        });
      // Push as the app's "Steer with this" does, 4 × the latent's largest recorded activation (at least 8): a fixed
      // push may not lift an arbitrary latent into a TopK SAE's top k (its pre-activation gain per unit is W_enc·W_dec).
      const hookDir = readdirSync(`models/${model}/sae`)[0];
      const catalogue = JSON.parse(readFileSync(`models/${model}/sae/${hookDir}/features.json`, 'utf8'));
      const coefficient = Math.max(8, 4 * catalogue.latents[cold].max_activation);
      const pushed = await run([{ kind: 'latent', latent: cold, coefficient, method: 'add' }], `only-${cold}`);
      expect(pushed.events.length).toBe(6);
      for (const e of pushed.events) {
        expect(e.rows[1].monitor[`only-${cold}`]).toBeGreaterThan(e.rows[0].monitor[`only-${cold}`] + 0.5);
        expect(e.rows[1].top.length).toBe(4);
      }
      const clamped = await run([{ kind: 'latent', latent: hot, coefficient: 0, method: 'clamp' }], `only-${hot}`);
      let baselineActive = 0;
      for (const e of clamped.events) {
        expect(Math.abs(e.rows[1].monitor[`only-${hot}`])).toBeLessThan(1e-4);
        baselineActive = Math.max(baselineActive, e.rows[0].monitor[`only-${hot}`]);
      }
      expect(baselineActive).toBeGreaterThan(0);
    });

    test('WASM path (TypeScript reference): golden top latents and a golden steered continuation', async ({ page }) => {
      test.skip(generateOn === 'wasm', 'the steered continuations above already run this model on WASM, every persona');
      test.setTimeout(600_000);
      const { model: info } = await open(page, model, 'wasm');
      expect(info.device.backend).toBe('wasm');
      const prompt = golden.prompts[0];
      const a = await page.evaluate(([text]) => (window as any).harness.sae.playground.analyse(text, 8), [prompt.text]);
      expect(a.ids).toEqual(prompt.ids);
      expectGoldenTop(a, prompt.sae_top);
      const [personaId, s] = Object.entries(prompt.steered)[0];
      const r = await page.evaluate((req) => (window as any).harness.sae.playground.generate(req), {
        prompt: prompt.text,
        sampling: greedy(32),
        steering: { positions: 'all', terms: [{ kind: 'persona', personaId, strength: s.strength, use: s.use }] },
        withBaseline: true,
        monitor: [personaId],
        topK: 4,
      });
      expect(r.rows[0].ids).toEqual(prompt.greedy.unsteered.slice(0, 32));
      expect(r.rows[1].ids).toEqual(s.ids.slice(0, 32));
      expect(r.events[0].rows[1].top.length).toBe(4);
    });

    test('instrumented at the SAE layer only (the hint from its hook name); a wrong hint reopens the model at the right one', async ({ page }) => {
      test.setTimeout(600_000);
      const layer = Number(golden.hook_name.match(/^blocks\.(\d+)\.hook_resid_post$/)![1]);
      const prompt = golden.prompts[0];
      // A wrong hint needs a second layer to point at (the smoke model has one; the Voices run covers the reopen).
      const nLayer = JSON.parse(readFileSync(`models/${model}/config.json`, 'utf8')).n_layer as number;
      const hints = nLayer > 1 ? [layer, layer === 0 ? 1 : 0] : [layer];
      for (const hint of hints) {
        const { sae, saeProgress } = await open(page, model, 'wasm', [hint]);
        expect(sae.layer).toBe(layer);
        const reopened = saeProgress.includes(`Reopening the model instrumented at layer ${layer}`);
        expect(reopened, `hint ${hint}`).toBe(hint !== layer);
        const a = await page.evaluate(([text]) => (window as any).harness.sae.playground.analyse(text, 8), [prompt.text]);
        expectGoldenTop(a, prompt.sae_top);
        const [personaId, s] = Object.entries(prompt.steered)[0];
        const r = await page.evaluate((req) => (window as any).harness.sae.playground.generate(req), {
          prompt: prompt.text,
          sampling: greedy(16),
          steering: { positions: 'all', terms: [{ kind: 'persona', personaId, strength: s.strength, use: s.use }] },
          withBaseline: true,
          monitor: [personaId],
          topK: 4,
        });
        expect(r.rows[0].ids).toEqual(prompt.greedy.unsteered.slice(0, 16));
        expect(r.rows[1].ids).toEqual(s.ids.slice(0, 16));
      }
    });

    test('bad SAE folders and personas are typed errors; the engine stays usable', async ({ page }) => {
      const { model: info, sae } = await open(page, model);
      const prompt = golden.prompts[0].text;
      const before = await page.evaluate(([t]) => (window as any).harness.sae.playground.analyse(t, 4), [prompt]);
      const d = info.dModel;
      const good = randomSae({ dIn: d, dSae: 40, architecture: 'topk', k: 4 });
      good.config.hookName = `blocks.${sae.layer}.hook_resid_post`;
      const files = (mutate: (cfg: Record<string, unknown>) => void, weights?: Uint8Array) => {
        const f = saeLensV6Files(good);
        mutate(f.cfg!);
        return { cfg: JSON.stringify(f.cfg), weights: Buffer.from(weights ?? (f.weights as Uint8Array)) };
      };
      const nan = new Float32Array(good.wEnc);
      nan[5] = NaN;
      const nanWeights = writeSafetensors({
        W_enc: { dtype: 'F32', shape: [d, 40], data: nan },
        W_dec: { dtype: 'F32', shape: [40, d], data: good.wDec },
        b_enc: { dtype: 'F32', shape: [40], data: good.bEnc },
        b_dec: { dtype: 'F32', shape: [d], data: good.bDec },
      });
      const wide = randomSae({ dIn: d + 1, dSae: 40, architecture: 'topk', k: 4 });
      const wideFiles = saeLensV6Files(wide);
      const full = saeLensV6Files(good).weights as Uint8Array;
      const cases: Record<string, { cfg: string; weights: Buffer; error: string; message: RegExp }> = {
        'wrong-d-in': { cfg: JSON.stringify(wideFiles.cfg), weights: Buffer.from(wideFiles.weights as Uint8Array), error: 'SaeModelMismatchError', message: new RegExp(`d_in = ${d + 1}.*hidden size ${d}`) },
        'missing-layer': { ...files((c) => ((c.metadata as any).hook_name = 'blocks.17.hook_resid_post')), error: 'SaeModelMismatchError', message: /block 17/ },
        truncated: { ...files(() => {}, full.subarray(0, full.length - 100)), error: 'SafetensorsError', message: /truncated or lying/ },
        'unknown-architecture': { ...files((c) => (c.architecture = 'gated')), error: 'UnknownArchitectureError', message: /"gated"/ },
        nan: { ...files(() => {}, nanWeights), error: 'SaeNonFiniteError', message: /"W_enc".*index 5/ },
      };
      for (const [name, c] of Object.entries(cases)) {
        await page.route(`**/bad-sae/${name}/cfg.json`, (route) => route.fulfill({ body: c.cfg, contentType: 'application/json' }));
        await page.route(`**/bad-sae/${name}/sae_weights.safetensors`, (route) => route.fulfill({ body: c.weights }));
        const r = await page.evaluate(([n]) => (window as any).harness.sae.playground.loadSae(`/bad-sae/${n}/`), [name]);
        expect(r.error, name).toBe(c.error);
        expect(r.message, name).toMatch(c.message);
      }
      const badPersona = await page.evaluate(
        ([layer, dSae]) =>
          (window as any).harness.sae.playground.definePersona({ id: 'bad', name: 'bad', layer, latents: [{ latent: dSae, coefficient: 1 }], defaultUse: 'latents', strength: { min: -1, max: 1, recommended: 1 }, source: 'user' }),
        [sae.layer, sae.dSae],
      );
      expect(badPersona.error).toBe('SteeringSpecError');
      expect(badPersona.message).toMatch(new RegExp(`latent ${sae.dSae}.*0\\.\\.${sae.dSae - 1}`));
      const badVector = await page.evaluate(
        ([layer, d]) =>
          (window as any).harness.sae.playground.definePersona({ id: 'badv', name: 'badv', layer, latents: [], vector: new Array(d + 3).fill(0), defaultUse: 'vector', strength: { min: -1, max: 1, recommended: 1 }, source: 'user' }),
        [sae.layer, d],
      );
      expect(badVector.error).toBe('SteeringSpecError');
      const after = await page.evaluate(([t]) => (window as any).harness.sae.playground.analyse(t, 4), [prompt]);
      expect(after.indices).toEqual(before.indices);
    });
  });
}
