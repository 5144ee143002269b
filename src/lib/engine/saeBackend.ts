// The SAE as the engine uses it, on either backend: GPU kernels reading ORT's captured buffers directly, or the
// TypeScript reference on the WASM path. Both answer the same questions with the same shapes.
import { SaeGpu, type MonitorSpec, type SaeGpuAnalysis } from '../gpu/sae';
import { createStorageBuffer } from '../gpu/device';
import { saeReference, type SaeWeights } from '../sae';
import type { RowSteering } from '../steering/personas';

/** Which residual rows to read out of a captured [rows, positions, hidden] tensor. */
export interface RowSelection {
  /** Float offset of the first position read. */
  offset: number;
  rowStride: number;
  tokensPerRow: number;
  tokens: number;
}

export interface CapturedInput {
  gpuBuffer?: GPUBuffer;
  read(): Promise<Float32Array>;
}

export interface SaeBackend {
  readonly sae: SaeWeights;
  setMonitors(specs: MonitorSpec[]): void;
  /** `reconstruction: false` skips decode and the error (generation does not report it). */
  analyse(input: CapturedInput, select: RowSelection, topK: number, options?: { reconstruction?: boolean }): Promise<SaeGpuAnalysis>;
  /** Steering vectors [rows, 1, dIn] in the form the runtime feeds (a GPU buffer on WebGPU). */
  steering(rows: RowSteering[]): Float32Array | GPUBuffer;
  dispose(): void;
}

export class GpuSaeBackend implements SaeBackend {
  readonly gpu: SaeGpu;
  private steerBuffers: GPUBuffer[] = [];
  constructor(
    readonly device: GPUDevice,
    readonly sae: SaeWeights,
  ) {
    this.gpu = new SaeGpu(device, sae);
  }

  setMonitors(specs: MonitorSpec[]): void {
    this.gpu.setMonitors(specs);
  }

  analyse(input: CapturedInput, select: RowSelection, topK: number, options: { reconstruction?: boolean } = {}): Promise<SaeGpuAnalysis> {
    if (!input.gpuBuffer) throw new Error('GpuSaeBackend needs the captured residual on the GPU.');
    return this.gpu.analyse({ buffer: input.gpuBuffer, ...select }, topK, options);
  }

  steering(rows: RowSteering[]): GPUBuffer {
    const d = this.sae.config.dIn;
    const buffer = createStorageBuffer(this.device, 'Playground.steering', rows.length * d * 4);
    const encoder = this.device.createCommandEncoder({ label: 'Playground.steering' });
    const cleanup = this.gpu.composeSteering(encoder, rows, { buffer, offset: 0, rowStride: d });
    this.device.queue.submit([encoder.finish()]);
    cleanup();
    this.steerBuffers.push(buffer);
    return buffer;
  }

  /** Frees steering buffers of finished generations. */
  releaseSteering(): void {
    for (const b of this.steerBuffers) b.destroy();
    this.steerBuffers = [];
  }

  dispose(): void {
    this.releaseSteering();
    this.gpu.destroy();
  }
}

export class CpuSaeBackend implements SaeBackend {
  private monitors: MonitorSpec[] = [];
  constructor(readonly sae: SaeWeights) {}

  setMonitors(specs: MonitorSpec[]): void {
    this.monitors = specs.map((s) => {
      if (!s.vector) return s;
      const norm = Math.hypot(...s.vector) || 1;
      return { ...s, vector: s.vector.map((v) => v / norm) };
    });
  }

  async analyse(input: CapturedInput, select: RowSelection, topK: number): Promise<SaeGpuAnalysis> {
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
    const acts = saeReference.activate(this.sae, saeReference.preActivations(this.sae, xn, tokens), tokens);
    const k = Math.max(1, Math.min(topK, dSae));
    const top = saeReference.topK(acts, tokens, dSae, k);
    const reconstructionError = saeReference.reconstructionError(xn, saeReference.decode(this.sae, acts, tokens), tokens, dIn);
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
