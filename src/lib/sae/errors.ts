// Typed errors for everything a user can get wrong when bringing an SAE: each says what was expected and what was
// found, so the UI can show it verbatim and keep the previously loaded SAE.

export class SaeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The safetensors file is truncated, its header lies, or it holds a dtype we cannot read. */
export class SafetensorsError extends SaeError {}

/** cfg.json or the tensor set does not describe an SAE we understand (missing key, wrong shape). */
export class SaeFormatError extends SaeError {}

/** `architecture` / `activation_fn_str` names an activation we do not implement. */
export class UnknownArchitectureError extends SaeError {
  constructor(
    readonly found: string,
    readonly supported: readonly string[],
  ) {
    super(`Unknown SAE architecture "${found}": expected one of ${supported.join(', ')}.`);
  }
}

/** A weight tensor holds NaN or ±Infinity; reported with the tensor name and the first bad position. */
export class SaeNonFiniteError extends SaeError {
  constructor(
    readonly tensor: string,
    readonly index: number,
    readonly count: number,
  ) {
    super(
      `SAE tensor "${tensor}" holds ${count} non-finite value(s) (NaN or Infinity); the first is at flat index ${index}. ` +
        'Expected finite weights: re-export the SAE.',
    );
  }
}

/** The SAE does not fit the loaded model: wrong residual width or a hook on a layer the model lacks. */
export class SaeModelMismatchError extends SaeError {}

/** A persona or steering term names a latent or vector that does not fit the SAE. */
export class SteeringSpecError extends SaeError {}

/**
 * The SAE reads a site other than the residual stream at a block boundary (MLP output, attention output, a
 * transcoder, the embeddings, ...): its latents would be read from, and steered into, the wrong tensor.
 */
export class UnsupportedSaeKindError extends SaeFormatError {
  constructor(
    /** What the files say the SAE reads, in words, e.g. "MLP output (blocks.1.hook_mlp_out)". */
    readonly found: string,
  ) {
    super(
      `This SAE reads the ${found}, which the playground cannot encode or steer: expected a residual-stream SAE ` +
        '(TransformerLens blocks.{L}.hook_resid_post or blocks.{L}.hook_resid_pre, Hugging Face model.layers.{L}.output, ' +
        'a Gemma Scope resid_post / -res folder, or a sparsify layers.{L} folder).',
    );
  }
}
