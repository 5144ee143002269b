// The WASM path's SAE backend: asking for no reconstruction skips decode without changing any answer that was asked
// for, and the one-pass top-k gives the same answers as the old full-sort path (the benchmark's "before").
import { afterEach, describe, expect, it } from 'vitest';
import { CpuSaeBackend, cpuSaeLegacy } from '../../../src/lib/engine/cpuSaeBackend';
import type { RowSelection } from '../../../src/lib/engine/saeBackend';
import { saeReference } from '../../../src/lib/sae';
import { randomArray, randomSae, rng } from '../sae/fixtures';

const dIn = 24;
const dSae = 300;
const rows = 2;
const positions = 5;

/** A captured [rows, positions, dIn] residual and the selection of every position (prompt analysis). */
function captured(seed: number) {
  const data = randomArray(rows * positions * dIn, rng(seed), 3);
  const all: RowSelection = { offset: 0, rowStride: positions * dIn, tokensPerRow: positions, tokens: rows * positions };
  // Generation's selection: the last position of each row.
  const last: RowSelection = { offset: (positions - 1) * dIn, rowStride: positions * dIn, tokensPerRow: 1, tokens: rows };
  return { input: { read: async () => data }, data, all, last };
}

function backend(architecture: 'topk' | 'standard', legacy = false): CpuSaeBackend {
  cpuSaeLegacy.enabled = legacy;
  const b = new CpuSaeBackend(randomSae({ dIn, dSae, architecture, k: 17, seed: 5 }));
  cpuSaeLegacy.enabled = false;
  b.setMonitors([
    { id: 'latents', latents: [{ latent: 3, coefficient: 2 }, { latent: 250, coefficient: -1 }] },
    { id: 'vector', latents: [], vector: randomArray(dIn, rng(9)) },
  ]);
  return b;
}

afterEach(() => {
  cpuSaeLegacy.enabled = false;
});

describe('CpuSaeBackend', () => {
  for (const architecture of ['topk', 'standard'] as const)
    it(`${architecture}: reconstruction off leaves top-k and monitors unchanged and skips the error`, async () => {
      const b = backend(architecture);
      const { input, all, last } = captured(1);
      for (const select of [all, last])
        for (const k of [1, 8, 17, 40]) {
          const full = await b.analyse(input, select, k);
          const lean = await b.analyse(input, select, k, { reconstruction: false });
          expect(lean.k).toBe(full.k);
          expect(lean.indices).toEqual(full.indices);
          expect(lean.values).toEqual(full.values);
          expect(lean.monitor).toEqual(full.monitor);
          expect(lean.reconstructionError).toEqual(new Float32Array(select.tokens));
          // The full call's error is the reference's, and not trivially zero (so the comparison above means something).
          expect(Math.min(...full.reconstructionError)).toBeGreaterThan(0);
        }
    });

  it('reports the reference encode’s error and top-k for every selected position', async () => {
    const b = backend('topk');
    const { input, data, all } = captured(2);
    const r = await b.analyse(input, all, 8);
    const acts = saeReference.encode(b.sae, data, all.tokens);
    const top = saeReference.topK(acts, all.tokens, dSae, 8, 'sort');
    expect(r.indices).toEqual(top.indices);
    expect(r.values).toEqual(top.values);
    const xn = saeReference.preprocess(b.sae.config, data, all.tokens);
    expect(r.reconstructionError).toEqual(saeReference.reconstructionError(xn, saeReference.decode(b.sae, acts, all.tokens), all.tokens, dIn));
  });

  it('the one-pass path answers exactly as the old full-sort path (the benchmark’s before)', async () => {
    const now = backend('topk');
    const before = backend('topk', true);
    const { input, last } = captured(3);
    for (const k of [1, 8, 17, 64, 100]) {
      const a = await now.analyse(input, last, k, { reconstruction: false });
      const b = await before.analyse(input, last, k, { reconstruction: false });
      expect(a.indices).toEqual(b.indices);
      expect(a.values).toEqual(b.values);
      expect(a.monitor).toEqual(b.monitor);
      // The old path ignored the request and always decoded.
      expect(Math.min(...b.reconstructionError)).toBeGreaterThan(0);
    }
  });
});
