// The page-side PlaygroundEngine: every call becomes a message to the engine worker, so model work never blocks
// the UI. Same interface as the in-thread engine; typed errors arrive with their `name` intact.
import type {
  PromptMode,
  Analysis,
  GenerateRequest,
  GenerateResult,
  LabEngine,
  LabText,
  LoadModelOptions,
  ModelInfo,
  ModelSource,
  PersonaPreset,
  PlaygroundEngine,
  Progress,
  SaeInfo,
  TextStats,
  TextStatsOptions,
  TokenEvent,
} from '../engine/api';
import { localFilesUnder } from '../runtime/localFolder';
import {
  fromWireError,
  type EngineNotice,
  type EngineReply,
  type EngineRequest,
  type EngineResults,
  type NoticeSource,
  type Port,
} from './protocol';

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;
type Call = Distribute<Exclude<EngineRequest, { type: 'cancel' }>>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (p: Progress) => void;
  onToken?: (e: TokenEvent) => void;
}

export class WorkerEngine implements LabEngine, NoticeSource {
  private noticeListeners = new Set<(notice: EngineNotice) => void>();
  private readonly port: Port & { terminate?: () => void };
  private nextId = 1;
  private pending = new Map<number, Pending>();
  /** Set when the worker script could not start: every call fails at once with it instead of waiting forever. */
  private failure: Error | null = null;

  /** Starts the engine worker; tests may pass any Port speaking the protocol instead. */
  constructor(port?: Port & { terminate?: () => void; addEventListener?: Worker['addEventListener'] }) {
    const p = port ?? new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    this.port = p;
    this.port.onmessage = (event: MessageEvent) => this.receive(event.data as EngineReply);
    p.addEventListener?.('error', (event: Event) => this.workerError(event));
  }

  /**
   * A worker script that fails to load (missing chunk, syntax error, offline without a cache) fires a plain `error`
   * event: the engine is gone. An `ErrorEvent` is an exception thrown inside a running worker: the calls waiting
   * now may never be answered, so they fail, but the worker stays usable.
   */
  private workerError(event: Event): void {
    const thrown = typeof ErrorEvent !== 'undefined' && event instanceof ErrorEvent && event.message;
    const error = thrown
      ? Object.assign(new Error(`The engine worker threw: ${(event as ErrorEvent).message}`), { name: 'EngineWorkerError' })
      : Object.assign(new Error('The engine worker could not start (its script failed to load). Reload the page; if you are offline, visit once online first.'), {
          name: 'EngineWorkerError',
        });
    if (!thrown) this.failure = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Device loss and recovery, announced by the engine outside any call (the UI shows them; settings are kept). */
  onNotice(listener: (notice: EngineNotice) => void): void {
    this.noticeListeners.add(listener);
  }

  private receive(reply: EngineReply): void {
    if (reply.type === 'notice') {
      for (const l of this.noticeListeners) l(reply.notice);
      return;
    }
    const p = this.pending.get(reply.id);
    if (!p) return;
    if (reply.type === 'progress') p.onProgress?.(reply.progress);
    else if (reply.type === 'token') p.onToken?.(reply.event);
    else {
      this.pending.delete(reply.id);
      if (reply.type === 'result') p.resolve(reply.value);
      else p.reject(fromWireError(reply.error));
    }
  }

  private call<K extends Call['type']>(message: Extract<Call, { type: K }>, hooks: Partial<Pending> = {}): Promise<EngineResults[K]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...hooks });
      this.port.postMessage({ ...message, id });
    });
  }

  loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<ModelInfo> {
    const { onProgress, ...rest } = options;
    const baseUrl = absolute(source.baseUrl);
    // A folder opened from disk lives in this page: its files (Blobs, not copied) go with the request.
    const files = source.files ?? localFilesUnder(baseUrl);
    return this.call({ type: 'loadModel', source: { ...source, baseUrl, ...(files ? { files } : {}) }, options: rest }, { onProgress });
  }

  loadSae(baseUrl: string, onProgress?: (p: Progress) => void): Promise<SaeInfo> {
    const url = absolute(baseUrl);
    const files = localFilesUnder(url);
    return this.call({ type: 'loadSae', baseUrl: url, ...(files ? { files } : {}) }, { onProgress });
  }

  personas(): Promise<PersonaPreset[]> {
    return this.call({ type: 'personas' });
  }

  definePersona(persona: PersonaPreset): Promise<void> {
    return this.call({ type: 'definePersona', persona });
  }

  removePersona(id: string): Promise<void> {
    return this.call({ type: 'removePersona', personaId: id });
  }

  analyse(prompt: string, topK: number, mode?: PromptMode): Promise<Analysis> {
    return this.call({ type: 'analyse', prompt, topK, mode });
  }

  generate(request: GenerateRequest, onToken?: (event: TokenEvent) => void): Promise<GenerateResult> {
    return this.call({ type: 'generate', request }, { onToken });
  }

  textStats(texts: LabText[], options: TextStatsOptions, onProgress?: (p: Progress) => void): Promise<TextStats[]> {
    return this.call({ type: 'textStats', texts, options }, { onProgress });
  }

  cancel(): void {
    this.port.postMessage({ type: 'cancel' } satisfies EngineRequest);
  }

  async dispose(): Promise<void> {
    try {
      await this.call({ type: 'dispose' });
    } finally {
      this.port.terminate?.();
      for (const p of this.pending.values()) p.reject(new Error('The engine was disposed.'));
      this.pending.clear();
    }
  }
}

/** Folder URLs are relative to the page; inside the worker they would resolve against the worker's script. */
function absolute(url: string): string {
  return typeof location === 'undefined' ? url : new URL(url, location.href).href;
}
