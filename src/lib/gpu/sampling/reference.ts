// The TypeScript reference of tokenSampler.wgsl: the CPU definition (`sampleToken`) applied to the kernel's inputs,
// so tests compare the two on the same logits layout, histories and draws.
import { sampleToken, type SamplingSettings, type TokenHistory } from '../../runtime/sampling';
import type { RowDraw } from './tokenSampler';

/**
 * For each row that is not stopped (`draws[r] !== null`): `sampleToken` on a copy of the row's last-position logits
 * (`logits` is [rows, positions, vocab] from element `offset`, `rowStride` elements apart), the row's history and
 * its draw as the one random number; then the history records the id, as the kernel's does. Stopped rows give −1
 * and keep their history. `histories` are updated in place.
 */
export function sampleRowsReference(
  logits: Float32Array,
  layout: { offset: number; rowStride: number; vocab: number },
  histories: TokenHistory[],
  settings: SamplingSettings,
  draws: readonly RowDraw[],
): number[] {
  return draws.map((u, r) => {
    if (u === null) return -1;
    const start = layout.offset + r * layout.rowStride;
    const row = logits.slice(start, start + layout.vocab);
    const token = sampleToken(row, histories[r], settings, { next: () => u });
    histories[r].push(token);
    return token;
  });
}
