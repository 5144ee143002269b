// The element type of a tensor inside a graph, found by walking back to where it is declared: float16 exports
// (transformers.js fp16/q4f16) carry their residual stream in float16, so instrumentation must cast around it.
import { TensorProto_DataType } from 'onnx-buf';
import type { GraphProto, NodeProto } from './parse';

/** Ops whose output type is not their first input's; every other op keeps the type of input 0. */
const FIXED: Record<string, number> = {
  Shape: TensorProto_DataType.INT64,
  Size: TensorProto_DataType.INT64,
  Equal: TensorProto_DataType.BOOL,
  Greater: TensorProto_DataType.BOOL,
  Less: TensorProto_DataType.BOOL,
  GreaterOrEqual: TensorProto_DataType.BOOL,
  LessOrEqual: TensorProto_DataType.BOOL,
  Not: TensorProto_DataType.BOOL,
  And: TensorProto_DataType.BOOL,
  Or: TensorProto_DataType.BOOL,
  ArgMax: TensorProto_DataType.INT64,
};

/**
 * ONNX TensorProto.DataType of `tensor` (1 = float, 10 = float16), or undefined when it cannot be told. Follows
 * initializers, graph inputs, value_info, Cast's `to`, Constant values and, for every other op, input 0 (Where:
 * input 1), which is the type rule of the ops a transformer block is made of (Add, MatMul, MatMulNBits, Gather,
 * LayerNormalization, ...).
 */
export function elemTypeOf(graph: GraphProto, tensor: string): number | undefined {
  const declared = new Map<string, number>();
  for (const t of graph.initializer) declared.set(t.name, t.dataType);
  for (const v of [...graph.input, ...graph.valueInfo, ...graph.output])
    if (v.type?.value.case === 'tensorType' && v.type.value.value.elemType) declared.set(v.name, v.type.value.value.elemType);
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node) for (const o of n.output) if (o) producer.set(o, n);
  let name = tensor;
  for (let depth = 0; depth < 10_000; depth++) {
    const known = declared.get(name);
    if (known) return known;
    const node = producer.get(name);
    if (!node) return undefined;
    if (node.opType in FIXED) return FIXED[node.opType];
    if (node.opType === 'Cast') return Number(node.attribute.find((a) => a.name === 'to')?.i);
    if (node.opType === 'Constant') return node.attribute.find((a) => a.name === 'value')?.t?.dataType;
    const next = node.opType === 'Where' ? node.input[1] : node.input[0];
    if (!next) return undefined;
    name = next;
  }
  return undefined;
}
