// Public surface of the SAE module: formats, the safetensors reader, the TypeScript reference and typed errors.
export * from './errors';
export * from './types';
export * from './safetensors';
export * from './formats';
export * as saeReference from './reference';
export * from './hooks';
export * from './releases';
export { readSaeLensConfig } from './saelensConfig';
export { parseNpz, parseNpy } from './npz';
