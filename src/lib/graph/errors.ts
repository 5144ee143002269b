// Errors a user can cause by handing us a bad model file. Each says what was expected and what was found, so the
// UI can show the message as is; the `name` survives the worker boundary and is how callers tell them apart.

export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

export class ResidualNotFoundError extends Error {
  readonly searched: string[];
  constructor(searched: string[], detail = '') {
    super(
      `Could not find the residual stream in this ONNX graph${detail ? ` (${detail})` : ''}. Searched for: ` +
        `${searched.join('; ')}. Export the model with Optimum/torch.onnx (GPT-2 or Llama-family naming) or ` +
        `onnxruntime-genai, or keep one Add per residual connection.`,
    );
    this.name = 'ResidualNotFoundError';
    this.searched = searched;
  }
}

export class LayerOutOfRangeError extends Error {
  constructor(readonly layer: number, readonly nLayer: number) {
    super(`Layer ${layer} does not exist: this model has ${nLayer} layers (valid: 0..${nLayer - 1}).`);
    this.name = 'LayerOutOfRangeError';
  }
}
