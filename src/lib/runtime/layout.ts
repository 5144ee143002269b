// What a decoder graph wants fed, read from its declared inputs and outputs: the names and dtypes that Optimum,
// transformers.js and onnxruntime-genai exports use, so we feed what the graph declares instead of guessing. A graph
// outside these layouts gets one typed error that lists its inputs and what we can drive.
import type { GraphIO, GraphProto, TensorSpec } from '../graph';
import { MergedDecoderError, UnsupportedGraphError } from './errors';
import { f16BitsToFloat } from '../sae/safetensors';

/** ORT tensor types we feed or read. */
export type FeedType = 'int64' | 'int32' | 'float32' | 'float16' | 'bool';

/** ONNX TensorProto.DataType → ORT type name, for the types a decoder's inputs and outputs use. */
const ONNX_TYPES: Record<number, FeedType> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16' };

export interface KvPair {
  layer: number;
  kind: 'key' | 'value';
  /** Input fed with the cache so far. */
  past: string;
  /** Output holding the cache after this step. */
  present: string;
}

export interface DecoderLayout {
  inputIds: FeedType;
  /** Absent when the graph builds its own mask (no `attention_mask` input). */
  attentionMask?: FeedType;
  positionIds?: FeedType;
  /** Cache inputs/outputs in layer order, key before value. */
  kv: KvPair[];
  kvType: 'float32' | 'float16';
  logitsType: 'float32' | 'float16';
  /**
   * An int64 scalar input (`num_logits_to_keep`, renamed `logits_to_keep` in transformers 4.49) that keeps only the
   * last n positions of the logits (n = 0 keeps all: transformers' `slice(-logits_to_keep, None)`). We feed 1.
   */
  logitsToKeep?: string;
}

/**
 * KV-cache names by exporter. Optimum and transformers.js: `past_key_values.{i}.key|value` → `present.{i}.key|value`
 * (optimum/exporters/onnx/base.py, `OnnxConfigWithPast.add_past_key_values`); onnxruntime-genai takes the names from genai_config.json
 * templates (`past_key_names`, default `past_key_values.%d.key`; src/models/kv_cache.cpp `ComposeKeyValueName`), and
 * older ORT/Olive LLM exports use `past_key_{i}`/`past_value_{i}` → `present_key_{i}`/`present_value_{i}` (Olive's
 * `get_kv_info` recognises exactly these two patterns).
 */
const KV_PATTERNS: { past: RegExp; present: (layer: number, kind: string) => string }[] = [
  { past: /^past_key_values\.(\d+)\.(key|value)$/, present: (i, k) => `present.${i}.${k}` },
  { past: /^past_(key|value)_(\d+)$/, present: (i, k) => `present_${k}_${i}` },
];

const LOGITS_TO_KEEP = ['num_logits_to_keep', 'logits_to_keep'];

/** Inputs the instrumenter adds (steering, clamp); not part of the export's layout. */
const INSTRUMENT_INPUT = /^(steer|clamp)\.\d+/;

export const EXPECTED_INPUTS =
  'input_ids (int64 or int32 [batch, sequence]); optional attention_mask (int64, int32, float or bool), ' +
  'position_ids (int64 or int32), num_logits_to_keep/logits_to_keep (int64 scalar); KV cache as ' +
  'past_key_values.{i}.key|value → present.{i}.key|value or past_key_{i}|past_value_{i} → present_key_{i}|' +
  'present_value_{i} (float32 or float16); output logits (float32 or float16)';

function describe(t: TensorSpec): string {
  return `${t.name} (${ONNX_TYPES[t.elemType] ?? `ONNX type ${t.elemType}`} [${t.dims.join(', ')}])`;
}

/**
 * Reads the decoder layout from a graph's declared inputs/outputs (instrumentation inputs are ignored).
 * Throws `MergedDecoderError` for Optimum's merged decoder (`use_cache_branch`), `UnsupportedGraphError` (listing
 * every input and `EXPECTED_INPUTS`) for anything else it cannot drive.
 */
export function readDecoderLayout(io: GraphIO, file = 'the ONNX graph'): DecoderLayout {
  const inputs = io.inputs.filter((i) => !INSTRUMENT_INPUT.test(i.name));
  const found = inputs.map(describe).join(', ');
  if (inputs.some((i) => i.name === 'use_cache_branch')) throw new MergedDecoderError(file, found);
  const fail = (why: string): never => {
    throw new UnsupportedGraphError(file, why, found, EXPECTED_INPUTS);
  };
  const type = (t: TensorSpec, allowed: FeedType[]): FeedType => {
    const ft = ONNX_TYPES[t.elemType];
    if (!ft || !allowed.includes(ft)) fail(`input ${describe(t)} must be ${allowed.join(' or ')}`);
    return ft!;
  };
  const outputs = new Map(io.outputs.map((o) => [o.name, o]));
  let inputIds: FeedType | undefined;
  let attentionMask: FeedType | undefined;
  let positionIds: FeedType | undefined;
  let logitsToKeep: string | undefined;
  const kv: KvPair[] = [];
  const kvTypes = new Set<FeedType>();
  const unknown: string[] = [];
  for (const t of inputs) {
    if (t.name === 'input_ids') inputIds = type(t, ['int64', 'int32']);
    else if (t.name === 'attention_mask') attentionMask = type(t, ['int64', 'int32', 'float32', 'float16', 'bool']);
    else if (t.name === 'position_ids') positionIds = type(t, ['int64', 'int32']);
    else if (LOGITS_TO_KEEP.includes(t.name)) {
      type(t, ['int64']);
      if (t.dims.length !== 0) fail(`${describe(t)} must be a scalar`);
      logitsToKeep = t.name;
    } else {
      const pair = kvPair(t.name);
      if (!pair) {
        unknown.push(t.name);
        continue;
      }
      if (!outputs.has(pair.present)) fail(`cache input ${t.name} has no matching output ${pair.present}`);
      kvTypes.add(type(t, ['float32', 'float16']));
      kv.push(pair);
    }
  }
  if (unknown.length) fail(`unrecognised input${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  if (!inputIds) fail('there is no input_ids input');
  const logits = outputs.get('logits');
  if (!logits) fail(`there is no logits output (outputs: ${io.outputs.map((o) => o.name).join(', ')})`);
  const logitsType = ONNX_TYPES[logits!.elemType];
  if (logitsType !== 'float32' && logitsType !== 'float16') fail(`output ${describe(logits!)} must be float32 or float16`);
  if (kvTypes.size > 1) fail('cache inputs mix float32 and float16');
  kv.sort((a, b) => a.layer - b.layer || (a.kind === b.kind ? 0 : a.kind === 'key' ? -1 : 1));
  return {
    inputIds: inputIds!,
    attentionMask,
    positionIds,
    kv,
    kvType: kvTypes.has('float16') ? 'float16' : 'float32',
    logitsType: logitsType as 'float32' | 'float16',
    logitsToKeep,
  };
}

function kvPair(name: string): KvPair | undefined {
  const a = KV_PATTERNS[0].past.exec(name);
  if (a) return { layer: Number(a[1]), kind: a[2] as 'key' | 'value', past: name, present: KV_PATTERNS[0].present(Number(a[1]), a[2]) };
  const b = KV_PATTERNS[1].past.exec(name);
  if (b) return { layer: Number(b[2]), kind: b[1] as 'key' | 'value', past: name, present: KV_PATTERNS[1].present(Number(b[2]), b[1]) };
  return undefined;
}

/** A float16 tensor's data (Uint16Array bits, or Float16Array where the browser has it) as float32. */
export function halfsToFloats(data: ArrayLike<number>): Float32Array {
  if (data instanceof Uint16Array) return Float32Array.from(data, f16BitsToFloat);
  return Float32Array.from(data);
}

/**
 * ONNX files tried, in order, when the caller names none. File names are transformers.js's
 * (`model${suffix}.onnx`, suffixes from src/utils/dtypes.js DEFAULT_DTYPE_SUFFIX_MAPPING: '' fp32, '_q4', '_fp16',
 * '_q4f16'); a plain single-graph file always wins over Optimum's `decoder_model_merged.onnx`, which comes last only
 * so that a folder holding nothing else gets the typed MergedDecoderError instead of a missing-file message.
 */
export function onnxCandidates(backend: 'webgpu' | 'wasm'): string[] {
  // q4 first on both backends: a shared link then samples from the same weights wherever it is opened (the auto
  // backend choice may differ between two machines). float16 files come last on WASM, which has no fast f16 path.
  const plain = backend === 'webgpu'
    ? ['model_q4.onnx', 'model.onnx', 'model_q4f16.onnx', 'model_fp16.onnx']
    : ['model_q4.onnx', 'model.onnx', 'model_fp16.onnx', 'model_q4f16.onnx'];
  return [...plain, 'decoder_model_merged.onnx'].map((f) => `onnx/${f}`);
}

/** True when the graph holds float16 weights or exchanges float16 tensors: on WebGPU it needs `shader-f16`. */
export function usesFloat16(graph: GraphProto): boolean {
  const FLOAT16 = 10;
  if (graph.initializer.some((t) => t.dataType === FLOAT16)) return true;
  return [...graph.input, ...graph.output].some((v) => v.type?.value.case === 'tensorType' && v.type.value.value.elemType === FLOAT16);
}
