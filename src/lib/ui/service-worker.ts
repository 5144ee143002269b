// Registers the offline service worker (public/sw.js) relative to the page, so it works under any sub-path.
// On the first visit the page is not yet controlled; waiting briefly for control lets the model files that the
// engine fetches next go through the worker and into its cache.

export async function registerServiceWorker(waitForControlMs = 4000): Promise<void> {
  if (!('serviceWorker' in navigator) || !import.meta.env.PROD) return;
  try {
    const registration = navigator.serviceWorker.register(new URL('sw.js', document.baseURI), { scope: './' });
    // A returning visit is already served by the worker: start at once; the update check runs on its own.
    if (navigator.serviceWorker.controller) {
      registration.catch((error: unknown) => console.warn('Service worker update failed:', error));
      return;
    }
    await registration;
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
