// Registers the offline service worker (public/sw.js) relative to the page, so it works under any sub-path.
// On the first visit the page is not yet controlled; waiting briefly for control lets the model files that the
// engine fetches next go through the worker and into its cache.

export async function registerServiceWorker(waitForControlMs = 4000): Promise<void> {
  if (!('serviceWorker' in navigator) || !import.meta.env.PROD) return;
  try {
    await navigator.serviceWorker.register(new URL('sw.js', document.baseURI), { scope: './' });
    if (navigator.serviceWorker.controller) return;
    await Promise.race([
      new Promise<void>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true })),
      new Promise<void>((resolve) => setTimeout(resolve, waitForControlMs)),
    ]);
    // The page's own files were fetched before the worker took over: hand their URLs over to be cached.
    const urls = performance
      .getEntriesByType('resource')
      .map((e) => e.name)
      .concat(location.href);
    (navigator.serviceWorker.controller as ServiceWorker | null)?.postMessage({ type: 'cache-urls', urls });
  } catch (error) {
    console.warn('Offline support unavailable:', error);
  }
}
