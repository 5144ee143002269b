// Launch shapes of the SAE kernels (src/lib/gpu/sae/passes.ts): how many workgroups the one-token encode's split-K and
// the top-k's slices use for a given target, the invariants the two-stage top-k relies on, and which bin selection
// the top-k module is built with. The kernels' results
// are compared with the TypeScript reference in the browser (tests/browser/engine/sae-kernels.spec.ts).
import { beforeAll, describe, expect, it, vi } from 'vitest';

let passes: typeof import('../../../src/lib/gpu/sae/passes');
beforeAll(async () => {
  // device.ts reads WebGPU's usage flags at module load; Node has no WebGPU. Values from the WebGPU spec.
  vi.stubGlobal('GPUBufferUsage', { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64, STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 });
  passes = await import('../../../src/lib/gpu/sae/passes');
});

describe('top-k slices (topkSegments)', () => {
  it('one token of a 24,576-latent SAE on a GPU: 96 slices of 256', () => {
    expect(passes.topkSegments(1, 24576, 32, 2048)).toEqual({ segWidth: 256, segments: 96 });
  });

  it('one workgroup per row on a CPU rasteriser, when the rows fill the target, or when a row is short', () => {
    const single = (width: number) => ({ segWidth: width, segments: 1 });
    expect(passes.topkSegments(1, 24576, 32, 1)).toEqual(single(24576));
    expect(passes.topkSegments(2048, 24576, 32, 2048)).toEqual(single(24576));
    expect(passes.topkSegments(1, 256, 8, 64)).toEqual(single(256));
    expect(passes.topkSegments(3, 333, 100, 64)).toEqual(single(333));
  });

  it('a 64-token prompt shares the target: 32 slices of 768 per row', () => {
    expect(passes.topkSegments(64, 24576, 32, 2048)).toEqual({ segWidth: 768, segments: 32 });
  });

  it('a last slice shorter than k (its output is padded, the merge still sees every real candidate)', () => {
    expect(passes.topkSegments(1, 401, 100, 64)).toEqual({ segWidth: 400, segments: 2 });
  });

  it('over a sweep: slices cover the row exactly, hold at least 4k, and the merge reads at most a quarter of the row plus k', () => {
    for (const rows of [1, 2, 3, 7, 64, 300])
      for (const width of [1, 5, 255, 256, 257, 1000, 4097, 24576, 131072])
        for (const k of [1, 7, 32, 64, 200].filter((k) => k <= width))
          for (const target of [1, 64, 2048]) {
            const { segWidth, segments } = passes.topkSegments(rows, width, k, target);
            const at = `rows ${rows} width ${width} k ${k} target ${target}`;
            expect(segments * segWidth, at).toBeGreaterThanOrEqual(width);
            expect((segments - 1) * segWidth, at).toBeLessThan(width);
            if (segments > 1) {
              expect(segWidth, at).toBeGreaterThanOrEqual(Math.max(256, 4 * k));
              expect(segments * k, at).toBeLessThanOrEqual(width / 4 + k);
              expect(rows * segments, at).toBeLessThanOrEqual(Math.max(target, rows));
            } else expect(segWidth, at).toBe(width);
          }
  });
});

describe('one-token encode split-K (encodeTokenSplits)', () => {
  it('768 → 24,576 in F32 (6,144 column groups, 96 workgroups across): 22 splits for a target of 2048, 1 for 1', () => {
    expect(passes.encodeTokenSplits(6144, 768, 2048)).toBe(22);
    expect(passes.encodeTokenSplits(6144, 768, 1)).toBe(1);
  });

  it('never splits below 32 inputs per split', () => {
    expect(passes.encodeTokenSplits(4, 70, 2048)).toBe(3);
  });
});

describe('top-k bin selection (topkScanFor, topkModuleCode)', () => {
  it('subgroups where the device has the feature, the workgroup-memory scan where it does not', () => {
    expect(passes.topkScanFor(new Set(['subgroups', 'timestamp-query']))).toBe('subgroups');
    expect(passes.topkScanFor(new Set(['shader-f16']))).toBe('shared');
    expect(passes.topkScanFor(new Set())).toBe('shared');
  });

  it('a requested scan overrides the choice, except subgroups on a device without them (a typed error saying what to ask for)', () => {
    expect(passes.topkScanFor(new Set(['subgroups']), 'shared')).toBe('shared');
    expect(passes.topkScanFor(new Set(['subgroups']), 'serial')).toBe('serial');
    expect(passes.topkScanFor(new Set(), 'serial')).toBe('serial');
    expect(() => passes.topkScanFor(new Set(), 'subgroups')).toThrow(/'subgroups' feature.*'shared'/);
  });

  it('only the subgroup module says `enable subgroups;`, before any declaration; each module defines selectBin once', () => {
    for (const scan of ['subgroups', 'shared', 'serial'] as const) {
      const code = passes.topkModuleCode(scan);
      const enables = code.split('\n').filter((line) => line.startsWith('enable '));
      expect(enables, scan).toEqual(scan === 'subgroups' ? ['enable subgroups;'] : []);
      const firstDeclaration = code.search(/^(var|fn|struct|override|const|@)/m);
      if (enables.length) expect(code.indexOf('enable subgroups;'), scan).toBeLessThan(firstDeclaration);
      expect(code.match(/^fn selectBin\(/gm), scan).toHaveLength(1);
      expect(code.match(/^fn scanInit\(/gm), scan).toHaveLength(1);
    }
  });
});
