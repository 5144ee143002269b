// One generation run: the baseline and steered rows as they stream in, and what the monitor read on each token.

import type { GeneratedToken, GenerateRequest, GenerateResult, TokenEvent } from '../engine/api';
import type { TopRows } from '../ui/features';

export type RunStatus = 'running' | 'done' | 'cancelled' | 'error';

export interface RowView {
  label: 'baseline' | 'steered';
  tokens: GeneratedToken[];
}

export class GenerationRun {
  readonly request: GenerateRequest;
  readonly labels: RowView['label'][];
  status = $state<RunStatus>('running');
  result = $state.raw<GenerateResult | null>(null);
  error = $state<string | null>(null);
  #rows = $state.raw<GeneratedToken[][]>([]);

  constructor(request: GenerateRequest) {
    this.request = request;
    this.labels = request.withBaseline ? ['baseline', 'steered'] : ['steered'];
    this.#rows = this.labels.map(() => []);
  }

  get rows(): RowView[] {
    return this.labels.map((label, i) => ({ label, tokens: this.#rows[i] ?? [] }));
  }

  push(event: TokenEvent): void {
    this.#rows = this.#rows.map((row, i) => (event.rows[i] ? [...row, event.rows[i]] : row));
  }

  finish(result: GenerateResult): void {
    this.result = result;
    // The final result is authoritative: if a token event was missed, its text is still shown.
    this.#rows = this.#rows.map((row, i) => {
      const final = result.rows[i];
      if (!final || final.tokens.length <= row.length) return row;
      return final.tokens.map((t, j) => row[j] ?? { id: t.id, text: t.text, monitor: {} });
    });
    this.status = result.rows.some((r) => r.stopReason === 'cancelled') ? 'cancelled' : 'done';
  }

  fail(message: string): void {
    this.error = message;
    this.status = 'error';
  }

  text(label: RowView['label']): string {
    return this.rows.find((r) => r.label === label)?.tokens.map((t) => t.text).join('') ?? '';
  }
}

/** A generated row as top-k rows for the token view; tokens without top latents read as all-zero rows. */
export function rowTopLatents(tokens: GeneratedToken[]): TopRows {
  const k = tokens.reduce((m, t) => Math.max(m, t.topIndices?.length ?? 0), 0);
  const indices = new Int32Array(tokens.length * k).fill(-1);
  const values = new Float32Array(tokens.length * k);
  tokens.forEach((t, i) => {
    if (t.topIndices) indices.set(t.topIndices.subarray(0, k), i * k);
    if (t.topValues) values.set(t.topValues.subarray(0, k), i * k);
  });
  return { k, indices, values };
}

/** Monitor readings of one persona along a row; NaN where a token carries none. */
export function monitorSeries(tokens: GeneratedToken[], personaId: string): number[] {
  return tokens.map((t) => t.monitor?.[personaId] ?? NaN);
}

export function mean(xs: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    if (Number.isFinite(xs[i])) {
      sum += xs[i];
      n++;
    }
  }
  return n ? sum / n : NaN;
}

/** First token index where the reading exceeds the threshold, or -1. */
export function firstCrossing(series: ArrayLike<number>, threshold: number): number {
  for (let i = 0; i < series.length; i++) if (series[i] > threshold) return i;
  return -1;
}
