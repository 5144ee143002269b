// Entry of the embed widget (embed.html): configured only from its URL, no local storage, so every embed of the
// same snippet starts the same way. `show=id,id` picks which persona sliders appear.
import { mount } from 'svelte';
import EmbedWidget from './components/embed/EmbedWidget.svelte';
import './lib/ui/theme.css';
import { Playground } from './lib/state/playground.svelte';
import { createEngine } from './lib/state/engine';
import { decodeExperiment } from './lib/ui/url-state';
import { registerServiceWorker } from './lib/ui/service-worker';
import { readBackendPreference } from './lib/ui/backend-preference';

const offlineReady = registerServiceWorker();
const backendPreference = readBackendPreference(location.search);
const pg = new Playground(
  // The engine's worker is started once the service worker controls the page, so its fetches (code chunks, model
  // files) go through it and are cached for offline use on this very first visit.
  navigator.serviceWorker?.controller ? createEngine() : offlineReady.then(() => createEngine()),
  // No token view to show first: the widget loads straight onto its final device.
  { baseUrl: document.baseURI, quickStart: false, backend: backendPreference.backend },
);
if (backendPreference.warning) pg.notify('warning', `Link: ${backendPreference.warning}`);
const { experiment, warnings } = decodeExperiment(location.search);
pg.restore(experiment);
for (const w of warnings) pg.notify('warning', `Link: ${w}`);
const show = (new URLSearchParams(location.search).get('show') ?? '').split(',').filter(Boolean);

mount(EmbedWidget, { target: document.getElementById('app')!, props: { pg, appBase: document.baseURI, show } });

offlineReady.finally(() => pg.loadModel(pg.experiment.model));
