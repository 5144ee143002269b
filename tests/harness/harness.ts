// Exposes the engine's modules to Playwright tests and the benchmark (page.evaluate calls window.harness.*).
// Each area registers its own entry points here.
declare global {
  interface Window {
    harness: Record<string, unknown>;
  }
}
// Registering modules are imported (and so evaluated) before this body runs: each creates the registry if needed.
window.harness ??= {};
import './ort';
import './runtime';
import './sae';
import './sampling';
import './lab';
import './discover';
export {};
