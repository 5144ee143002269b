// Lab work that loads models of its own (a diff's two models, a timeline's checkpoints) runs on an engine made for it
// and disposed after, so those models never stay in memory beside the playground's; cancelling disposes it at once.
import type { LabEngine } from '../engine/api';

export interface OwnEngineHooks {
  /** Models the engine holds now (0 once it is disposed), for the page's "models in memory". */
  onModels?: (loaded: number) => void;
  signal?: AbortSignal;
}

/** The error a cancelled run rejects with: `name` `CancelledError`, as the engine's own (engine/textStats.ts). */
export function cancelledError(message: string): Error {
  return Object.assign(new Error(message), { name: 'CancelledError' });
}

/**
 * Runs `work` on a fresh engine from `createEngine` and disposes it when `work` settles (its worker ends, its models
 * are released; `onModels(0)` follows). Aborting `hooks.signal` disposes the engine at once and the call rejects with
 * `cancelledError(cancelMessage)`, whatever `work` was doing; `work` may call `check()` between steps to stop there.
 * Other errors from `work` are passed on unchanged.
 */
export async function withOwnEngine<T>(
  createEngine: () => LabEngine,
  hooks: OwnEngineHooks,
  cancelMessage: string,
  work: (engine: LabEngine, check: () => void) => Promise<T>,
): Promise<T> {
  if (hooks.signal?.aborted) throw cancelledError(cancelMessage);
  const engine = createEngine();
  let disposed: Promise<void> | null = null;
  const dispose = () => (disposed ??= engine.dispose().catch(() => undefined).then(() => hooks.onModels?.(0)));
  const onAbort = () => void dispose();
  hooks.signal?.addEventListener('abort', onAbort);
  const check = () => {
    if (hooks.signal?.aborted) throw cancelledError(cancelMessage);
  };
  try {
    const result = await work(engine, check);
    check();
    return result;
  } catch (error) {
    check();
    throw error;
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    await dispose();
  }
}
