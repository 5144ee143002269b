// Public face of the inference runtime: load an instrumented model, generate with capture and steering.
export { LanguageModel, type LanguageModelOptions, type ModelEvent } from './model';
export {
  generate,
  type GenerationOptions,
  type GenerationResult,
  type StepEvent,
  type CapturedResidual,
  type LayerSteering,
  type LayerClamp,
  type RowResult,
} from './generate';
export { DecoderSession, readTensor, type StepInput, type StepOutput, type StepOptions, type StepOutputWithOptions, type GpuLogits, type SteerSource, type ClampSource } from './session';
export { createDecoder, openDecoder, type DecoderOptions } from './decoder';
export { readConfig, type ModelConfig } from './config';
export { TextTokenizer } from './tokenizer';
export { GREEDY, sampleToken, TokenHistory, type SamplingSettings } from './sampling';
export { Prng } from './prng';
export { MissingFileError, DownloadError, ContextOverflowError, ConfigError, InvalidRequestError, UnsupportedGraphError, MergedDecoderError } from './errors';
export { readDecoderLayout, type DecoderLayout } from './layout';
export { fetchBytes, fetchJson, resolveUrl } from './loader';
export { DEFAULT_HUB, HubRepoIdError, hubFolderUrl, isHubRepoId } from './hub';
export type { Tensor as OrtTensor } from './ort-types';
