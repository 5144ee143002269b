// Runs a model diff on an engine of its own: model A then model B (B's load frees A), then the engine is disposed,
// so the two models are in memory only while the diff runs and never beside the playground's model for longer.
import type { LabEngine, LabText, TextStats } from '../engine/api';
import { diffLatents, type LatentDiff } from './diff';
import { checkPair, type ModelPair } from './models';
import { withOwnEngine, type OwnEngineHooks } from './ownEngine';

export interface DiffProgress {
  /** Prompts read so far over both models, of `total` (= 2 × prompts). */
  done: number;
  total: number;
  stage: string;
  /** Estimated milliseconds left, from the pace of the prompts read so far (null before the first). */
  etaMs: number | null;
}

export interface DiffOutcome {
  pair: ModelPair;
  prompts: string[];
  dSae: number;
  diffs: LatentDiff[];
  /** Tokens per prompt (same for both models). */
  tokens: string[][];
  complete: boolean;
  /** Milliseconds spent reading prompts (both models), loads excluded. */
  readMs: number;
}

export interface DiffHooks extends OwnEngineHooks {
  onProgress?: (p: DiffProgress) => void;
}

/**
 * Checks widths first (`LabWidthMismatchError` before any load), then reads `prompts` (strings, or token ids read as
 * given) with both models on an engine of its own (ownEngine.ts). Aborting the signal disposes the engine at once
 * (its worker ends; both models are released) and rejects with a `CancelledError`.
 */
export async function runModelDiff(createEngine: () => LabEngine, pair: ModelPair, prompts: LabText[], hooks: DiffHooks = {}): Promise<DiffOutcome> {
  const shape = await checkPair(pair);
  const latentsPerToken = shape.saeK ?? 128;
  const total = prompts.length * 2;
  let readStart = 0;
  let readMs = 0;
  let done = 0;
  const report = (stage: string) => {
    const elapsed = readMs + (readStart ? performance.now() - readStart : 0);
    hooks.onProgress?.({ done, total, stage, etaMs: done > 0 ? (elapsed / done) * (total - done) : null });
  };
  return withOwnEngine(createEngine, hooks, 'The diff was cancelled; both models were released.', async (engine, check) => {
    const read = async (which: 'A' | 'B', offset: number): Promise<{ stats: TextStats[]; dSae: number }> => {
      const m = which === 'A' ? pair.a : pair.b;
      report(`Loading model ${which} (${m.label})`);
      await engine.loadModel({ baseUrl: m.folder, onnxFile: m.onnxFile }, { backend: 'auto', quickStart: false });
      hooks.onModels?.(1);
      const sae = await engine.loadSae(pair.sae);
      check();
      readStart = performance.now();
      const stats = await engine.textStats(prompts, { skipFirst: false, latentsPerToken, residual: false }, (p) => {
        done = offset + (p.loaded ?? 0);
        report(`Reading prompts with model ${which}`);
      });
      readMs += performance.now() - readStart;
      readStart = 0;
      return { stats, dSae: sae.dSae };
    };
    const a = await read('A', 0);
    const b = await read('B', prompts.length);
    check();
    const diffs = diffLatents(a.stats, b.stats, a.dSae);
    return {
      pair,
      prompts: prompts.map(promptText),
      dSae: a.dSae,
      diffs,
      tokens: a.stats.map((s) => s.tokens.map((t) => t.text)),
      complete: [...a.stats, ...b.stats].every((s) => s.complete),
      readMs,
    };
  });
}

/** A prompt as the page shows it: token ids as `[ids: 1, 2, 3]` (the result keeps text only). */
function promptText(p: LabText): string {
  return typeof p === 'string' ? p : `[ids: ${p.join(', ')}]`;
}
