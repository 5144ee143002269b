// The SAE on the WASM path: the TypeScript reference answering the same questions as the GPU kernels, with the same
// shapes. Its own module (no GPU imports) so that it loads and is unit-tested where WebGPU does not exist.
import type { MonitorSpec, SaeGpuAnalysis } from '../gpu/sae';
import { saeReference, type SaeWeights } from '../sae';
import type { RowSteering } from '../steering/personas';
import type { CapturedInput, RowSelection, SaeBackend } from './saeBackend';

/**
 * The CPU path before one-pass top-k and before it honoured `reconstruction: false` (full sorts, decode and error
 * on every call). Off in the app; `tests/bench/suites/15-wasm.mjs` turns it on for one subject to measure before and
 * after in the same run. Read when a `CpuSaeBackend` is constructed.
 */
export const cpuSaeLegacy = { enabled: false };

export class CpuSaeBackend implements SaeBackend {
  private monitors: MonitorSpec[] = [];
  private readonly legacy = cpuSaeLegacy.enabled;
  constructor(readonly sae: SaeWeights) {}

  setMonitors(specs: MonitorSpec[]): void {
    this.monitors = specs.map((s) => {
      if (!s.vector) return s;
      const norm = Math.hypot(...s.vector) || 1;
      return { ...s, vector: s.vector.map((v) => v / norm) };
    });
  }

  /**
   * Same answers as `GpuSaeBackend.analyse`: top-`topK` latents per token [tokens, k] (value descending, ties to the
   * lower index), the reconstruction error [tokens] (zeros when `reconstruction` is false: decode is skipped, as on
   * the GPU) and each monitor's reading [tokens].
   */
  async analyse(input: CapturedInput, select: RowSelection, topK: number, options: { reconstruction?: boolean } = {}): Promise<SaeGpuAnalysis> {
    const { dIn, dSae } = this.sae.config;
    const all = await input.read();
    const x = new Float32Array(select.tokens * dIn);
    for (let t = 0; t < select.tokens; t++) {
      const r = Math.floor(t / select.tokensPerRow);
      const p = t % select.tokensPerRow;
      const from = select.offset + r * select.rowStride + p * dIn;
      x.set(all.subarray(from, from + dIn), t * dIn);
    }
    const tokens = select.tokens;
    const xn = saeReference.preprocess(this.sae.config, x, tokens);
    const acts = saeReference.activate(this.sae, saeReference.preActivations(this.sae, xn, tokens), tokens, this.legacy ? 'sort' : 'select');
    const k = Math.max(1, Math.min(topK, dSae));
    const top = saeReference.topK(acts, tokens, dSae, k, this.legacy ? 'sort' : 'select');
    const withError = this.legacy || (options.reconstruction ?? true);
    const reconstructionError = withError
      ? saeReference.reconstructionError(xn, saeReference.decode(this.sae, acts, tokens), tokens, dIn)
      : new Float32Array(tokens);
    const monitor: Record<string, Float32Array> = {};
    for (const m of this.monitors) {
      const out = new Float32Array(tokens);
      const sumAbs = m.latents.reduce((a, l) => a + Math.abs(l.coefficient), 0) || 1;
      for (let t = 0; t < tokens; t++) {
        if (m.vector) {
          let s = 0;
          for (let i = 0; i < dIn; i++) s += x[t * dIn + i] * m.vector[i];
          out[t] = s;
        } else {
          let s = 0;
          for (const l of m.latents) s += l.coefficient * acts[t * dSae + l.latent];
          out[t] = s / sumAbs;
        }
      }
      monitor[m.id] = out;
    }
    return { k, indices: top.indices, values: top.values, reconstructionError, monitor };
  }

  steering(rows: RowSteering[]): Float32Array {
    const d = this.sae.config.dIn;
    const out = new Float32Array(rows.length * d);
    rows.forEach((row, r) => out.set(saeReference.composeSteering(this.sae, row.latents, row.vectors), r * d));
    return out;
  }

  dispose(): void {}
}
