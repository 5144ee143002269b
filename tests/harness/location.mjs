// Where the engine test/benchmark harness page lives, for every spec, playwright.config.ts and the bench runners.
// Plain JavaScript so that the Node bench runners import it as they are; types in location.d.mts.

/**
 * Path of the harness page on the Vite dev server, relative to the server's root (no leading slash, so it joins a
 * base URL ending in `/`). Served by the dev server only: the static build's input is the app alone.
 */
export const HARNESS_PATH = 'tests/harness/index.html';
