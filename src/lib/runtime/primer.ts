// The smallest useful ONNX model, for starting ORT's WebAssembly runtime before the real model is ready.

/**
 * A minimal ONNX graph (opset 13, `y = Identity(x)`, x float[1]): 67 bytes, made with onnx.helper. Opening it
 * starts ORT's WebAssembly runtime (fetch, compile, instantiate: the slow part of the first session).
 */
export const PRIMER_MODEL = Uint8Array.from(
  atob('CAgSADo3ChAKAXgSAXkiCElkZW50aXR5EgFwWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ=='),
  (c) => c.charCodeAt(0),
);
