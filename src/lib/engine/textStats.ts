// The lab's batch read-out: each text through the model once (prefill only) and through the SAE, summed where the
// experiments need sums (the residual, for persona vectors) and kept sparse per token where they need pairs (latents,
// for model diffing). Lives beside the engine, not inside it: the engine only hands over its model and SAE.
import type { LabText, Progress, TextStats, TextStatsOptions, TokenText } from './api';
import { ContextOverflowError, InvalidRequestError } from '../runtime/errors';
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
 * A text's ids: a string as the model tokenises it, ids as given after checking them. Throws `InvalidRequestError`
 * for an empty list or an id that is not an integer below `vocab`, `ContextOverflowError` past the context.
 */
export function textIds(model: Pick<LanguageModel, 'encode' | 'config'>, text: LabText, index: number): number[] {
  if (typeof text === 'string') return model.encode(text);
  const { vocab, contextLength } = model.config;
  if (!text.length) throw new InvalidRequestError(`Text ${index + 1} has no token ids.`);
  const bad = text.find((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
  if (bad !== undefined) throw new InvalidRequestError(`Text ${index + 1} holds token id ${bad}; the model's vocabulary has ids 0 to ${vocab - 1}.`);
  if (text.length > contextLength) throw new ContextOverflowError(text.length, contextLength);
  return [...text];
}

/**
 * Statistics per text (see `LabEngine.textStats`). Shapes: residualSum [dIn] over positions `start..T-1`, top
 * [T × k] with k = min(latentsPerToken, dSae). Throws `ContextOverflowError` (from `model.encode`) before any work
 * when a text does not fit, `InvalidRequestError` for an empty text or ids outside the vocabulary (see `textIds`),
 * `CancelledError` when the signal fires.
 */
export async function computeTextStats(
  ctx: TextStatsContext,
  texts: LabText[],
  options: TextStatsOptions,
  onProgress?: (p: Progress) => void,
): Promise<TextStats[]> {
  const { model, backend, layer } = ctx;
  const { dIn, dSae, architecture, k: saeK } = backend.sae.config;
  const ids = texts.map((t, i) => textIds(model, t, i));
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
