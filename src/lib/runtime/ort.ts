// The only module that imports onnxruntime-web. We use the native WebGPU build (`onnxruntime-web/webgpu`), which
// also carries the WASM CPU execution provider, and serve its .wasm from our own bundle: never from a CDN, so the
// app works offline and from any static host.
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { InferenceSession, OrtApi } from './ort-types';
import { PRIMER_MODEL } from './primer';

let configured = false;

/** Where ORT's .wasm lives in our bundle; also handed to transformers.js in the benchmark so it never uses a CDN. */
export function ortWasmPaths(): { wasm: string } {
  return { wasm: new URL(wasmUrl, self.location.href).href };
}

/** ORT with its environment set up for this page or worker. */
export function getOrt(): OrtApi {
  if (!configured) {
    ort.env.wasm.wasmPaths = ortWasmPaths();
    // Threads need SharedArrayBuffer, which only cross-origin-isolated pages get.
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    ort.env.wasm.numThreads = isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    ort.env.logLevel = 'error';
    configured = true;
  }
  return ort as unknown as OrtApi;
}

/** Threads ORT's WASM execution provider runs on in this page or worker (1 unless cross-origin isolated). */
export function wasmThreads(): number {
  return (getOrt() as unknown as { env: { wasm: { numThreads?: number } } }).env.wasm.numThreads ?? 1;
}

let primed: Promise<void> | undefined;

/**
 * Starts the WASM runtime now, so it is up by the time the real model's bytes are downloaded and instrumented.
 * Every session creation awaits this first: ORT's backends (wasm, webgpu) each initialise the one runtime, and a
 * second initialisation while the first is still running fails ("multiple calls to 'initWasm()'").
 */
export function primeOrt(): Promise<void> {
  primed ??= getOrt()
    .InferenceSession.create(PRIMER_MODEL, { executionProviders: ['wasm'] })
    .then((session) => session.release())
    .catch(() => undefined);
  return primed;
}

/**
 * Session options for an execution provider. On WebGPU, ORT runs on the device we created (shared with the SAE
 * kernels); `cpuNodes` are node names kept on the CPU (rotary Sin/Cos: WGSL trig is too coarse on some GPUs).
 */
export function sessionOptionsFor(
  backend: 'webgpu' | 'wasm',
  device?: GPUDevice,
  cpuNodes: string[] = [],
): InferenceSession.SessionOptions {
  const webgpu = { name: 'webgpu', ...(device ? { device } : {}), ...(cpuNodes.length ? { forceCpuNodeNames: cpuNodes } : {}) };
  const executionProviders: InferenceSession.SessionOptions['executionProviders'] =
    backend === 'webgpu' ? [webgpu as { name: 'webgpu' }] : ['wasm'];
  // On the CPU, 'all' (layout transforms for convolutions) slows both session creation and runs of these graphs:
  // measured on Voices q4 in WASM, create 430 → 255 ms, first run 280 → 60 ms, later runs 100 → 60 ms.
  return { executionProviders, graphOptimizationLevel: backend === 'webgpu' ? 'all' : 'extended' };
}

/** The GPUDevice ORT created for itself (when no device was passed in), once a WebGPU session exists. */
export async function ortOwnDevice(): Promise<GPUDevice | undefined> {
  return (await ort.env.webgpu.device) as GPUDevice | undefined;
}
