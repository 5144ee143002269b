// The one place that picks the engine implementation; everything else receives a PlaygroundEngine.
// The worker client keeps the page responsive while the model runs; the in-thread engine is the fallback.

import type { PlaygroundEngine } from '../engine/api';

type EngineModule = Record<string, unknown>;

// Globs resolve at build time to whichever implementations exist, so the UI builds before and after they land.
const workerClients = import.meta.glob<EngineModule>('../worker/client.ts');
const inThreadEngines = import.meta.glob<EngineModule>('../engine/playground.ts');

function isEngine(x: unknown): x is PlaygroundEngine {
  return typeof x === 'object' && x !== null && typeof (x as PlaygroundEngine).analyse === 'function';
}

/** Finds the engine in a module: a `create…Engine()` factory or a class implementing the interface. */
function instantiate(module: EngineModule): PlaygroundEngine | null {
  for (const [name, value] of Object.entries(module)) {
    if (typeof value !== 'function') continue;
    const ctor = value as { prototype?: { analyse?: unknown } } & (new () => unknown) & (() => unknown);
    if (ctor.prototype && typeof ctor.prototype.analyse === 'function') {
      const engine = new ctor();
      if (isEngine(engine)) return engine;
    } else if (/^create\w*Engine$/.test(name)) {
      const engine = (value as () => unknown)();
      if (isEngine(engine)) return engine;
    }
  }
  return null;
}

export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
}

export async function createEngine(): Promise<PlaygroundEngine> {
  for (const loaders of [workerClients, inThreadEngines]) {
    for (const load of Object.values(loaders)) {
      const engine = instantiate(await load());
      if (engine) return engine;
    }
  }
  throw new EngineUnavailableError(
    'This build of the playground has no inference engine (src/lib/worker/client.ts or src/lib/engine/playground.ts). ' +
      'Rebuild it from a checkout that includes the engine.',
  );
}
