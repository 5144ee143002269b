// The one in-memory description of an SAE, whatever format it came from: every loader normalises to this, and the
// GPU kernels and the TypeScript reference both read it.
import type { SafetensorsDtype } from './safetensors';

export const SUPPORTED_ARCHITECTURES = ['standard', 'jumprelu', 'topk'] as const;
export type SaeArchitecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export const SUPPORTED_NORMALIZATIONS = ['none', 'constant_norm_rescale', 'layer_norm', 'expected_average_only_in'] as const;
export type ActivationNormalization = (typeof SUPPORTED_NORMALIZATIONS)[number];

export type SaeFormat = 'saelens' | 'gemma-scope' | 'sparsify';

export interface SaeConfig {
  format: SaeFormat;
  architecture: SaeArchitecture;
  dIn: number;
  dSae: number;
  /** Latents kept per token (TopK only). */
  k: number | null;
  /** Subtract b_dec from the (normalised) input before encoding. */
  applyBDecToInput: boolean;
  normalizeActivations: ActivationNormalization;
  /** Folded `expected_average_only_in` scale multiplied into the input (1 when already folded into the weights). */
  inputScale: number;
  /** Subtract the mean over the hidden dimension first (SAEs trained with TransformerLens `center_writing_weights`). */
  centerResidual: boolean;
  /** TransformerLens-style hook name, e.g. `blocks.1.hook_resid_post`. */
  hookName: string;
  /** Residual after block `layer` (0-based) is what the SAE reads; -1 = the embeddings. */
  layer: number;
  /** Storage dtype of the weight matrices in the file (F16 weights can stay packed on the GPU). */
  weightDtype: SafetensorsDtype;
  /**
   * Whether the SAE was trained on text that starts with the tokenizer's BOS (SAELens `prepend_bos`; pre-6.0
   * configs default to true; Gemma Scope true as SAELens's loaders set it); undefined when the files do not say.
   */
  prependBos?: boolean;
  /** Neuronpedia source id ("gpt2-small/8-res-jb"): SAELens metadata.neuronpedia_id, or the release registry. */
  neuronpediaId?: string;
  /** Things the files leave uncertain that the page must show (e.g. a norm scaling factor that was not saved). */
  warnings?: string[];
  /** What was applied from outside the files, with its source (e.g. centring from SAELens's release registry). */
  notes?: string[];
}

export interface SaeWeights {
  config: SaeConfig;
  /** [dIn, dSae] row-major. */
  wEnc: Float32Array;
  /** [dSae, dIn] row-major: row i is latent i's decoder direction. */
  wDec: Float32Array;
  bEnc: Float32Array;
  bDec: Float32Array;
  /** JumpReLU thresholds [dSae]; null for other architectures. */
  threshold: Float32Array | null;
}
