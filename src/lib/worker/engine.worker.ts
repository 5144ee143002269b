// The engine worker: runs the in-thread PlaygroundEngine (src/lib/engine/playground.ts) off the main thread.
// The glob keeps this file building whether or not that engine exists in this checkout.
/// <reference lib="webworker" />
import type { PlaygroundEngine } from '../engine/api';
import { serveEngine } from './server';
import type { Port } from './protocol';
import { installLocalFolderFetch } from '../runtime/localFolder';
import { primeOrt } from '../runtime/ort';

// Folders opened from disk: the page hands their files over with each load (server.ts registers them here).
installLocalFolderFetch();

const modules = import.meta.glob<Record<string, unknown>>('../engine/playground.ts');


/** Accepts `createPlaygroundEngine()` (sync or async) or a class with a no-argument constructor. */
async function createEngine(): Promise<PlaygroundEngine> {
  for (const load of Object.values(modules)) {
    const module = await load();
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== 'function') continue;
      const f = value as { prototype?: { analyse?: unknown } } & (new () => PlaygroundEngine) & (() => unknown);
      if (f.prototype && typeof f.prototype.analyse === 'function') return new f();
      if (/^create\w*Engine$/.test(name)) return (await f()) as PlaygroundEngine;
    }
  }
  throw Object.assign(new Error('This build has no in-thread engine (src/lib/engine/playground.ts).'), {
    name: 'EngineUnavailableError',
  });
}

// Every engine needs ORT's WebAssembly runtime: it starts before the engine's own (larger) chunk has loaded.
void primeOrt();
// Created at boot, not on the first message, so the engine is ready by the time the page asks.
const engine = createEngine();
engine.catch(() => undefined);
serveEngine(self as unknown as Port, () => engine);
