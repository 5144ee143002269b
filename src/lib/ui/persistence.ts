// Where the experiment lives between visits: the URL (shareable) and local storage (survives a reload even when
// the URL was lost). The URL wins when it carries an experiment.

import type { Experiment } from './experiment';
import { decodeExperiment, parseStoredExperiment, storedExperiment } from './url-state';

const STORAGE_KEY = 'persona-playground:experiment:v1';

export interface Restored {
  experiment: Experiment | null;
  from: 'url' | 'storage' | 'default';
  warnings: string[];
}

export function restoreExperiment(search: string, storage: Storage | null): Restored {
  const fromUrl = decodeExperiment(search);
  if (fromUrl.present) return { experiment: fromUrl.experiment, from: 'url', warnings: fromUrl.warnings };
  let stored: Experiment | null = null;
  try {
    stored = parseStoredExperiment(storage?.getItem(STORAGE_KEY) ?? null);
  } catch {
    stored = null;
  }
  return stored ? { experiment: stored, from: 'storage', warnings: [] } : { experiment: null, from: 'default', warnings: [] };
}

export function saveExperiment(e: Experiment, storage: Storage | null): void {
  try {
    storage?.setItem(STORAGE_KEY, storedExperiment(e));
  } catch {
    // Private mode or a full quota: the URL still carries the experiment.
  }
}

export function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
