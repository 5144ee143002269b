// Downloads a model folder in Hugging Face layout with byte progress, from the app's origin or any base URL.
// External weight files (.onnx_data) are found by reading the graph, so nothing is guessed.
import { TensorProto_DataLocation } from 'onnx-buf';
import { parseModel, type ModelProto } from '../graph';
import { DownloadError, MissingFileError } from './errors';
import { cachedModelFile } from './offlineCache';

export type ByteProgress = (file: string, loaded: number, total: number | undefined) => void;

export function resolveUrl(base: string, file: string): string {
  const root = new URL(base.endsWith('/') ? base : `${base}/`, globalThis.location?.href);
  return new URL(file, root).href;
}

/** An HTML page where a file was asked for: static hosts and dev servers answer a missing path with their index page. */
export function isHtmlPage(response: Response): boolean {
  return (response.headers.get('Content-Type') ?? '').includes('text/html');
}

/**
 * Downloads `url` with byte progress. 404/410 is a MissingFileError, as is an HTML page when `htmlIsMissing` (used
 * when probing which of several files a folder has).
 */
export async function fetchBytes(
  url: string,
  onProgress?: ByteProgress,
  signal?: AbortSignal,
  options: { htmlIsMissing?: boolean } = {},
): Promise<Uint8Array> {
  let response: Response;
  const cached = await cachedModelFile(url);
  try {
    response = cached ?? (await fetch(url, { signal }));
  } catch (e) {
    throw new DownloadError(url, (e as Error).message);
  }
  if (response.status === 404 || response.status === 410) throw new MissingFileError(url, response.status);
  if (options.htmlIsMissing && response.ok && isHtmlPage(response)) {
    await response.body?.cancel().catch(() => undefined);
    throw new MissingFileError(url, response.status);
  }
  if (!response.ok) throw new DownloadError(url, `HTTP ${response.status}`);
  const header = Number(response.headers.get('Content-Length'));
  const total = Number.isFinite(header) && header > 0 ? header : undefined;
  if (cached) {
    // Already on this machine: read in one piece, one progress report.
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await cached.arrayBuffer());
    } catch (e) {
      throw new DownloadError(url, `the cached copy could not be read (${(e as Error).message})`);
    }
    onProgress?.(url, bytes.byteLength, bytes.byteLength);
    return bytes;
  }
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      onProgress?.(url, loaded, total);
    }
  } catch (e) {
    throw new DownloadError(url, `connection lost after ${loaded} bytes (${(e as Error).message})`);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

export async function fetchJson(url: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const bytes = await fetchBytes(url, undefined, signal);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new DownloadError(url, `not valid JSON (${(e as Error).message})`);
  }
}

/** A text file the folder may lack (404 or an HTML fallback page → undefined). */
export async function fetchOptionalText(url: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await fetchBytes(url, undefined, undefined, { htmlIsMissing: true }));
  } catch (e) {
    if (e instanceof MissingFileError) return undefined;
    throw e;
  }
}

export interface ModelFiles {
  onnxFile: string;
  /** Parsed graph (validated); the caller instruments it. */
  model: ModelProto;
  externalData: { path: string; data: Uint8Array }[];
}

/** Fetches the ONNX file and any external data files its initializers name. */
export async function fetchOnnx(
  baseUrl: string,
  onnxFile: string,
  onProgress?: ByteProgress,
  options: { htmlIsMissing?: boolean } = {},
): Promise<ModelFiles> {
  const bytes = await fetchBytes(resolveUrl(baseUrl, onnxFile), onProgress, undefined, options);
  const model = parseModel(bytes);
  const locations = new Set<string>();
  for (const t of model.graph!.initializer)
    if (t.dataLocation === TensorProto_DataLocation.EXTERNAL)
      for (const e of t.externalData) if (e.key === 'location') locations.add(e.value);
  const dir = onnxFile.includes('/') ? onnxFile.slice(0, onnxFile.lastIndexOf('/') + 1) : '';
  const externalData = [];
  for (const path of locations)
    externalData.push({ path, data: await fetchBytes(resolveUrl(baseUrl, dir + path), onProgress) });
  return { onnxFile, model, externalData };
}
