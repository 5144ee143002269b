// Token sampling on WebGPU: the pass, its planning helpers and its TypeScript reference.
export {
  GpuTokenSampler,
  gpuSamplingUnsupported,
  planLogits,
  samplerParams,
  drawFraction,
  type LogitsSource,
  type LogitsPlan,
  type RowDraw,
  type TokenSamplerOptions,
} from './tokenSampler';
export { sampleRowsReference } from './reference';
