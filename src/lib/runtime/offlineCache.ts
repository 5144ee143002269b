// Model files the offline service worker (public/sw.js) has cached are read straight from Cache Storage here, in the
// page or the engine worker: the same response its cache-first rule for `…/models/…` would answer with, without the
// hop through its fetch handler. On a warm start that hop is the slow part: it shares two cores with ORT's WebAssembly
// compile, and the q4 graph took 0.4–0.5 s through it against ~20 ms read directly (tests/bench/BENCHMARKS.md).

/**
 * Whether this context is served by a service worker. A dedicated worker asks its own `navigator.serviceWorker`
 * (it is controlled by its page's worker); a context without the API (Node.js, an old browser) says no.
 */
function controlled(): boolean {
  const container = (globalThis.navigator as { serviceWorker?: { controller?: unknown } } | undefined)?.serviceWorker;
  return container?.controller != null;
}

/**
 * The service worker's cached response for a model file at `url`, or undefined (not controlled, not a same-origin
 * `…/models/…` URL, not cached yet, or Cache Storage unavailable), in which case the caller fetches as usual. The
 * rule mirrors sw.js's `isModel`: only model files are cache-first there; pages and other files stay network-first.
 */
export async function cachedModelFile(url: string): Promise<Response | undefined> {
  if (typeof caches === 'undefined' || !controlled()) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.origin !== globalThis.location?.origin || !parsed.pathname.includes('/models/')) return undefined;
  try {
    return (await caches.match(parsed.href, { ignoreSearch: true, ignoreVary: true })) ?? undefined;
  } catch {
    return undefined;
  }
}
