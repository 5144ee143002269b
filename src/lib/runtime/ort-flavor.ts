// Which onnxruntime-web build this browser runs. Both carry the WASM CPU execution provider and the native WebGPU
// one; they differ in how the WebAssembly module waits for the GPU (an async call inside wasm):
// - 'jspi': JavaScript Promise Integration (`WebAssembly.Suspending` / `WebAssembly.promising`, Chromium >= 137),
//   ort.jspi + ort-wasm-simd-threaded.jspi.wasm, 4.1 MB gzipped;
// - 'asyncify': the same wasm rewritten by Binaryen's Asyncify to unwind and rewind its own stack, which runs
//   everywhere, ort.webgpu + ort-wasm-simd-threaded.asyncify.wasm, 6.6 MB gzipped.

/** An onnxruntime-web build: JSPI where the browser has it, Asyncify elsewhere. */
export type OrtFlavor = 'jspi' | 'asyncify';

export const ORT_FLAVORS: readonly OrtFlavor[] = ['jspi', 'asyncify'];

/** What the choice depends on: whether this context's WebAssembly has JSPI's two entry points. */
export interface OrtFeatures {
  /** `WebAssembly.Suspending` is a constructor (wraps an async import). */
  suspending: boolean;
  /** `WebAssembly.promising` is a function (wraps an export so it returns a promise). */
  promising: boolean;
}

/** JSPI's entry points as this context (page or worker) has them; a context without WebAssembly has neither. */
export function detectOrtFeatures(scope: { WebAssembly?: unknown } = globalThis): OrtFeatures {
  const wasm = scope.WebAssembly as { Suspending?: unknown; promising?: unknown } | undefined;
  return { suspending: typeof wasm?.Suspending === 'function', promising: typeof wasm?.promising === 'function' };
}

/**
 * The build to load: `forced` when given (tests, benchmarks), else 'jspi' when both JSPI entry points exist and
 * 'asyncify' otherwise (a browser with only one of them has a pre-standard JSPI that ORT's build cannot use).
 */
export function chooseOrtFlavor(features: OrtFeatures, forced?: OrtFlavor | null): OrtFlavor {
  if (forced) return forced;
  return features.suspending && features.promising ? 'jspi' : 'asyncify';
}

/** `value` as a flavour (`?ort=jspi|asyncify`), or null when it names none. */
export function parseOrtFlavor(value: string | null | undefined): OrtFlavor | null {
  return (ORT_FLAVORS as readonly string[]).includes(value ?? '') ? (value as OrtFlavor) : null;
}
