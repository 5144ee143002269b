// SAE kernels on WebGPU: the orchestrator plus the pieces tests and benchmarks reach for directly.
export { SaeGpu, type SaeGpuOptions, type SaeGpuAnalysis, type MonitorSpec } from './saeGpu';
export { SaeGpuWeights, type SaeGpuWeightsOptions } from './weights';
export { type NonzeroLatents, type ResidualSource, type SteeringRow, type TopKScan, encodeTokenSplits, topkScanFor, topkSegments, TopKPass } from './passes';
