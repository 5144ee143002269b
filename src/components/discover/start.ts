// Starts Discover in the page (index.html with `?discover=<n>`, in the embed frame with `embed`): loaded on demand by
// the page's entry (src/main.ts), so the playground's first load does not carry it. Reads the step and model from the
// address, keeps the address in step with Next/Back (history entries, so the browser's Back works) and hands the
// service worker every file the steps use, so the whole walkthrough works offline after one visit.
import { mount } from 'svelte';
import DiscoverApp from './DiscoverApp.svelte';
import { Discover } from '../../lib/state/discover.svelte';
import { createEngine } from '../../lib/state/engine';
import { readDiscoverStep, discoverQuery } from '../../lib/discover/steps';
import { discoverFiles } from '../../lib/discover/offline';
import { loadDiscoverRecipe } from '../../lib/discover/loadRecipe';
import { absoluteFolder, DEFAULT_MODEL, resolveModel } from '../../lib/ui/models';
import { registerServiceWorker } from '../../lib/ui/service-worker';
import { readBackendPreference } from '../../lib/ui/backend-preference';

export function startDiscover(target: HTMLElement, embed: boolean): Discover {
  const offlineReady = registerServiceWorker();
  const found = readDiscoverStep(location.search) ?? { step: 1, warning: null };
  const model = new URLSearchParams(location.search).get('m') ?? DEFAULT_MODEL;
  const folder = absoluteFolder(resolveModel(model).folder, document.baseURI);
  const d = new Discover({
    createEngine,
    loadRecipe: loadDiscoverRecipe,
    folder,
    backend: readBackendPreference(location.search).backend,
    step: found.step,
  });
  if (found.warning) d.error = found.warning;

  const show = (step: number) => {
    document.title = `Discover ${step}/6 — Persona Playground`;
    void d.show(step);
  };
  const navigate = (step: number) => {
    if (step === d.step) return;
    history.pushState({ discover: step }, '', discoverQuery(location.search, step));
    show(step);
  };
  addEventListener('popstate', () => {
    const s = readDiscoverStep(location.search);
    if (s) show(s.step);
  });

  mount(DiscoverApp, {
    target,
    props: {
      d,
      embed,
      appBase: document.baseURI,
      search: location.search,
      onnavigate: navigate,
    },
  });

  void offlineReady
    .finally(() => d.start())
    .then(() => {
      if (d.recipe) {
        const urls = discoverFiles(d.recipe, d.recipe.files);
        (navigator.serviceWorker?.controller as ServiceWorker | null | undefined)?.postMessage({ type: 'cache-urls', urls });
      }
      show(d.step);
    });
  return d;
}
