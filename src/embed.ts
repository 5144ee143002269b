// The embed widget view of index.html (`?embed`; src/main.ts imports it on demand, so it carries none of the
// playground's UI): configured only from its URL, no local storage, so every embed of the same snippet starts the
// same way. `show=id,id` picks which persona sliders appear.
import { mount } from 'svelte';
import EmbedWidget from './components/embed/EmbedWidget.svelte';
import { Playground } from './lib/state/playground.svelte';
import { createEngine } from './lib/state/engine';
import { decodeExperiment } from './lib/ui/url-state';
import { registerServiceWorker } from './lib/ui/service-worker';
import { readBackendPreference } from './lib/ui/backend-preference';
import { Lab } from './lib/state/lab.svelte';
import { decodeLabView } from './lib/lab/url';
import LabPanel from './components/lab/LabPanel.svelte';

/** Title of the widget's page (index.html's own title names the full playground). */
const WIDGET_TITLE = 'Persona Playground widget';

/** Starts the embed widget in `target`, from the page's URL alone; `#lab=diff&…` adds the shared diff below it. */
export function startWidget(target: HTMLElement): void {
  document.title = WIDGET_TITLE;
  const offlineReady = registerServiceWorker();
  const backendPreference = readBackendPreference(location.search);
  // The engine's worker is started once the service worker controls the page, so its fetches (code chunks, model
  // files) go through it and are cached for offline use on this very first visit.
  const engine = navigator.serviceWorker?.controller ? Promise.resolve(createEngine()) : offlineReady.then(() => createEngine());
  // No token view to show first: the widget loads straight onto its final device.
  const pg = new Playground(engine, { baseUrl: document.baseURI, quickStart: false, backend: backendPreference.backend });
  if (backendPreference.warning) pg.notify('warning', `Link: ${backendPreference.warning}`);
  const { experiment, warnings } = decodeExperiment(location.search);
  pg.restore(experiment);
  for (const w of warnings) pg.notify('warning', `Link: ${w}`);
  const show = (new URLSearchParams(location.search).get('show') ?? '').split(',').filter(Boolean);

  mount(EmbedWidget, { target, props: { pg, appBase: document.baseURI, show } });

  // `#lab=diff&…&dr=…` adds the lab below the widget, showing the shared diff result (no local storage here either).
  const lab = decodeLabView(location.hash).tab ? new Lab(pg, engine, createEngine, null) : null;
  if (lab) {
    const labTarget = document.createElement('div');
    target.after(labTarget);
    mount(LabPanel, { target: labTarget, props: { pg, lab, appBase: document.baseURI } });
  }

  offlineReady
    .finally(() => pg.loadModel(pg.experiment.model))
    .then(() => lab?.refreshPairs())
    .catch(() => undefined);
}
