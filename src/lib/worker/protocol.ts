// The typed message protocol between the page (client.ts) and the engine worker (engine.worker.ts). Requests
// carry an id; every reply names the request it belongs to. Callbacks (progress, tokens) become messages.
import type {
  PromptMode,
  Analysis,
  DeviceInfo,
  GenerateRequest,
  GenerateResult,
  LabText,
  LoadModelOptions,
  ModelInfo,
  ModelSource,
  PersonaPreset,
  Progress,
  SaeInfo,
  TextStats,
  TextStatsOptions,
  TokenEvent,
} from '../engine/api';

export type EngineRequest =
  | { id: number; type: 'loadModel'; source: ModelSource; options: Omit<LoadModelOptions, 'onProgress'> }
  | { id: number; type: 'loadSae'; baseUrl: string; files?: Record<string, Blob> }
  | { id: number; type: 'personas' }
  | { id: number; type: 'definePersona'; persona: PersonaPreset }
  | { id: number; type: 'removePersona'; personaId: string }
  | { id: number; type: 'analyse'; prompt: string; topK: number; mode?: PromptMode }
  | { id: number; type: 'generate'; request: GenerateRequest }
  | { id: number; type: 'textStats'; texts: LabText[]; options: TextStatsOptions }
  | { id: number; type: 'dispose' }
  | { type: 'cancel' };

/** What each request resolves to. */
export interface EngineResults {
  loadModel: ModelInfo;
  loadSae: SaeInfo;
  personas: PersonaPreset[];
  definePersona: void;
  removePersona: void;
  analyse: Analysis;
  generate: GenerateResult;
  textStats: TextStats[];
  dispose: void;
}

/** An error as it crosses the boundary: `name` keeps its type (e.g. `ContextOverflowError`). */
export interface WireError {
  name: string;
  message: string;
}

/** Something the user should hear about outside any call, e.g. the GPU was lost and the session re-created. */
export interface EngineNotice {
  kind: 'device-lost' | 'device-restored' | 'device-restore-failed' | 'device-upgraded';
  message: string;
  /** Where the model runs now, when that changed. */
  device?: DeviceInfo;
}

/** Engines may offer this (duck-typed) so notices reach the page; `LanguageModel.on` is the usual source. */
export interface NoticeSource {
  onNotice(listener: (notice: EngineNotice) => void): void;
}

export type EngineReply =
  | { id: 0; type: 'notice'; notice: EngineNotice }
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; error: WireError }
  | { id: number; type: 'progress'; progress: Progress }
  | { id: number; type: 'token'; event: TokenEvent };

/** The part of Worker / MessagePort / DedicatedWorkerGlobalScope the protocol needs. */
export interface Port {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

/** Buffers of typed arrays inside a message, so they move instead of being copied. */
export function transferables(value: unknown, out: Transferable[] = [], seen = new Set<unknown>()): Transferable[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer;
    // Only whole, non-shared buffers can move; views into a larger buffer are copied.
    if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength && !seen.has(buffer)) {
      seen.add(buffer);
      out.push(buffer);
    }
    return out;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) transferables(v, out, seen);
  return out;
}

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** Rebuilds a thrown error on the page side; `name` tells callers which typed error it was. */
export function fromWireError(w: WireError): Error {
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}
