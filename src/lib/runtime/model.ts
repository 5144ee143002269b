// A loaded, instrumented language model in this thread: files, tokenizer, ORT session on WebGPU (or WASM), and
// the generation loop. The SAE layer and the worker build on this; it knows nothing about SAEs.
import type { Backend, DeviceInfo, Progress } from '../engine/api';
import { serializeModel, instrumentModel, describeIO, type GraphIO, type ModelProto } from '../graph';
import { readConfig, withGenerationConfig, type ModelConfig } from './config';
import { acquireGpu, probeShaderF16, requestGpuAdapter, type GpuContext } from './device';
import { adapterFacts, classifyAdapter, raceDecoders, type AdapterVerdict, type RaceResult } from './backend-choice';
import { ContextOverflowError, float16FallbackReason, MergedDecoderError, MissingFileError } from './errors';
import { fetchJson, fetchOnnx, fetchOptionalText, isHtmlPage, resolveUrl, type ByteProgress, type ModelFiles } from './loader';
import { onnxCandidates, readDecoderLayout, usesFloat16 } from './layout';
import { loadOrt, ortOwnDevice, primeOrt, sessionOptionsFor, wasmThreads } from './ort';
import { openDecoder } from './decoder';
import type { DecoderSession } from './session';
import { generate, type GenerationOptions, type GenerationResult } from './generate';
import { TextTokenizer } from './tokenizer';

export interface LanguageModelOptions {
  /**
   * 'auto' (default) classifies the WebGPU adapter (runtime/backend-choice.ts): a software one (SwiftShader) runs on
   * WASM, a hardware GPU on WebGPU, an unrecognised one opens both and keeps the faster after a short race.
   */
  backend?: Backend | 'auto';
  /** With 'auto': race the two backends whatever the adapter says (benchmarks and the race's own test). */
  race?: boolean;
  /**
   * ONNX file inside the folder; default `onnx/model_q4.onnx` when present, on every backend (a shared link then
   * gives the same text on WASM and WebGPU), else `onnx/model.onnx`.
   */
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
  /**
   * On WebGPU, open a WASM session on the same graph first, so the model answers at once (no shader compilation);
   * `upgrade()` then builds and warms the WebGPU session and swaps it in. `device` says WASM until then, with
   * `pending` naming the GPU it is moving to.
   */
  quickStart?: boolean;
  onProgress?: (p: Progress) => void;
}

export type ModelEvent =
  | { type: 'device-upgraded'; device: DeviceInfo }
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
  /** Quick start: a WebGPU session is still to come (`upgrade()` opens the device and builds it). */
  private gpuPending = false;
  private upgrading?: Promise<DeviceInfo>;
  /** Quick start: `upgrade()` races the two sessions and keeps the faster (an adapter `auto` could not classify). */
  private raceAtUpgrade = false;
  /** Why the pending WebGPU session is wanted, for `DeviceInfo.why`. */
  private gpuWhy?: string;
  /** Decode speed of each backend measured by the load-time race, when one ran. */
  backendRace?: RaceResult;

  private constructor(
    readonly baseUrl: string,
    readonly config: ModelConfig,
    readonly tokenizer: TextTokenizer,
    private readonly io: GraphIO,
    private externalData: ModelFiles['externalData'],
    /** The instrumented graph, kept while a session may still have to be built from it (see `releaseGraphOnCpu`). */
    private graphBytes: Uint8Array | null,
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
    void primeOrt();
    // The folder's files do not depend on the backend: they download while the adapter is probed (and, when asked
    // for, a device is opened). The graph the backend would try first is the same on both (see onnxCandidates).
    const texts = Promise.all([
      ...['config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => fetchJson(resolveUrl(baseUrl, f))),
      ...['chat_template.jinja', 'generation_config.json'].map((f) => fetchOptionalText(resolveUrl(baseUrl, f))),
    ]);
    texts.catch(() => undefined); // awaited below
    const onnxFiles = (b: Backend) => (options.onnxFile ? [options.onnxFile] : onnxCandidates(b));
    const firstOnnx = startOnnx(baseUrl, onnxFiles(wanted === 'webgpu' ? 'webgpu' : 'wasm'), bytes);
    let gpuReason: string | undefined;
    // 'auto' looks at the adapter (no device yet) to decide; see backend-choice.ts.
    let verdict: AdapterVerdict | undefined;
    let probed: GPUAdapter | undefined;
    if (wanted === 'auto') {
      const adapter = await requestGpuAdapter();
      if ('reason' in adapter) gpuReason = adapter.reason;
      else {
        probed = adapter;
        verdict = classifyAdapter(adapterFacts(adapter));
        if (options.race) verdict = { choose: 'race', why: `measured at load (asked for; the adapter alone says: ${verdict.why})` };
        if (verdict.choose === 'wasm') gpuReason = `Auto: ${verdict.why}.`;
      }
    }
    const wantsGpu = wanted === 'webgpu' || (wanted === 'auto' && gpuReason === undefined);
    const race = wantsGpu && verdict?.choose === 'race';
    const gpuWhy = wanted === 'webgpu' ? 'WebGPU was requested.' : verdict ? `Auto: ${verdict.why}.` : undefined;
    // Quick start (and a race) does not touch the GPU device at all: it is opened by `upgrade()`, after the first
    // answer, so that opening it (threads, shader compiler) does not compete with the WASM runtime starting up.
    const quick = wantsGpu && (options.quickStart === true || race) && !!(globalThis.navigator as Navigator | undefined)?.gpu;
    let gpu: Awaited<ReturnType<typeof acquireGpu>> | undefined;
    if (wantsGpu && !quick) {
      gpu = await acquireGpu(probed);
      if ('reason' in gpu) gpuReason = gpu.reason;
    }
    let backend: Backend = quick || (gpu && 'device' in gpu) ? 'webgpu' : 'wasm';
    let device: DeviceInfo =
      gpu && 'device' in gpu ? { ...gpu.info, why: gpuWhy } : cpuDevice(gpuReason ?? 'WASM was requested.');
    try {
      const onnx = fetchFirstOnnx(baseUrl, onnxFiles(backend), bytes, firstOnnx);
      onnx.catch(() => undefined); // awaited below; a config/tokenizer error may be reported first
      const [configJson, tokenizerJson, tokenizerConfig, chatTemplateFile, generationConfig] = await texts;
      const config = withGenerationConfig(readConfig(configJson as Record<string, unknown>), generationConfig as string | undefined);
      progress({ stage: 'tokenizer', message: 'Loading tokenizer' });
      const tokenizer = new TextTokenizer(tokenizerJson as object, tokenizerConfig as object, chatTemplateFile as string | undefined);
      const files = await onnx;
      progress({ stage: 'parse', message: 'Parsed ONNX graph' });
      // A layout we cannot feed is refused here, by name, before instrumentation looks for the residual stream.
      readDecoderLayout(describeIO(files.model.graph!), files.onnxFile);
      if (backend === 'webgpu' && usesFloat16(files.model.graph!)) {
        const f16 = gpu && 'device' in gpu
          ? { adapter: gpu.info.adapter, shaderF16: gpu.device.features.has('shader-f16') }
          : await probeShaderF16();
        if (!f16.shaderF16) {
          if (gpu && 'device' in gpu) gpu.device.destroy();
          gpu = undefined;
          backend = 'wasm';
          device = cpuDevice(float16FallbackReason(f16.adapter));
        }
      }
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
      if (quick && backend === 'webgpu') {
        progress({ stage: 'session', message: 'Creating wasm session (WebGPU follows)' });
        let cpuError: unknown;
        try {
          await model.openSession(undefined);
        } catch (e) {
          cpuError = e;
        }
        if (cpuError === undefined) {
          model.gpuPending = true;
          model.raceAtUpgrade = race;
          model.gpuWhy = gpuWhy;
          model.device = {
            backend: 'wasm',
            pending: { backend: 'webgpu' },
            fallbackReason: race
              ? 'Answering on the CPU while WebGPU compiles; then the faster of the two is kept.'
              : 'Answering on the CPU while the GPU kernels compile.',
          };
          if (race && options.quickStart !== true) {
            // Without quick start the caller expects the final device: race now.
            progress({ stage: 'compile', message: 'Compiling GPU kernels and timing both backends' });
            await model.upgrade();
            progress({ stage: 'ready', message: `Ready on ${model.device.adapter ?? model.device.backend}` });
            return model;
          }
          progress({ stage: 'ready', message: 'Ready on the CPU; WebGPU compiles next' });
          return model;
        }
        // A graph the CPU cannot run (an op only the GPU has) loads the usual way, straight onto the GPU.
        gpu = await acquireGpu();
        if (!('device' in gpu)) throw cpuError;
        model.device = device = { ...gpu.info, why: gpuWhy };
        backend = 'webgpu';
      }
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
        model.device = cpuDevice(`WebGPU session failed: ${(e as Error).message}`);
        progress({ stage: 'session', message: 'WebGPU failed; creating wasm session' });
        await model.openSession(undefined);
      }
      // On WebGPU the first run compiles every shader; do it now so the first generation is not mysteriously slow.
      // (WASM has nothing to compile: its first run is only slightly slower, and start-up waits for it otherwise.)
      if (model.device.backend === 'webgpu') {
        progress({ stage: 'compile', message: 'Compiling GPU kernels' });
        await warmUp(model.decoderSession, config, layers);
      }
      model.releaseGraphOnCpu();
      progress({ stage: 'ready', message: `Ready on ${device.adapter ?? backend}` });
      return model;
    } catch (e) {
      // A failed load leaves nothing behind: the device we opened for it goes too.
      if (gpu && 'device' in gpu) gpu.device.destroy();
      throw e;
    }
  }

  private async openSession(target: GPUDevice | 'ort' | undefined): Promise<void> {
    const { decoder, device } = await this.createSession(target);
    this.decoderSession = decoder;
    this.adoptDevice(device);
  }

  /**
   * A model that has settled on WASM (no WebGPU session pending, no GPU device to lose) never builds another session,
   * so the serialised graph and its external data, the size of the model itself, are let go: ORT has its own copy.
   * On WebGPU they stay, to rebuild the session on a new device after a device loss.
   */
  private releaseGraphOnCpu(): void {
    if (this.gpuPending || this.device.backend !== 'wasm') return;
    this.graphBytes = null;
    this.externalData = [];
  }

  /** Whether the instrumented graph is still held (for a later WebGPU session or a device-loss rebuild); for tests. */
  get retainsGraph(): boolean {
    return this.graphBytes !== null;
  }

  private async createSession(target: GPUDevice | 'ort' | undefined): Promise<{ decoder: DecoderSession; device?: GPUDevice }> {
    const given = target === 'ort' ? undefined : target;
    if (!this.graphBytes) throw new Error('LanguageModel: the graph was released when the model settled on WASM; no new session can be built.');
    await primeOrt();
    const decoder = await openDecoder(await loadOrt(), this.graphBytes, this.io, this.config, this.layers, this.clampSlots, {
      sessionOptions: sessionOptionsFor(target ? 'webgpu' : 'wasm', given, this.cpuNodes),
      gpuOutputs: !!target,
      device: given,
      externalData: this.externalData,
    });
    const device = target === 'ort' ? await ortOwnDevice() : given;
    if (device) decoder.attachDevice(device);
    return { decoder, device };
  }

  private adoptDevice(device: GPUDevice | undefined): void {
    this.gpu = device;
    if (device) device.lost.then((info) => this.onDeviceLost(device, info));
  }

  /** A quick-started model that answers on WASM, with a WebGPU session to come that nobody has started yet. */
  get upgradePending(): boolean {
    return this.gpuPending && this.upgrading === undefined;
  }

  /** The WebGPU session is being built; jobs queued now run on it. */
  get upgradeRunning(): boolean {
    return this.gpuPending && this.upgrading !== undefined;
  }

  /**
   * Quick start, second half: builds the WebGPU session, compiles its kernels, and swaps it in for the WASM one
   * between jobs (a generation in progress finishes first). If WebGPU fails the model stays on WASM and says why.
   * Idempotent; resolves to the device the model runs on afterwards.
   */
  upgrade(): Promise<DeviceInfo> {
    if (this.upgrading) return this.upgrading;
    if (!this.gpuPending) return Promise.resolve(this.device);
    this.upgrading = this.enqueue(async () => {
      let gpu: GpuContext | undefined;
      try {
        if (this.disposed) throw new Error('the model was disposed');
        const acquired = await acquireGpu();
        if ('reason' in acquired) throw new Error(acquired.reason);
        gpu = acquired;
        const { decoder } = await this.createSession(gpu.device);
        let race: RaceResult | undefined;
        try {
          await warmUp(decoder, this.config, this.layers);
          if (this.raceAtUpgrade) race = await raceDecoders(this.decoderSession, decoder, this.config.bosTokenId ?? 0);
        } catch (e) {
          await decoder.release().catch(() => {});
          throw e;
        }
        this.backendRace = race;
        const measured = race && `WebGPU ${race.webgpuTps.toFixed(1)} tok/s, WASM ${race.wasmTps.toFixed(1)} tok/s`;
        if (race && race.wasmTps >= race.webgpuTps) {
          await decoder.release().catch(() => {});
          gpu.device.destroy();
          this.device = cpuDevice(`Auto: measured at load, WASM is faster here (${measured}).`);
        } else {
          const previous = this.decoderSession;
          this.decoderSession = decoder;
          this.adoptDevice(gpu.device);
          this.device = { ...gpu.info, why: race ? `Auto: measured at load, WebGPU is faster here (${measured}).` : this.gpuWhy };
          await previous.release().catch(() => {});
        }
      } catch (e) {
        gpu?.device.destroy();
        const why = (e as Error).message;
        this.device = cpuDevice(gpu ? `WebGPU session failed: ${why}` : why);
      } finally {
        this.gpuPending = false;
      }
      this.releaseGraphOnCpu();
      this.emit({ type: 'device-upgraded', device: this.device });
      return this.device;
    });
    return this.upgrading;
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
        this.device = cpuDevice(`GPU lost and could not be restored: ${(e as Error).message}`);
        this.emit({ type: 'device-restore-failed', message: this.device.fallbackReason! });
      }
      this.releaseGraphOnCpu();
      this.emit({ type: 'device-restored', device: this.device });
      this.recovering = undefined;
    })();
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

  /**
   * Tokenises a prompt, throwing `ContextOverflowError` if it cannot fit. In 'chat' mode `text` is the user's
   * message, rendered through the chat template up to the assistant's turn (ConfigError without a template).
   */
  encode(text: string, mode: 'text' | 'chat' = 'text'): number[] {
    const ids = mode === 'chat' ? this.tokenizer.encodeChat([{ role: 'user', content: text }]) : this.tokenizer.encode(text);
    if (ids.length > this.config.contextLength) throw new ContextOverflowError(ids.length, this.config.contextLength);
    return ids;
  }

  /** Runs the generation loop (see `GenerationOptions`); stop tokens default to the model's EOS. */
  async generate(options: Omit<GenerationOptions, 'contextLength'> & { contextLength?: number }): Promise<GenerationResult> {
    // One KV cache per session: overlapping calls run one after the other instead of corrupting each other.
    return this.enqueue(async () =>
      generate(await this.decoder(), { stopTokens: this.config.eosTokenIds, contextLength: this.config.contextLength, ...options }),
    );
  }

  /** Runs `job` after every job queued before it (ORT sessions, KV cache and session swaps are one at a time). */
  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => {});
    return run;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.recovering) await this.recovering.catch(() => {});
    if (this.upgrading) await this.upgrading.catch(() => {});
    await this.decoderSession?.release().catch(() => {});
    this.gpu?.destroy();
  }
}

/** The model on the CPU: why, and how many threads ORT's WASM kernels use (more than 1 only cross-origin isolated). */
function cpuDevice(fallbackReason: string): DeviceInfo {
  return { backend: 'wasm', fallbackReason, threads: wasmThreads() };
}

/** A download of the first graph file a folder is tried for, started before the list is final. */
interface StartedOnnx {
  /** The list's first file, and whether it was the only one (which decides how an HTML page is taken). */
  file: string;
  only: boolean;
  result: Promise<ModelFiles>;
}

/** Starts fetching `files[0]` exactly as `fetchFirstOnnx(baseUrl, files, …)` would. */
function startOnnx(baseUrl: string, files: string[], onProgress: ByteProgress): StartedOnnx {
  const only = files.length === 1;
  const result = only ? fetchOnnx(baseUrl, files[0], onProgress) : fetchOnnx(baseUrl, files[0], onProgress, { htmlIsMissing: true });
  result.catch(() => undefined); // consumed (or dropped) by fetchFirstOnnx
  return { file: files[0], only, result };
}

/**
 * The first of `files` that the folder has (a 404 or an HTML fallback page means it has not). Optimum's merged
 * decoder is refused from the response headers, without downloading it. With none of them, onnx/model.onnx is
 * fetched once more so the error is the one a user expects for that file. `started` is a download of the first file
 * begun earlier; it is used when the list still starts with that file the same way, else left unused.
 */
async function fetchFirstOnnx(baseUrl: string, files: string[], onProgress: ByteProgress, started?: StartedOnnx): Promise<ModelFiles> {
  const reuse = started && started.file === files[0] && started.only === (files.length === 1) ? started.result : undefined;
  if (files.length === 1) return reuse ?? fetchOnnx(baseUrl, files[0], onProgress);
  for (const file of files) {
    if (file.endsWith('/decoder_model_merged.onnx')) {
      const response = await fetch(resolveUrl(baseUrl, file)).catch(() => undefined);
      await response?.body?.cancel().catch(() => undefined);
      if (response?.ok && !isHtmlPage(response)) throw new MergedDecoderError(file, 'not downloaded, known by its file name');
      continue;
    }
    try {
      return await ((file === files[0] ? reuse : undefined) ?? fetchOnnx(baseUrl, file, onProgress, { htmlIsMissing: true }));
    } catch (e) {
      if (!(e instanceof MissingFileError)) throw e;
    }
  }
  return fetchOnnx(baseUrl, 'onnx/model.onnx', onProgress);
}

/** The first run compiles every shader: a two-token prefill and a one-token decode step, results discarded. */
async function warmUp(decoder: DecoderSession, config: ModelConfig, layers: number[]): Promise<void> {
  const token = config.bosTokenId ?? 0;
  decoder.reset();
  for (const ids of [[[token, token]], [[token]]]) {
    const out = await decoder.step({ ids, capture: layers }, true);
    for (const t of out.captures.values()) t.dispose();
  }
  decoder.reset();
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
