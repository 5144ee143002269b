// Reads a graph's declared inputs and outputs, so the runtime can discover KV-cache names, head counts and
// whether the model wants position_ids without hard-coding an exporter.
import type { GraphProto, ValueInfoProto } from './parse';

export interface TensorSpec {
  name: string;
  /** ONNX TensorProto.DataType (1 = float32, 7 = int64, 10 = float16). */
  elemType: number;
  /** Fixed sizes as numbers, symbolic ones as their names (or '?' when unnamed). */
  dims: (number | string)[];
}

export interface GraphIO {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export function describeIO(graph: GraphProto): GraphIO {
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return {
    inputs: graph.input.filter((v) => !initializers.has(v.name)).map(spec),
    outputs: graph.output.map(spec),
  };
}

function spec(v: ValueInfoProto): TensorSpec {
  const t = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
  const dims = (t?.shape?.dim ?? []).map((d) =>
    d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : '?',
  );
  return { name: v.name, elemType: t?.elemType ?? 0, dims };
}
