// The lab's batch read-out: each text through the model once (prefill only) and through the SAE, summed where the
// experiments need sums (the residual, for persona vectors) and kept sparse per token where they need pairs (latents,
// for model diffing). Lives beside the engine, not inside it: the engine only hands over its model and SAE.
import type { Progress, TextStats, TextStatsOptions, TokenText } from './api';
import { GREEDY, type LanguageModel, type StepEvent } from '../runtime';
import type { SaeBackend } from './saeBackend';

/** `cancel()` stopped a batch between texts; the work done so far is discarded. */
export class CancelledError extends Error {
  constructor(done: number, total: number) {
    super(`Cancelled after ${done} of ${total} texts.`);
    this.name = 'CancelledError';
  }
}

export interface TextStatsContext {
  model: LanguageModel;
  backend: SaeBackend;
  layer: number;
  tokenTexts(ids: number[]): TokenText[];
  signal: AbortSignal;
}

/**
 * Statistics per text (see `LabEngine.textStats`). Shapes: residualSum [dIn] over positions `start..T-1`, top
 * [T × k] with k = min(latentsPerToken, dSae). Throws `ContextOverflowError` (from `model.encode`) before any work
 * when a text does not fit, `InvalidRequestError` for an empty text, `CancelledError` when the signal fires.
 */
export async function computeTextStats(
  ctx: TextStatsContext,
  texts: string[],
  options: TextStatsOptions,
  onProgress?: (p: Progress) => void,
): Promise<TextStats[]> {
  const { model, backend, layer } = ctx;
  const { dIn, dSae, architecture, k: saeK } = backend.sae.config;
  const ids = texts.map((t) => model.encode(t));
  const k = Math.max(1, Math.min(options.latentsPerToken, dSae));
  // A TopK SAE has at most k active latents per token: asking for k of them reads all of them.
  const coversAll = architecture === 'topk' && saeK !== null && k >= saeK;
  backend.setMonitors([]);
  const out: TextStats[] = [];
  for (let i = 0; i < texts.length; i++) {
    if (ctx.signal.aborted) throw new CancelledError(i, texts.length);
    const tokens = ids[i];
    const T = tokens.length;
    const start = options.skipFirst ? 1 : 0;
    let stats: TextStats | null = null;
    await model.generate({
      promptIds: tokens,
      maxNewTokens: 1,
      sampling: GREEDY,
      seed: 0,
      capture: [layer],
      onStep: async (event: StepEvent) => {
        const captured = event.captures.get(layer)!;
        const [residual, r] = await Promise.all([
          options.residual === false ? Promise.resolve(null) : captured.read(),
          backend.analyse(captured, { offset: 0, rowStride: T * dIn, tokensPerRow: T, tokens: T }, k, { reconstruction: false }),
        ]);
        const residualSum = new Float64Array(dIn);
        let residualNormSum = 0;
        for (let t = start; t < T && residual; t++) {
          let sq = 0;
          for (let j = 0; j < dIn; j++) {
            const x = residual[t * dIn + j];
            residualSum[j] += x;
            sq += x * x;
          }
          residualNormSum += Math.sqrt(sq);
        }
        // Without the TopK guarantee the reported latents are all of them only where the last one is already zero.
        let complete = coversAll || r.k >= dSae;
        if (!complete) {
          complete = true;
          for (let t = 0; t < T && complete; t++) if (r.values[t * r.k + r.k - 1] > 0) complete = false;
        }
        stats = { tokens: ctx.tokenTexts(tokens), start, residualSum, residualNormSum, top: { k: r.k, indices: r.indices, values: r.values }, complete };
      },
    });
    out.push(stats!);
    onProgress?.({ stage: 'texts', message: `Read ${i + 1} of ${texts.length} texts`, loaded: i + 1, total: texts.length });
  }
  return out;
}
