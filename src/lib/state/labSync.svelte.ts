// Keeps the lab's view in the URL fragment and its lists in local storage, and re-creates its saved personas and
// model pairs whenever the playground has (re)loaded a model.
import { untrack } from 'svelte';
import type { Lab } from './lab.svelte';
import type { Playground } from './playground.svelte';

export function syncLab(lab: Lab, pg: Playground, delayMs = 250): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    lab.save();
    const hash = lab.hash ? `#${lab.hash}` : '';
    // Read the query at write time: the playground's own sync replaces it independently.
    if (location.hash !== hash) history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
  };
  const stop = $effect.root(() => {
    $effect(() => {
      void [lab.hash, lab.diffPrompts, lab.positive, lab.negative, lab.auditPrompts, lab.personas.length, lab.diff, lab.timeline.result];
      clearTimeout(timer);
      timer = setTimeout(write, delayMs);
    });
    $effect(() => {
      const ids = new Set(pg.presets.map((p) => p.id));
      if (pg.phase === 'ready') untrack(() => lab.prune(ids));
    });
    // After the playground is ready: its load ends by replacing the presets, which would hide ours if we went first.
    $effect(() => {
      if (pg.phase === 'ready' && pg.sae && pg.loadedModel) {
        void lab.restorePersonas();
        void lab.refreshPairs().catch(() => undefined);
      }
    });
  });
  addEventListener('pagehide', write);
  return () => {
    stop();
    removeEventListener('pagehide', write);
  };
}
