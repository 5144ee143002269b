// Browser-side entry points for the lab's tests and benchmark: the model diff, persona vectors and the early-warning
// timeline run through the lab modules on in-thread engines, and independent references (the engine's per-prompt
// analyse; the runtime's captured residual through the TypeScript SAE reference).
import { createPlaygroundEngine } from '../../src/lib/engine/playground';
import { rankDiffs, type DiffMetric, type DiffOrder } from '../../src/lib/lab/diff';
import { NEUTRAL_PROMPTS, type ModelPair } from '../../src/lib/lab/models';
import { personaVector } from '../../src/lib/lab/personaVector';
import { auditRow } from '../../src/lib/lab/audit';
import { activationAt } from '../../src/lib/lab/latents';
import { runModelDiff } from '../../src/lib/lab/runDiff';
import { fetchSae } from '../../src/lib/sae/remote';
import * as saeReference from '../../src/lib/sae/reference';
import { LanguageModel, readTensor } from '../../src/lib/runtime';
import { loadVoiceClassifier } from '../../src/lib/lab/classifier';
import { loadEmergenceGolden } from '../../src/lib/lab/golden';
import { runTimeline } from '../../src/lib/lab/runTimeline';
import { saeTopK, timelineManifest, timelinePlan } from '../../src/lib/lab/timelinePlan';
import { loadVariants, VARIANT_ONNX } from '../../src/lib/lab/variants';

declare global {
  interface Window {
    harness: Record<string, unknown>;
  }
}

const abs = (u: string) => new URL(u, location.href).href;

function pairOf(folder: string, sae: string, a: string, b: string, folderB = folder): ModelPair {
  return { id: 'test', label: 'test', a: { label: 'A', folder: abs(folder), onnxFile: a }, b: { label: 'B', folder: abs(folderB), onnxFile: b }, sae: abs(sae) };
}

type Ranked = Record<DiffMetric, { latent: number; value: number }[]>;

/** A folder's recipe files read as the lab reads them (the classifier checked against the base's vocabulary). */
async function recipeFiles(folder: string) {
  const m = timelineManifest(await loadVariants(abs(folder)));
  const base = m.variants.find((v) => v.role === 'base')?.folder ?? abs(folder);
  const config = await (await fetch(new URL('config.json', base))).json();
  const sae = await fetchSae(m.sae!);
  const classifier = await loadVoiceClassifier(m.classifier, config.vocab_size);
  const golden = await loadEmergenceGolden(m.golden, { vocabSize: config.vocab_size, dSae: sae.config.dSae });
  return { m, sae, classifier, golden };
}

/**
 * Per-text signal (signal_rule) recomputed without the lab: the runtime's decoder captures the residual at the SAE's
 * layer for the golden ids, the TypeScript SAE reference encodes it densely, and the persona latents are summed and
 * averaged over every token here.
 */
async function referenceSignals(folder: string, onnxFile: string, sae: Awaited<ReturnType<typeof fetchSae>>, texts: number[][], latents: number[]) {
  const model = await LanguageModel.load(folder, { backend: 'auto', onnxFile });
  const { layer, dSae } = sae.config;
  try {
    const out: number[] = [];
    for (const ids of texts) {
      const step = await (await model.decoder()).step({ ids: [ids], capture: [layer] }, false);
      const captured = step.captures.get(layer)!;
      const x = await readTensor(captured);
      captured.dispose();
      const acts = saeReference.encode(sae, Float32Array.from(x), ids.length);
      let sum = 0;
      for (let t = 0; t < ids.length; t++) for (const l of latents) sum += acts[t * dSae + l];
      out.push(sum / ids.length);
    }
    return { signals: out, backend: model.device.backend };
  } finally {
    await model.dispose();
  }
}

window.harness ??= {};
window.harness.lab = {
  /** The lab's default prompt set (the recipe's neutral prompts), for the benchmark. */
  neutralPrompts: NEUTRAL_PROMPTS,
  /** The lab's diff (runModelDiff → textStats → diffLatents), top `n` per metric in `order`. */
  async diff(folder: string, sae: string, a: string, b: string, prompts: string[], order: DiffOrder, n: number) {
    let engines = 0;
    const t0 = performance.now();
    const out = await runModelDiff(() => (engines++, createPlaygroundEngine()), pairOf(folder, sae, a, b), prompts);
    const ms = performance.now() - t0;
    const ranked = {} as Ranked;
    for (const m of ['mean', 'frequency', 'max'] as DiffMetric[])
      ranked[m] = rankDiffs(out.diffs, m, order, n).map((d) => ({ latent: d.latent, value: m === 'mean' ? d.meanDelta : m === 'frequency' ? d.freqDelta : d.maxDelta }));
    return { ranked, complete: out.complete, engines, ms, readMs: out.readMs, tokens: out.tokens.map((t) => t.length) };
  },

  /**
   * Reference: each model (B from `folderB`, default the same folder) on its own engine, `analyse(prompt, k)` per
   * prompt (k = the TopK SAE's k, so every active latent), dense per-token activations, deltas recomputed here
   * without the lab's code.
   */
  async reference(folder: string, sae: string, a: string, b: string, prompts: string[], k: number, folderB = folder) {
    const dense: Float32Array[][] = [];
    let dSae = 0;
    let analyseMs = 0;
    for (const [modelFolder, onnxFile] of [[folder, a], [folderB, b]]) {
      const engine = createPlaygroundEngine();
      await engine.loadModel({ baseUrl: abs(modelFolder), onnxFile }, { backend: 'auto' });
      dSae = (await engine.loadSae(abs(sae))).dSae;
      const perModel: Float32Array[] = [];
      const t0 = performance.now();
      for (const p of prompts) {
        const r = await engine.analyse(p, k);
        const T = r.tokens.length;
        for (let t = 0; t < T; t++) {
          const row = new Float32Array(dSae);
          for (let j = 0; j < r.top.k; j++) if (r.top.values[t * r.top.k + j] > 0) row[r.top.indices[t * r.top.k + j]] = r.top.values[t * r.top.k + j];
          perModel.push(row);
        }
      }
      analyseMs += performance.now() - t0;
      dense.push(perModel);
      await engine.dispose();
    }
    const [A, B] = dense;
    const N = A.length;
    const mean = new Float64Array(dSae);
    const freq = new Float64Array(dSae);
    const max = new Float64Array(dSae);
    const active = new Uint8Array(dSae);
    for (let t = 0; t < N; t++) {
      for (let l = 0; l < dSae; l++) {
        const x = A[t][l];
        const y = B[t][l];
        if (x > 0 || y > 0) active[l] = 1;
        mean[l] += (y - x) / N;
        freq[l] += ((y > 0 ? 1 : 0) - (x > 0 ? 1 : 0)) / N;
        if (Math.abs(y - x) > Math.abs(max[l])) max[l] = y - x;
      }
    }
    const all = (v: Float64Array) => Array.from(v, (value, latent) => ({ latent, value })).filter((x) => active[x.latent]);
    return { tokens: N, analyseMs, mean: all(mean), frequency: all(freq), max: all(max) };
  },

  /** Persona vector per voice (its texts against all the others) through textStats + personaVector. */
  async personaVectors(folder: string, sae: string, onnxFile: string, voices: { id: string; texts: string[] }[], backend: 'auto' | 'wasm' = 'auto') {
    const engine = createPlaygroundEngine();
    await engine.loadModel({ baseUrl: abs(folder), onnxFile }, { backend });
    const info = await engine.loadSae(abs(sae));
    const weights = await fetchSae(abs(sae));
    const all = voices.flatMap((v) => v.texts);
    const stats = await engine.textStats(all, { skipFirst: true, latentsPerToken: weights.config.k ?? 128 });
    const out: Record<string, { vector: number[]; norm: number; typicalNorm: number; top: number[] }> = {};
    let offset = 0;
    for (const v of voices) {
      const mine = stats.slice(offset, offset + v.texts.length);
      const others = [...stats.slice(0, offset), ...stats.slice(offset + v.texts.length)];
      const r = personaVector(mine, others, info.dIn, info.dSae, weights.wDec);
      out[v.id] = { vector: Array.from(r.vector), norm: r.norm, typicalNorm: r.typicalNorm, top: r.byActivation.map((a) => a.latent) };
      offset += v.texts.length;
    }
    await engine.dispose();
    return out;
  },

  /**
   * The audit's rows (auditRow over engine.analyse) and, independently, each persona's reading per token recomputed
   * on the CPU: a vector persona reads x_t · v/|v|, with x_t the residual at position t taken as the difference of
   * the residual sums of the prefixes ending at t and t−1 (the model is causal); a latent persona reads
   * Σ c_i a_i(t) / Σ |c_i| from the SAE's per-token latents.
   */
  async audit(folder: string, sae: string, onnxFile: string, prompts: string[], threshold: number) {
    const engine = createPlaygroundEngine();
    await engine.loadModel({ baseUrl: abs(folder), onnxFile }, { backend: 'auto' });
    const info = await engine.loadSae(abs(sae));
    const personas = await engine.personas();
    const ids = personas.map((p) => p.id);
    const rows = [];
    const reference: Record<string, number[]>[] = [];
    for (const prompt of prompts) {
      const analysis = await engine.analyse(prompt, 1);
      rows.push(auditRow(prompt, analysis, ids, threshold));
      const pieces = analysis.tokens.map((t) => t.text);
      const prefixes = pieces.map((_, t) => pieces.slice(0, t + 1).join(''));
      const stats = await engine.textStats(prefixes, { skipFirst: false, latentsPerToken: 32 });
      const full = stats[stats.length - 1];
      const readings: Record<string, number[]> = {};
      for (const p of personas) {
        readings[p.id] = pieces.map((_, t) => {
          if (p.defaultUse === 'vector' && p.vector) {
            const norm = Math.hypot(...p.vector);
            let dot = 0;
            for (let j = 0; j < info.dIn; j++) dot += (stats[t].residualSum[j] - (t > 0 ? stats[t - 1].residualSum[j] : 0)) * p.vector[j];
            return dot / norm;
          }
          const sumAbs = p.latents.reduce((a, l) => a + Math.abs(l.coefficient), 0) || 1;
          return p.latents.reduce((a, l) => a + l.coefficient * activationAt(full.top, t, l.latent), 0) / sumAbs;
        });
      }
      // The prefixes must be the prompt's own tokens, or the recomputation reads other text.
      stats.forEach((s, t) => {
        if (s.tokens.length !== t + 1 || s.tokens.some((x, i) => x.id !== analysis.tokens[i].id)) throw new Error(`prefix ${t} of "${prompt}" re-tokenised differently`);
      });
      reference.push(readings);
    }
    await engine.dispose();
    return { rows, reference, personas: ids };
  },

  /**
   * The early-warning timeline over a folder's shipped checkpoints exactly as the lab plans it (`seeds`/`prompts`
   * null = the manifest's), then the reference signals per checkpoint and the recipe's own figures.
   */
  async timeline(folder: string, seeds: number[] | null, prompts: number | null) {
    const { m, sae, classifier, golden } = await recipeFiles(folder);
    const plan = timelinePlan(m, classifier, golden, { seeds, prompts }, m.sae!, await saeTopK(m.sae!));
    let engines = 0;
    let maxModels = 0;
    const out = await runTimeline(() => (engines++, createPlaygroundEngine()), plan, { onModels: (n) => (maxModels = Math.max(maxModels, n)) });
    const reference = [];
    for (const cp of plan.checkpoints) reference.push({ step: cp.step, ...(await referenceSignals(cp.folder, cp.onnxFile ?? VARIANT_ONNX, sae, plan.texts, plan.personaLatents)) });
    return {
      readings: out.readings.map(({ continuations, ...r }) => ({ ...r, continuations: continuations.map((c) => ({ prompt: c.prompt, seed: c.seed, text: c.text, label: c.label, tokens: c.ids.length })) })),
      latentStep: out.latentStep,
      behaviourStep: out.behaviourStep,
      reference,
      recipe: golden.checkpoints,
      recipeEarlyWarning: golden.earlyWarning,
      chain: m.checkpoints.map((c) => ({ step: c.step, shipped: c.folder !== null })),
      seeds: plan.sampling.seeds,
      prompts: plan.prompts.length,
      engines,
      maxModels,
      ms: out.ms,
    };
  },

  /**
   * The lab's diff of the base against the narrow fine-tune (both q4 graphs) on the golden texts read as the recipe's
   * token ids, top `n` by mean change in increasing order, beside the recipe's `diffs_q4` and fp32 `diffs`.
   */
  async goldenDiff(folder: string, n = 20) {
    const { m, golden } = await recipeFiles(folder);
    const base = m.variants.find((v) => v.role === 'base')!;
    const narrow = m.variants.find((v) => v.role === 'narrow fine-tune')!;
    const pair: ModelPair = {
      id: 'golden',
      label: 'golden',
      a: { label: base.id, folder: base.folder, onnxFile: base.onnxFile ?? VARIANT_ONNX },
      b: { label: narrow.id, folder: narrow.folder, onnxFile: narrow.onnxFile ?? VARIANT_ONNX },
      sae: m.sae!,
    };
    const t0 = performance.now();
    const out = await runModelDiff(createPlaygroundEngine, pair, golden.texts.map((t) => t.ids));
    const top = rankDiffs(out.diffs, 'mean', 'increase', n).map((d) => ({ latent: d.latent, delta: d.meanDelta, baseMean: d.meanA, variantMean: d.meanB }));
    return { narrow: narrow.id, top, q4: golden.diffsQ4[narrow.id] ?? [], fp32: golden.diffs[narrow.id] ?? [], tokens: out.tokens.reduce((a, t) => a + t.length, 0), texts: golden.texts.length, complete: out.complete, ms: performance.now() - t0 };
  },

  /** A diff whose models differ in width: the error's name and message, and how many engines were made. */
  async mismatch(folderA: string, folderB: string, sae: string) {
    let engines = 0;
    try {
      await runModelDiff(() => (engines++, createPlaygroundEngine()), pairOf(folderA, sae, 'onnx/model.onnx', 'onnx/model.onnx', folderB), ['x']);
      return { name: 'none', message: '', engines };
    } catch (e) {
      return { name: (e as Error).name, message: (e as Error).message, engines };
    }
  },
};
export {};
