// The SAE as the engine uses it, on either backend: GPU kernels reading ORT's captured buffers directly, or the
// TypeScript reference on the WASM path. Both answer the same questions with the same shapes.
import { SaeGpu, type MonitorSpec, type SaeGpuAnalysis } from '../gpu/sae';
import { createStorageBuffer } from '../gpu/device';
import type { SaeWeights } from '../sae';
import type { RowSteering } from '../steering/personas';

export { CpuSaeBackend, cpuSaeLegacy } from './cpuSaeBackend';

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
