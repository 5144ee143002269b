// Public face of the ONNX instrumentation: parse bytes, find the residual stream, add capture/steer tensors.
export { ModelFormatError, ResidualNotFoundError, LayerOutOfRangeError } from './errors';
export { parseModel, serializeModel, type ModelProto, type GraphProto } from './parse';
export { locateResiduals, SEARCHED_PATTERNS, type ResidualMap, type ResidualSite, type LocateMethod } from './locate';
export {
  instrumentModel,
  captureName,
  steerName,
  clampNames,
  type InstrumentOptions,
  type InstrumentResult,
} from './instrument';
export { describeIO, type GraphIO, type TensorSpec } from './io';
export { elemTypeOf } from './dtype';
