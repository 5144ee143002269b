// Exposes the engine's modules to Playwright tests and the benchmark (page.evaluate calls window.harness.*).
// Each area registers its own entry points here.
declare global {
  interface Window {
    harness: Record<string, unknown>;
  }
}
window.harness = {};
export {};
