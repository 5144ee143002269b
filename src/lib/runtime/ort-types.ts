// ORT's public types, taken from onnxruntime-common so that modules other than ort.ts never import an ORT build.
// The generation loop runs unchanged on onnxruntime-web (browser) and onnxruntime-node (unit tests).
import type { InferenceSession, Tensor } from 'onnxruntime-common';

export type { InferenceSession, Tensor };

/** The part of an ORT module the runtime uses: both onnxruntime-web and onnxruntime-node satisfy it. */
export interface OrtApi {
  Tensor: typeof Tensor;
  InferenceSession: typeof InferenceSession;
}
