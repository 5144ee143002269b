// Keeps the URL and local storage in step with the experiment. Debounced: browsers throttle history updates, and
// typing fires one change per key.

import type { Playground } from './playground.svelte';
import { saveExperiment } from '../ui/persistence';
import { keepPageKeys } from '../ui/backend-preference';

export function syncExperiment(pg: Playground, storage: Storage | null, delayMs = 250): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = (query: string) => {
    saveExperiment(pg.experiment, storage);
    history.replaceState(history.state, '', `${location.pathname}?${keepPageKeys(query, location.search)}${location.hash}`);
  };
  const stop = $effect.root(() => {
    $effect(() => {
      const query = pg.query;
      clearTimeout(timer);
      timer = setTimeout(() => write(query), delayMs);
    });
  });
  // A reload right after typing must not lose the last keystrokes.
  const flush = () => {
    clearTimeout(timer);
    write(pg.query);
  };
  addEventListener('pagehide', flush);
  return () => {
    stop();
    removeEventListener('pagehide', flush);
  };
}
