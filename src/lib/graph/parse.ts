// Parse and re-serialise ONNX model bytes. protobuf decoders accept many truncated inputs silently (a cut at a
// field boundary is still a valid message), so after decoding we check what any runnable model must have.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataLocation, type ModelProto, type TensorProto } from 'onnx-buf';
import { ModelFormatError } from './errors';

export type { ModelProto, GraphProto, NodeProto, ValueInfoProto, TensorProto } from 'onnx-buf';

/** Bytes per element by ONNX TensorProto.DataType; 4-bit types are 0.5. */
const ELEMENT_BYTES: Record<number, number> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2, 17: 1, 18: 1, 19: 1, 20: 1,
  21: 0.5, 22: 0.5,
};

/** Decodes ONNX bytes and checks that the result is a complete model; throws `ModelFormatError` otherwise. */
export function parseModel(bytes: Uint8Array): ModelProto {
  if (bytes.byteLength < 16) throw new ModelFormatError(`Not an ONNX model: only ${bytes.byteLength} bytes.`);
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: true });
  } catch (e) {
    throw new ModelFormatError(
      `Not a valid ONNX file (protobuf decoding failed: ${(e as Error).message}). The file may be truncated or ` +
        `not an .onnx model at all.`,
    );
  }
  validateModel(model, bytes.byteLength);
  return model;
}

export function serializeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}

function validateModel(model: ModelProto, size: number): void {
  const graph = model.graph;
  const found = `${size} bytes`;
  if (!graph || graph.node.length === 0)
    throw new ModelFormatError(`Not a valid ONNX model: no graph nodes found in ${found} (truncated or not ONNX).`);
  if (graph.output.length === 0)
    throw new ModelFormatError(`Not a valid ONNX model: the graph declares no outputs (${found}; truncated?).`);
  if (model.opsetImport.length === 0)
    throw new ModelFormatError(`Not a valid ONNX model: no opset_import (${found}; truncated?).`);
  for (const t of graph.initializer) checkInitializer(t);
}

function checkInitializer(t: TensorProto): void {
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL || t.rawData.byteLength === 0) return;
  const per = ELEMENT_BYTES[t.dataType];
  if (per === undefined) return;
  const count = t.dims.reduce((a, d) => a * Number(d), 1);
  const expected = Math.ceil(count * per);
  if (t.rawData.byteLength !== expected)
    throw new ModelFormatError(
      `Initializer "${t.name}" holds ${t.rawData.byteLength} bytes but its shape [${t.dims.join(', ')}] needs ` +
        `${expected}: the file is truncated or corrupt.`,
    );
}
