// Turns model bytes into a ready DecoderSession: parse, instrument, create the ORT session with the output
// locations that keep KV cache and captures on the GPU. Independent of which ORT build is passed in.
import { describeIO, instrumentModel, parseModel, serializeModel, captureName, type GraphIO } from '../graph';
import type { ModelConfig } from './config';
import type { InferenceSession, OrtApi } from './ort-types';
import { DecoderSession } from './session';
import { readDecoderLayout } from './layout';

export interface DecoderOptions {
  /** Layers to instrument: 'all' (default) or a list; [] leaves the graph untouched. */
  layers?: number[] | 'all';
  clampSlots?: number;
  /** ORT session options (execution providers etc.); output locations are added here. */
  sessionOptions?: InferenceSession.SessionOptions;
  /** Keep present.* and captures as GPU buffers (WebGPU only). */
  gpuOutputs?: boolean;
  externalData?: { path: string; data: Uint8Array }[];
  /** ORT's GPUDevice when on WebGPU (used for constant inputs kept on the GPU). */
  device?: GPUDevice;
  onStage?: (stage: 'parse' | 'instrument' | 'session') => void;
}

export async function createDecoder(
  ort: OrtApi,
  bytes: Uint8Array,
  config: ModelConfig,
  options: DecoderOptions = {},
): Promise<DecoderSession> {
  options.onStage?.('parse');
  const model = parseModel(bytes);
  const layers = options.layers === undefined || options.layers === 'all'
    ? Array.from({ length: config.nLayer }, (_, i) => i)
    : options.layers;
  const clampSlots = options.clampSlots ?? 0;
  let finalBytes = bytes;
  if (layers.length > 0) {
    options.onStage?.('instrument');
    instrumentModel(model, { layers, hidden: config.hidden, nLayer: config.nLayer, clampSlots });
    finalBytes = serializeModel(model);
  }
  return openDecoder(ort, finalBytes, describeIO(model.graph!), config, layers, clampSlots, options);
}

/** Opens an ORT session on an already instrumented graph: `bytes` serialised, `io` its declared inputs/outputs. */
export async function openDecoder(
  ort: OrtApi,
  bytes: Uint8Array,
  io: GraphIO,
  config: ModelConfig,
  layers: number[],
  clampSlots: number,
  options: Pick<DecoderOptions, 'sessionOptions' | 'gpuOutputs' | 'externalData' | 'onStage' | 'device'> = {},
): Promise<DecoderSession> {
  const layout = readDecoderLayout(io);
  const past = io.inputs.find((i) => i.name === layout.kv[0]?.past);
  // The graph's own cache shape first; then config.json (`head_dim` where given, as Gemma's differs from hidden/heads).
  const kvHeads = typeof past?.dims[1] === 'number' ? past.dims[1] : config.kvHeads;
  const headDim = typeof past?.dims[3] === 'number' ? past.dims[3] : config.headDim;
  const sessionOptions: InferenceSession.SessionOptions = { ...options.sessionOptions };
  if (options.gpuOutputs) {
    // KV cache, captures and logits stay on the GPU: the cache for the next step, captures for our kernels, logits
    // for GPU sampling (a step that samples on the CPU reads them back; see DecoderSession.step).
    const locations: Record<string, 'gpu-buffer' | 'cpu'> = { logits: 'gpu-buffer' };
    for (const p of layout.kv) locations[p.present] = 'gpu-buffer';
    for (const l of layers) locations[captureName(l)] = 'gpu-buffer';
    sessionOptions.preferredOutputLocation = locations;
  }
  if (options.externalData?.length) sessionOptions.externalData = options.externalData;
  options.onStage?.('session');
  const session = await ort.InferenceSession.create(bytes, sessionOptions);
  return new DecoderSession(
    ort,
    session,
    io,
    { hidden: config.hidden, vocab: config.vocab, nLayer: config.nLayer, kvHeads, headDim, instrumented: layers, clampSlots },
    layout,
    !!options.gpuOutputs,
    options.gpuOutputs ? options.device : undefined,
  );
}
