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
