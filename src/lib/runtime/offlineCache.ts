// Model files the offline service worker (public/sw.js) has cached are read straight from Cache Storage here, in the
// page or the engine worker: the same response its cache-first rule for `…/models/…` would answer with, without the
// hop through its fetch handler. On a warm start that hop is the slow part: it shares two cores with ORT's WebAssembly
// compile, and the q4 graph took 0.4–0.5 s through it against ~20 ms read directly (tests/bench/BENCHMARKS.md).

/**
 * Cache Storage names sw.js keeps model files under (`persona-playground-models-<VERSION>`; it deletes other
 * versions' caches when it activates). Looked up by prefix so that a version bump there needs no change here.
 */
export const MODEL_CACHE_PREFIX = 'persona-playground-models-';

/**
 * The service worker's cached response for a model file at `url`, or undefined (not a same-origin `…/models/…` URL,
 * not cached, or Cache Storage unavailable), in which case the caller fetches as usual. The rule mirrors sw.js's
 * `isModel`, cache-first there too; pages and other files stay network-first. The worker's model cache is looked up
 * by name rather than asking whether a worker controls this context: the engine's dedicated worker is served by its
 * page's service worker but does not see it (`navigator.serviceWorker?.controller` is unset there in Chromium).
 */
export async function cachedModelFile(url: string): Promise<Response | undefined> {
  if (typeof caches === 'undefined') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.origin !== globalThis.location?.origin || !parsed.pathname.includes('/models/')) return undefined;
  try {
    for (const name of await caches.keys()) {
      if (!name.startsWith(MODEL_CACHE_PREFIX)) continue;
      const hit = await (await caches.open(name)).match(parsed.href, { ignoreSearch: true, ignoreVary: true });
      if (hit) return hit;
    }
  } catch {
    // No Cache Storage here (an opaque origin, storage blocked): fetch as usual.
  }
  return undefined;
}
