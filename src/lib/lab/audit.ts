// The audit (the persona-features "monitor for misalignment in deployment" use): a batch of prompts with persona
// monitors on, reduced to each prompt's peak reading per persona, flags above a threshold, and histograms.
import type { Analysis } from '../engine/api';

export interface AuditPeak {
  value: number;
  /** Token position of the peak, and its text. */
  token: number;
  text: string;
}

export interface AuditRow {
  prompt: string;
  /** Peak monitor reading per persona id. */
  peaks: Record<string, AuditPeak>;
  /** Monitor readings per token, per persona id (for the sparkline). */
  readings: Record<string, number[]>;
  /** Persona ids whose peak reached the threshold. */
  flagged: string[];
}

/** One prompt's row from its analysis (`Analysis.monitor` holds every monitored persona's per-token reading). */
export function auditRow(prompt: string, analysis: Analysis, personaIds: string[], threshold: number, skipFirst = false): AuditRow {
  const peaks: AuditRow['peaks'] = {};
  const readings: AuditRow['readings'] = {};
  const flagged: string[] = [];
  for (const id of personaIds) {
    const values = analysis.monitor[id];
    if (!values) continue;
    readings[id] = Array.from(values);
    let best = -Infinity;
    let at = -1;
    for (let t = skipFirst && values.length > 1 ? 1 : 0; t < values.length; t++) {
      if (values[t] > best) {
        best = values[t];
        at = t;
      }
    }
    if (at < 0) continue;
    peaks[id] = { value: best, token: at, text: analysis.tokens[at]?.text ?? '' };
    if (best >= threshold) flagged.push(id);
  }
  return { prompt, peaks, readings, flagged };
}

export interface SignedHistogram {
  edges: number[];
  counts: number[];
}

/** Equal-width bins from min to max of `values` (readings can be negative: vector monitors are projections). */
export function signedHistogram(values: number[], bins: number): SignedHistogram {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { edges: [0, 0], counts: [0] };
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of finite) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))] += 1;
  return { edges, counts };
}
