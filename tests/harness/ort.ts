// `?ort=jspi|asyncify` on the harness page (tests/harness/index.html) makes this page's engines load that onnxruntime-web build instead of the one
// feature detection picks (src/lib/runtime/ort-flavor.ts); engines in workers choose their own. `harness.ort.flavor()`
// says which build the page runs, `harness.ort.wasm()` which .wasm it fetched (null before the first model).
import { forceOrtFlavor, ortFlavor, ortWasmPaths } from '../../src/lib/runtime/ort';
import { parseOrtFlavor } from '../../src/lib/runtime/ort-flavor';

const asked = new URLSearchParams(location.search).get('ort');
if (asked !== null) {
  const flavor = parseOrtFlavor(asked);
  if (!flavor) throw new Error(`?ort=${asked}: expected jspi or asyncify`);
  forceOrtFlavor(flavor);
}

window.harness ??= {};
window.harness.ort = {
  flavor: () => ortFlavor(),
  wasm: () =>
    performance
      .getEntriesByType('resource')
      .map((e) => e.name)
      .find((u) => u.endsWith('.wasm')) ?? null,
  wasmUrl: () => ortWasmPaths().wasm,
};
