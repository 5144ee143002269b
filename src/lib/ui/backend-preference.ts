// The page's own `backend` URL key: forces WebGPU or WASM for this visit instead of the automatic choice. It belongs
// to the visitor's device, not to the experiment, so Copy link leaves it out; the address bar keeps it on reload.
import type { Backend } from '../engine/api';

export const BACKEND_KEY = 'backend';

const VALUES = ['auto', 'webgpu', 'wasm'] as const;

/** Reads `backend=auto|webgpu|wasm` from a query string; anything else is 'auto' with a warning in words. */
export function readBackendPreference(search: string): { backend: Backend | 'auto'; warning?: string } {
  const raw = new URLSearchParams(search).get(BACKEND_KEY);
  if (raw === null || raw === '') return { backend: 'auto' };
  const value = raw.toLowerCase();
  if ((VALUES as readonly string[]).includes(value)) return { backend: value as Backend | 'auto' };
  return { backend: 'auto', warning: `backend=${raw} is not one of ${VALUES.join(', ')}; choosing automatically.` };
}

/** `query` (the experiment's) with the page keys of `search` (the current address) appended, so a rewrite keeps them. */
export function keepPageKeys(query: string, search: string): string {
  const raw = new URLSearchParams(search).get(BACKEND_KEY);
  return raw === null ? query : `${query}&${BACKEND_KEY}=${encodeURIComponent(raw)}`;
}
