// The one way the lab fetches and checks the recipe's JSON files (variants.json, voice-classifier.json,
// emergence-golden.json): fetch, parse, check the format tag, and read fields with typed errors naming the file.
import { LabFileFormatError } from './errors';

export type Json = Record<string, unknown>;

/** Shows a found value briefly in an error message (strings quoted, long values cut). */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `an array of ${v.length}` : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Fetches `url` and parses it as a JSON object. `optional`: a 404 or an HTML fallback page (a static host's
 * index.html for any missing path) gives null. Throws `LabFileFormatError` when the body is not a JSON object, and
 * an `Error` naming the URL for any other HTTP failure; a network failure rejects as fetch does.
 */
export async function fetchLabJson(url: string, options: { optional?: boolean; fetcher?: typeof fetch } = {}): Promise<Json | null> {
  const response = await (options.fetcher ?? fetch)(url);
  const html = (response.headers.get('content-type') ?? '').includes('text/html');
  if (options.optional && (response.status === 404 || (response.ok && html))) return null;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LabFileFormatError(url, 'a JSON file', html ? 'an HTML page' : `text that is not JSON (${describeValue(text.slice(0, 40))})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new LabFileFormatError(url, 'a JSON object', describeValue(json));
  return json as Json;
}

/** Throws `LabFileFormatError` unless `json.format` is `expected` (absent counts as wrong unless `allowMissing`). */
export function checkFormat(json: Json, expected: string, source: string, allowMissing = false): void {
  if (allowMissing && json.format === undefined) return;
  if (json.format !== expected) throw new LabFileFormatError(source, `"format": "${expected}"`, `"format": ${describeValue(json.format)}`);
}

/** Field readers: each throws `LabFileFormatError` naming `source` and the field's path. */
export function fieldReader(source: string) {
  const fail = (path: string, expected: string, v: unknown): never => {
    throw new LabFileFormatError(source, `${path} to be ${expected}`, describeValue(v));
  };
  const number = (v: unknown, path: string): number => (typeof v === 'number' && Number.isFinite(v) ? v : fail(path, 'a finite number', v));
  const integer = (v: unknown, path: string, min = 0): number => (typeof v === 'number' && Number.isInteger(v) && v >= min ? v : fail(path, `an integer >= ${min}`, v));
  const string = (v: unknown, path: string): string => (typeof v === 'string' ? v : fail(path, 'a string', v));
  const array = (v: unknown, path: string, length?: number): unknown[] => {
    if (!Array.isArray(v)) return fail(path, length === undefined ? 'an array' : `an array of ${length}`, v);
    if (length !== undefined && v.length !== length) return fail(path, `an array of ${length}`, v);
    return v;
  };
  const object = (v: unknown, path: string): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : fail(path, 'an object', v));
  return { fail, number, integer, string, array, object };
}
