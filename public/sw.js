// Offline support for the playground. Scope is the folder this file is served from, so the app works under any
// sub-path. Model files (…/models/…) are large and immutable per release: cache-first. Hashed build assets:
// cache-first too. Pages and everything else: network-first with the cache as the fallback when offline.
const VERSION = 'v1';
const SHELL = `persona-playground-shell-${VERSION}`;
// src/lib/runtime/offlineCache.ts reads model files straight from this cache, finding it by its name's prefix.
const MODELS = `persona-playground-models-${VERSION}`;
const scopeUrl = new URL(self.registration.scope);
// The page (its views are chosen by the query: `?embed` is the widget) and the forwarder that keeps old embed links
// (embed.html?…) working offline too, with its script.
const PAGES = ['./', './index.html', './embed.html', './embed-redirect.js'].map((p) => new URL(p, scopeUrl).href);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => Promise.all(PAGES.map((url) => cache.add(url).catch(() => undefined))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith('persona-playground-') && k !== SHELL && k !== MODELS)
            .map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

function isModel(url) {
  return url.pathname.startsWith(scopeUrl.pathname) && url.pathname.includes('/models/');
}

function isHashedAsset(url) {
  return url.pathname.startsWith(`${scopeUrl.pathname}assets/`);
}

function cacheFor(url) {
  return isModel(url) ? MODELS : SHELL;
}

async function cacheFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(request, { ignoreSearch: isModel(new URL(request.url)), ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.status === 200) cache.put(request, response.clone()).catch(() => undefined);
  return response;
}

async function networkFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok && response.status === 200) cache.put(request, response.clone()).catch(() => undefined);
    return response;
  } catch (error) {
    // A page navigated to with a query it was not cached under (`index.html?embed&…`, `embed.html?…`) is the same
    // page: match without the query, else fall back to the app's page (or the forwarder, for an old embed link).
    const navigate = request.mode === 'navigate';
    const fallback = new URL(request.url).pathname.endsWith('embed.html') ? './embed.html' : './';
    const hit =
      (await cache.match(request, { ignoreSearch: navigate, ignoreVary: true })) ??
      (navigate ? await cache.match(new URL(fallback, scopeUrl).href) : undefined);
    if (hit) return hit;
    throw error;
  }
}

// Cross-origin isolation where the host cannot send headers (GitHub Pages, a USB stick served by any static server):
// every response this worker serves carries COOP/COEP, so pages it serves (from the second visit on: isolation is
// decided when a page is navigated to) get SharedArrayBuffer and ORT runs its WASM kernels on several threads. The
// rule is gzuidhof/coi-serviceworker's (coi-serviceworker.js, fetch handler): COOP same-origin, COEP require-corp,
// opaque responses passed through untouched. Cross-origin fetches (hub models) are CORS requests, which
// require-corp allows.
function isolated(response) {
  if (response.status === 0 || response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== scopeUrl.origin || !url.pathname.startsWith(scopeUrl.pathname)) return;
  // Range requests would be cached as partial content; let the network answer them.
  if (request.headers.has('range')) return;
  if (isModel(url) || isHashedAsset(url)) event.respondWith(cacheFirst(request, cacheFor(url)).then(isolated));
  else event.respondWith(networkFirst(request, SHELL).then(isolated));
});

// The page lists what it loaded before this worker controlled it, so the first visit is enough to go offline.
self.addEventListener('message', (event) => {
  const data = event.data;
  if (!data || data.type !== 'cache-urls' || !Array.isArray(data.urls)) return;
  event.waitUntil(
    Promise.all(
      data.urls.map(async (raw) => {
        try {
          const url = new URL(raw);
          if (url.origin !== scopeUrl.origin || !url.pathname.startsWith(scopeUrl.pathname)) return;
          const cache = await caches.open(cacheFor(url));
          if (await cache.match(url.href, { ignoreSearch: isModel(url), ignoreVary: true })) return;
          const response = await fetch(url.href);
          if (response.ok && response.status === 200) await cache.put(url.href, response);
        } catch {
          // One file that fails to cache must not stop the others.
        }
      }),
    ),
  );
});
