// A loaded, instrumented language model in this thread: files, tokenizer, ORT session on WebGPU (or WASM), and
// the generation loop. The SAE layer and the worker build on this; it knows nothing about SAEs.
import type { Backend, DeviceInfo, Progress } from '../engine/api';
import { serializeModel, instrumentModel, describeIO, type GraphIO, type ModelProto } from '../graph';
import { readConfig, type ModelConfig } from './config';
import { acquireGpu } from './device';
import { ContextOverflowError } from './errors';
import { fetchJson, fetchOnnx, resolveUrl, type ModelFiles } from './loader';
import { MissingFileError } from './errors';
import { getOrt, ortOwnDevice, sessionOptionsFor } from './ort';
import { openDecoder } from './decoder';
import type { DecoderSession } from './session';
import { generate, type GenerationOptions, type GenerationResult } from './generate';
import { TextTokenizer } from './tokenizer';

export interface LanguageModelOptions {
  backend?: Backend | 'auto';
  /** ONNX file inside the folder; default `onnx/model_q4.onnx` on WebGPU (if present), else `onnx/model.onnx`. */
  onnxFile?: string;
  /** Layers to instrument (capture + steer); default all. */
  layers?: number[] | 'all';
  /** Latent clamp slots per instrumented layer (0 = none, the default). */
  clampSlots?: number;
  /**
   * Who creates the GPUDevice: 'app' (default) requests it with the adapter's limits and hands it to ORT (so a lost
   * device can be replaced); 'ort' lets ORT create its own and shares that one.
   */
  deviceOwner?: 'app' | 'ort';
  onProgress?: (p: Progress) => void;
}

export type ModelEvent =
  | { type: 'device-lost'; message: string }
  | { type: 'device-restored'; device: DeviceInfo }
  | { type: 'device-restore-failed'; message: string };

export class LanguageModel {
  private decoderSession!: DecoderSession;
  private gpu?: GPUDevice;
  private recovering?: Promise<void>;
  private listeners = new Set<(e: ModelEvent) => void>();
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly baseUrl: string,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer,
    private readonly io: GraphIO,
    private readonly externalData: ModelFiles['externalData'],
    private readonly graphBytes: Uint8Array,
    readonly layers: number[],
    readonly clampSlots: number,
    public device: DeviceInfo,
    private readonly cpuNodes: string[],
  ) {}

  /** Downloads, instruments and opens a model folder. Emits progress for every long stage. */
  static async load(baseUrl: string, options: LanguageModelOptions = {}): Promise<LanguageModel> {
    const progress = options.onProgress ?? (() => {});
    const bytes = (file: string, loaded: number, total?: number) =>
      progress({ stage: 'download', message: `Downloading ${file.split('/').pop()}`, loaded, total });
    const wanted = options.backend ?? 'auto';
    let gpuReason: string | undefined;
    let gpu: Awaited<ReturnType<typeof acquireGpu>> | undefined;
    if (wanted !== 'wasm') {
      gpu = await acquireGpu();
      if ('reason' in gpu) gpuReason = gpu.reason;
    }
    const backend: Backend = gpu && 'device' in gpu ? 'webgpu' : 'wasm';
    const device: DeviceInfo = gpu && 'device' in gpu ? gpu.info : { backend: 'wasm', fallbackReason: gpuReason ?? 'WASM was requested.' };
    try {
      const config = readConfig(await fetchJson(resolveUrl(baseUrl, 'config.json')));
      progress({ stage: 'tokenizer', message: 'Loading tokenizer' });
      const tokenizer = new TextTokenizer(
        await fetchJson(resolveUrl(baseUrl, 'tokenizer.json')),
        await fetchJson(resolveUrl(baseUrl, 'tokenizer_config.json')),
      );
      let files: ModelFiles;
      const explicit = options.onnxFile;
      try {
        files = await fetchOnnx(baseUrl, explicit ?? (backend === 'webgpu' ? 'onnx/model_q4.onnx' : 'onnx/model.onnx'), bytes);
      } catch (e) {
        if (explicit || backend !== 'webgpu' || !(e instanceof MissingFileError)) throw e;
        files = await fetchOnnx(baseUrl, 'onnx/model.onnx', bytes);
      }
      progress({ stage: 'parse', message: 'Parsed ONNX graph' });
      const layers = options.layers === undefined || options.layers === 'all'
        ? Array.from({ length: config.nLayer }, (_, i) => i)
        : options.layers;
      const clampSlots = options.clampSlots ?? 0;
      progress({ stage: 'instrument', message: `Instrumenting ${layers.length} layers` });
      if (layers.length > 0)
        instrumentModel(files.model, { layers, hidden: config.hidden, nLayer: config.nLayer, clampSlots });
      const cpuNodes = trigNodes(files.model);
      const graphBytes = serializeModel(files.model);
      // Only the serialised graph is kept (for re-creating the session after a device loss), not the parsed copy.
      const io = describeIO(files.model.graph!);
      const model = new LanguageModel(baseUrl, config, tokenizer, io, files.externalData, graphBytes, layers, clampSlots, device, cpuNodes);
      progress({ stage: 'session', message: `Creating ${backend} session` });
      try {
        if (backend === 'webgpu' && options.deviceOwner === 'ort' && gpu && 'device' in gpu) {
          gpu.device.destroy();
          await model.openSession('ort');
        } else await model.openSession(backend === 'webgpu' && gpu && 'device' in gpu ? gpu.device : undefined);
      } catch (e) {
        // 'auto' keeps the promise of a working model: a graph the WebGPU EP rejects still runs on WASM.
        if (backend !== 'webgpu' || wanted !== 'auto') throw e;
        gpu && 'device' in gpu && gpu.device.destroy();
        model.device = { backend: 'wasm', fallbackReason: `WebGPU session failed: ${(e as Error).message}` };
        progress({ stage: 'session', message: 'WebGPU failed; creating wasm session' });
        await model.openSession(undefined);
      }
      // The first run compiles every shader; do it now so the first generation is not mysteriously slow.
      progress({ stage: 'compile', message: 'Compiling GPU kernels' });
      await model.warmUp();
      progress({ stage: 'ready', message: `Ready on ${device.adapter ?? backend}` });
      return model;
    } catch (e) {
      // A failed load leaves nothing behind: the device we opened for it goes too.
      if (gpu && 'device' in gpu) gpu.device.destroy();
      throw e;
    }
  }

  private async openSession(target: GPUDevice | 'ort' | undefined): Promise<void> {
    const given = target === 'ort' ? undefined : target;
    this.decoderSession = await openDecoder(getOrt(), this.graphBytes, this.io, this.config, this.layers, this.clampSlots, {
      sessionOptions: sessionOptionsFor(target ? 'webgpu' : 'wasm', given, this.cpuNodes),
      gpuOutputs: !!target,
      device: given,
      externalData: this.externalData,
    });
    const device = target === 'ort' ? await ortOwnDevice() : given;
    if (device) this.decoderSession.attachDevice(device);
    this.gpu = device;
    if (device) device.lost.then((info) => this.onDeviceLost(device, info));
  }

  private onDeviceLost(device: GPUDevice, info: GPUDeviceLostInfo): void {
    if (this.disposed || device !== this.gpu) return;
    this.emit({ type: 'device-lost', message: `The GPU device was lost (${info.reason}: ${info.message}). Reconnecting…` });
    this.recovering = (async () => {
      const gpu = await acquireGpu();
      try {
        if ('reason' in gpu) throw new Error(gpu.reason);
        await this.openSession(gpu.device);
        this.device = gpu.info;
      } catch (e) {
        // No GPU any more: keep going on WASM with the same API.
        await this.openSession(undefined);
        this.device = { backend: 'wasm', fallbackReason: `GPU lost and could not be restored: ${(e as Error).message}` };
        this.emit({ type: 'device-restore-failed', message: this.device.fallbackReason! });
      }
      this.emit({ type: 'device-restored', device: this.device });
      this.recovering = undefined;
    })();
  }

  private async warmUp(): Promise<void> {
    const decoder = this.decoderSession;
    const token = this.config.bosTokenId ?? 0;
    decoder.reset();
    for (const ids of [[[token, token]], [[token]]]) {
      const out = await decoder.step({ ids, capture: this.layers }, true);
      for (const t of out.captures.values()) t.dispose();
    }
    decoder.reset();
  }

  on(listener: (e: ModelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ModelEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** ORT's GPUDevice (shared with our kernels), or undefined on WASM. Changes after a device loss. */
  get gpuDevice(): GPUDevice | undefined {
    return this.gpu;
  }

  /** Waits for any in-progress device recovery, then returns the live decoder. */
  async decoder(): Promise<DecoderSession> {
    if (this.recovering) await this.recovering;
    return this.decoderSession;
  }

  /** Tokenises a prompt, throwing `ContextOverflowError` if it cannot fit. */
  encode(text: string): number[] {
    const ids = this.tokenizer.encode(text);
    if (ids.length > this.config.contextLength) throw new ContextOverflowError(ids.length, this.config.contextLength);
    return ids;
  }

  /** Runs the generation loop (see `GenerationOptions`); stop tokens default to the model's EOS. */
  async generate(options: Omit<GenerationOptions, 'contextLength'> & { contextLength?: number }): Promise<GenerationResult> {
    // One KV cache per session: overlapping calls run one after the other instead of corrupting each other.
    const run = this.queue.then(async () =>
      generate(await this.decoder(), { stopTokens: this.config.eosTokenIds, contextLength: this.config.contextLength, ...options }),
    );
    this.queue = run.catch(() => {});
    return run;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.recovering) await this.recovering.catch(() => {});
    await this.decoderSession?.release().catch(() => {});
    this.gpu?.destroy();
  }
}

/**
 * Names (assigning them where missing) of the Sin/Cos nodes that build rotary tables. They run on the CPU: WGSL
 * sin/cos are approximations (errors ~1e-3 measured on SwiftShader), and the tables are tiny.
 */
function trigNodes(model: ModelProto): string[] {
  const names: string[] = [];
  model.graph!.node.forEach((node, i) => {
    if (node.opType !== 'Sin' && node.opType !== 'Cos') return;
    if (!node.name) node.name = `/trig/${node.opType}_${i}`;
    names.push(node.name);
  });
  return names;
}
