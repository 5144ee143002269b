// Errors from loading and running a model that a user can cause. Messages say what was expected and what was
// found; `name` survives the worker boundary and is how the UI tells them apart.

export class MissingFileError extends Error {
  constructor(readonly url: string, readonly status: number) {
    super(`Missing model file: ${url} answered HTTP ${status}. A model folder needs config.json, tokenizer.json, ` +
      `tokenizer_config.json and onnx/model*.onnx (Hugging Face layout).`);
    this.name = 'MissingFileError';
  }
}

export class DownloadError extends Error {
  constructor(readonly url: string, cause: string) {
    super(`Could not download ${url}: ${cause}. Check the address and your connection, then try again.`);
    this.name = 'DownloadError';
  }
}

export class ContextOverflowError extends Error {
  constructor(readonly tokens: number, readonly contextLength: number) {
    super(`The prompt is ${tokens} tokens long but the model's context window is ${contextLength} tokens: ` +
      `shorten it by at least ${tokens - contextLength + 1} tokens.`);
    this.name = 'ContextOverflowError';
  }
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/** A decoder graph whose inputs/outputs are outside the layouts we can feed (see runtime/layout.ts). */
export class UnsupportedGraphError extends Error {
  constructor(readonly file: string, readonly reason: string, readonly found: string, readonly expected: string) {
    super(`Cannot drive ${file}: ${reason}. Its inputs: ${found}. Expected: ${expected}.`);
    this.name = 'UnsupportedGraphError';
  }
}

/**
 * Optimum's merged decoder (`decoder_model_merged.onnx`): a bool `use_cache_branch` input selects one of two
 * subgraphs of an `If` node (optimum/onnx/graph_transformations.py, `merge_decoders`), so the residual stream lives
 * inside subgraphs that cannot be instrumented.
 */
export class MergedDecoderError extends UnsupportedGraphError {
  constructor(file: string, found: string) {
    super(
      file,
      "it is Optimum's merged decoder layout (decoder_model_merged.onnx: a use_cache_branch input and an If node whose " +
        'branches hold the model), whose residual stream sits inside the If subgraphs. Use a single-graph export ' +
        'instead: onnx/model.onnx as transformers.js publishes it, or optimum-cli export onnx --no-post-process',
      found,
      'a single-graph decoder (no use_cache_branch)',
    );
    this.name = 'MergedDecoderError';
  }
}

/** A float16 graph on a GPU adapter without WebGPU's `shader-f16` feature: why it runs on WASM instead. */
export function float16FallbackReason(adapter: string | undefined): string {
  return `This model computes in float16 and the GPU adapter (${adapter ?? 'unknown'}) lacks WebGPU's shader-f16 ` +
    'feature, so it runs on the CPU (WASM) instead. A float32 or q4 export (onnx/model.onnx, onnx/model_q4.onnx) runs on this GPU.';
}
