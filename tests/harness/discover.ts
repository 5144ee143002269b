// Browser-side references for Discover's tests: the lab's model diff between two model folders on in-thread engines,
// and the persona monitor's readings of one text, computed apart from the Discover page that shows them.
import { createPlaygroundEngine } from '../../src/lib/engine/playground';
import { rankDiffs } from '../../src/lib/lab/diff';
import { runModelDiff } from '../../src/lib/lab/runDiff';
import { personaReadings } from '../../src/lib/ui/persona-readings';

const abs = (u: string) => new URL(u, location.href).href;

window.harness ??= {};
window.harness.discover = {
  /** runModelDiff of model A against model B on `texts` (strings or token ids), the top `n` by increase. */
  async diff(a: { folder: string; onnx: string }, b: { folder: string; onnx: string }, sae: string, texts: (string | number[])[], n: number) {
    const pair = {
      id: 'test',
      label: 'test',
      a: { label: 'A', folder: abs(a.folder), onnxFile: a.onnx },
      b: { label: 'B', folder: abs(b.folder), onnxFile: b.onnx },
      sae: abs(sae),
    };
    const out = await runModelDiff(() => createPlaygroundEngine(), pair, texts);
    const all = rankDiffs(out.diffs, 'mean', 'increase', out.diffs.length);
    return { top: all.slice(0, n).map((d) => ({ latent: d.latent, delta: d.meanDelta })), order: all.map((d) => d.latent), active: out.diffs.length };
  },

  /** Each persona's mean monitor reading on `text` with the model in `folder` (its q4 graph). */
  async readings(folder: string, sae: string, text: string) {
    const engine = createPlaygroundEngine();
    await engine.loadModel({ baseUrl: abs(folder), onnxFile: 'onnx/model_q4.onnx' }, { backend: 'auto' });
    await engine.loadSae(abs(sae));
    const analysis = await engine.analyse(text, 16);
    const presets = await engine.personas();
    await engine.dispose();
    return personaReadings(analysis, presets).map((r) => ({ id: r.id, reading: r.reading }));
  },
};
export {};
