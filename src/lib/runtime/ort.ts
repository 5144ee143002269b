// The only module that imports onnxruntime-web. ORT comes in two builds with the same API (ort-flavor.ts): JSPI
// where the browser has it (a smaller wasm), Asyncify elsewhere; each is a chunk of its own, loaded on first use, so
// a page fetches only the one it runs. Both carry the WASM CPU execution provider and the native WebGPU one. We
// serve their .wasm from our own bundle: never from a CDN, so the app works offline and from any static host.
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import jspiWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jspi.wasm?url';
import type { InferenceSession, OrtApi } from './ort-types';
import { chooseOrtFlavor, detectOrtFeatures, type OrtFlavor } from './ort-flavor';
import { PRIMER_MODEL } from './primer';

type OrtModule = typeof import('onnxruntime-web/webgpu');

const BUILDS: Record<OrtFlavor, { module: () => Promise<OrtModule>; wasm: string }> = {
  jspi: { module: () => import('onnxruntime-web/jspi'), wasm: jspiWasmUrl },
  asyncify: { module: () => import('onnxruntime-web/webgpu'), wasm: asyncifyWasmUrl },
};

let forced: OrtFlavor | null = null;
let loaded: { flavor: OrtFlavor; module: Promise<OrtModule> } | undefined;
let ready: OrtModule | undefined;

/** Thrown when a build is forced after this context has already loaded the other one. */
export class OrtFlavorError extends Error {
  constructor(wanted: OrtFlavor, running: OrtFlavor) {
    super(`ORT's ${running} build is already loaded in this context; ${wanted} can only be chosen before the first model`);
    this.name = 'OrtFlavorError';
  }
}

/** Makes this context load `flavor` (null: choose by feature detection again). Tests and benchmarks only. */
export function forceOrtFlavor(flavor: OrtFlavor | null): void {
  if (loaded && flavor && flavor !== loaded.flavor) throw new OrtFlavorError(flavor, loaded.flavor);
  forced = flavor;
}

/** The ORT build this context runs (or will run, before the first model). */
export function ortFlavor(): OrtFlavor {
  return loaded?.flavor ?? chooseOrtFlavor(detectOrtFeatures(), forced);
}

/**
 * Where a build's .wasm lives in our bundle (default: the one this context runs); also handed to transformers.js in
 * the benchmark (its ORT is the Asyncify build) so it never uses a CDN.
 */
export function ortWasmPaths(flavor: OrtFlavor = ortFlavor()): { wasm: string } {
  return { wasm: new URL(BUILDS[flavor].wasm, self.location.href).href };
}

/** ORT (the build ortFlavor() names) with its environment set up for this page or worker. */
export async function loadOrt(): Promise<OrtApi> {
  if (!loaded) {
    const flavor = ortFlavor();
    loaded = {
      flavor,
      module: BUILDS[flavor].module().then((ort) => {
        ort.env.wasm.wasmPaths = ortWasmPaths(flavor);
        ort.env.wasm.numThreads = wasmThreads();
        ort.env.logLevel = 'error';
        ready = ort;
        return ort;
      }),
    };
  }
  return (await loaded.module) as unknown as OrtApi;
}

/** Threads ORT's WASM execution provider runs on in this page or worker (1 unless cross-origin isolated). */
export function wasmThreads(): number {
  // Threads need SharedArrayBuffer, which only cross-origin-isolated pages get.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
}

let primed: Promise<void> | undefined;

/**
 * Starts the WASM runtime now, so it is up by the time the real model's bytes are downloaded and instrumented.
 * Every session creation awaits this first: ORT's backends (wasm, webgpu) each initialise the one runtime, and a
 * second initialisation while the first is still running fails ("multiple calls to 'initWasm()'").
 */
export function primeOrt(): Promise<void> {
  primed ??= loadOrt()
    .then((ort) => ort.InferenceSession.create(PRIMER_MODEL, { executionProviders: ['wasm'] }))
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
  return ready ? ((await ready.env.webgpu.device) as GPUDevice | undefined) : undefined;
}
