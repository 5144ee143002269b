// What the UI is told about a loaded SAE: plain data that survives structuredClone across the worker boundary.
import type { SaeInfo } from './api';

/** SaeInfo for the UI: sizes, where it reads, and what the loader applied or could not know. */
export function saeInfoOf(config: {
  hookName: string;
  layer: number;
  dIn: number;
  dSae: number;
  architecture: string;
  prependBos?: boolean;
  neuronpediaId?: string;
  warnings?: string[];
  notes?: string[];
}): SaeInfo {
  const { hookName, layer, dIn, dSae, architecture, prependBos, neuronpediaId, warnings, notes } = config;
  return { hookName, layer, dIn, dSae, architecture, prependBos, neuronpediaId, warnings: warnings ?? [], notes: notes ?? [] };
}
