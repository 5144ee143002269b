// The GPU token sampler's host-side arithmetic: how logits are reached (bound in place or copied), the uniform
// words sent for the settings, and the draw as a 32-bit fraction.
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { Prng } from '../../../src/lib/runtime/prng';

let drawFraction: typeof import('../../../src/lib/gpu/sampling/tokenSampler').drawFraction;
let gpuSamplingUnsupported: typeof import('../../../src/lib/gpu/sampling/tokenSampler').gpuSamplingUnsupported;
let planLogits: typeof import('../../../src/lib/gpu/sampling/tokenSampler').planLogits;
let samplerParams: typeof import('../../../src/lib/gpu/sampling/tokenSampler').samplerParams;
beforeAll(async () => {
  // device.ts reads WebGPU's usage flags at module load; Node has no WebGPU. Values from the WebGPU spec.
  vi.stubGlobal('GPUBufferUsage', { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64, STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 });
  ({ drawFraction, gpuSamplingUnsupported, planLogits, samplerParams } = await import('../../../src/lib/gpu/sampling/tokenSampler'));
});

const limits = { alignment: 256, maxBindingBytes: 1 << 20 };

describe('planLogits', () => {
  test('one position per row: the whole output bound from offset 0', () => {
    expect(planLogits({ type: 'float32', offset: 0, rowStride: 1000, bufferSize: 8000 }, 2, 1000, limits)).toEqual({
      mode: 'direct',
      bindOffset: 0,
      bindSize: 8000,
      rowOffsets: [0, 1000],
    });
  });

  test('a prefill of 5 positions: bound from the aligned start of row 0 last position, offsets inside the binding', () => {
    // Row 0's last position starts at element 4·1000 = byte 16000; 16000 = 62·256 + 128.
    expect(planLogits({ type: 'float32', offset: 4000, rowStride: 5000, bufferSize: 3 * 5000 * 4 }, 3, 1000, limits)).toEqual({
      mode: 'direct',
      bindOffset: 15872,
      bindSize: 60000 - 15872,
      rowOffsets: [32, 5032, 10032],
    });
  });

  test('half floats at an odd element offset: the binding ends on a whole word, within the buffer', () => {
    const plan = planLogits({ type: 'float16', offset: 3, rowStride: 7, bufferSize: 36 }, 2, 7, limits);
    // 17 halves end at byte 34: bound up to 36.
    expect(plan).toEqual({ mode: 'direct', bindOffset: 0, bindSize: 36, rowOffsets: [3, 10] });
  });

  test('a span over the binding limit is copied row by row into 4-byte-aligned slots', () => {
    const plan = planLogits({ type: 'float16', offset: 5, rowStride: 11, bufferSize: 64 }, 2, 7, { alignment: 256, maxBindingBytes: 8 });
    expect(plan.mode).toBe('gather');
    if (plan.mode !== 'gather') return;
    // 7 halves + room for a 2-byte misalignment, in words: 20 bytes per row.
    expect(plan.gatherStride).toBe(20);
    // Row 0 starts at byte 10 (copied from 8: element 1 of the slot), row 1 at byte 32 (aligned: element 0 of slot 1).
    expect(plan.copies).toEqual([
      { from: 8, to: 0, size: 16 },
      { from: 32, to: 20, size: 16 },
    ]);
    expect(plan.rowOffsets).toEqual([1, 10]);
  });

  test('logits that do not fit their buffer are refused with sizes in the message', () => {
    expect(() => planLogits({ type: 'float32', offset: 10, rowStride: 100, bufferSize: 400 }, 1, 100, limits)).toThrow(/do not fit the 400-byte buffer/);
    expect(() => planLogits({ type: 'float32', offset: 0, rowStride: 50, bufferSize: 4000 }, 2, 100, limits)).toThrow(/row stride 50/);
  });
});

describe('samplerParams', () => {
  test('greedy, top-k clipped to "off" at or above the vocabulary, top-p off at 1', () => {
    const { words } = samplerParams({ temperature: 0, topK: 50, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0 }, 50);
    expect(words.slice(0, 7)).toEqual([50, 1, 0, 0, 0, 0, 0]);
  });

  test('penalties as float64 split into two float32 whose sum is the value to ~2^-48', () => {
    const { words, types } = samplerParams({ temperature: 0.7, topK: 40, topP: 0.95, repetitionPenalty: 1.1, frequencyPenalty: 0.3 }, 50257);
    expect(types.length).toBe(words.length);
    expect(words.slice(0, 7)).toEqual([50257, 0, 40, 1, Math.floor(0.95 * 2 ** 32), 1, 1]);
    expect(Math.abs(words[8] + words[9] - 1.1)).toBeLessThan(1e-14);
    expect(words[8]).toBe(Math.fround(1.1));
    expect(Math.abs(words[11] + words[12] - 0.3)).toBeLessThan(1e-14);
  });

  test('settings the kernel cannot run are refused with the reason', () => {
    expect(gpuSamplingUnsupported({ temperature: 1, topK: 2.5, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0 })).toMatch(/topK must be an integer/);
    expect(gpuSamplingUnsupported({ temperature: 1, topK: 0, topP: 1, repetitionPenalty: 0, frequencyPenalty: 0 })).toMatch(/repetitionPenalty/);
    expect(() => samplerParams({ temperature: NaN, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0 }, 10)).toThrow(/temperature/);
  });
});

describe('drawFraction', () => {
  test("Prng draws are k / 2^32: the fraction is k exactly", () => {
    const rng = new Prng(42);
    for (let i = 0; i < 1000; i++) {
      const u = rng.next();
      expect(drawFraction(u) / 2 ** 32).toBe(u);
    }
    expect(drawFraction(0)).toBe(0);
    expect(drawFraction(1 - 2 ** -32)).toBe(2 ** 32 - 1);
    expect(() => drawFraction(1)).toThrow(/\[0, 1\)/);
  });
});
