// How strongly each persona reads on a text, from the monitor's per-token readings of an analysis: the numbers
// behind the persona bars above the token strip.

import type { Analysis, PersonaPreset } from '../engine/api';

export interface PersonaReading {
  id: string;
  name: string;
  /** Mean of the monitor's per-token reading over the text's tokens (special tokens left out). */
  reading: number;
  /**
   * The reading on the persona's calibrated scale, (reading − othersMean) / (ownMean − othersMean): 0 reads like
   * the other voices' held-out text, 1 like the persona's own (personas.json `monitor`). Null when uncalibrated.
   */
  level: number | null;
  /** Tokens averaged over. */
  tokens: number;
}

/** Mean of `series` over the positions that are not special; NaN when none are left. */
export function textMean(series: ArrayLike<number>, tokens: { special?: boolean }[]): number {
  let sum = 0;
  let n = 0;
  for (let t = 0; t < tokens.length && t < series.length; t++) {
    if (tokens[t].special) continue;
    sum += series[t];
    n += 1;
  }
  return n ? sum / n : NaN;
}

/**
 * A raw monitor reading on the persona's calibrated scale, (reading − othersMean) / (ownMean − othersMean): 0 reads like
 * the other voices' held-out text, 1 like the persona's own (personas.json `monitor`, measured by the recipe). Null
 * without a calibration (or a degenerate one, ownMean = othersMean) and for a non-finite reading.
 */
export function readingLevel(reading: number, monitor: PersonaPreset['monitor']): number | null {
  if (!monitor || monitor.ownMean === monitor.othersMean || !Number.isFinite(reading)) return null;
  return (reading - monitor.othersMean) / (monitor.ownMean - monitor.othersMean);
}

/** Per persona with a monitor reading in the analysis, in the presets' order. */
export function personaReadings(analysis: Pick<Analysis, 'tokens' | 'monitor'>, presets: PersonaPreset[]): PersonaReading[] {
  const out: PersonaReading[] = [];
  for (const p of presets) {
    const series = analysis.monitor[p.id];
    if (!series) continue;
    const reading = textMean(series, analysis.tokens);
    const level = readingLevel(reading, p.monitor);
    out.push({ id: p.id, name: p.name, reading, level, tokens: analysis.tokens.filter((t) => !t.special).length });
  }
  return out;
}

/** The persona that reads highest: by level when every persona is calibrated, else by raw reading; null if none. */
export function strongestPersona(readings: PersonaReading[]): PersonaReading | null {
  const calibrated = readings.length > 0 && readings.every((r) => r.level !== null);
  let best: PersonaReading | null = null;
  for (const r of readings) {
    const v = calibrated ? r.level! : r.reading;
    if (!Number.isFinite(v)) continue;
    if (!best || v > (calibrated ? best.level! : best.reading)) best = r;
  }
  return best;
}
