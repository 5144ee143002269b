// The playground view of index.html (the default; src/main.ts imports it on demand): restore the experiment (link,
// else last visit), make the engine, mount the app, and keep the URL and local storage in step with every change.
import { mount } from 'svelte';
import App from './App.svelte';
import { Playground } from './lib/state/playground.svelte';
import { createEngine } from './lib/state/engine';
import { syncExperiment } from './lib/state/sync.svelte';
import { Lab } from './lib/state/lab.svelte';
import { syncLab } from './lib/state/labSync.svelte';
import { restoreExperiment, safeLocalStorage } from './lib/ui/persistence';
import { registerServiceWorker } from './lib/ui/service-worker';
import { readBackendPreference } from './lib/ui/backend-preference';
import { installLocalFolderFetch } from './lib/runtime/localFolder';

/** Starts the full playground in `target`: engine, state restored from the link or the last visit, the app, sync. */
export function startPlayground(target: HTMLElement): void {
  // Folders opened from disk are answered by fetch on this page (and in the engine worker), never uploaded.
  installLocalFolderFetch();

  const storage = safeLocalStorage();
  const backendPreference = readBackendPreference(location.search);
  const offlineReady = registerServiceWorker();
  // The engine's worker is started once the service worker controls the page, so its fetches (code chunks, model
  // files) go through it and are cached for offline use on this very first visit.
  // A lost GPU is recovered inside the engine; the Playground tells the user, who keeps their prompt and settings.
  // A returning visit is controlled already: start the worker at once.
  const engine = navigator.serviceWorker?.controller ? Promise.resolve(createEngine()) : offlineReady.then(() => createEngine());
  const pg = new Playground(engine, { baseUrl: document.baseURI, backend: backendPreference.backend });
  if (backendPreference.warning) pg.notify('warning', `Link: ${backendPreference.warning}`);
  // The lab's persona vectors and audit use the playground's engine; its model diff makes engines of its own.
  const lab = new Lab(pg, engine, createEngine, storage);
  const restored = restoreExperiment(location.search, storage);
  if (restored.experiment) pg.restore(restored.experiment);
  for (const w of restored.warnings) pg.notify('warning', `Link: ${w}`);

  mount(App, { target, props: { pg, lab, appBase: document.baseURI } });
  syncExperiment(pg, storage);
  syncLab(lab, pg);

  // Marks for the start-up benchmark: the first coloured token view is what a visitor waits for.
  offlineReady
    .finally(() => pg.start())
    .then(() => {
      if (pg.analysis) performance.mark('playground:first-token-view');
    });
}
