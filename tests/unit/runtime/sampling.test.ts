// Sampling and PRNG: pure functions, checked against hand-computed distributions.
import { describe, expect, test } from 'vitest';
import { Prng } from '../../../src/lib/runtime/prng';
import { GREEDY, TokenHistory, applyPenalties, argmax, sampleToken } from '../../../src/lib/runtime/sampling';

const base = { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, frequencyPenalty: 0 };

function histogram(logits: number[], settings = base, n = 20000, seed = 1): number[] {
  const rng = new Prng(seed);
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleToken(Float32Array.from(logits), new TokenHistory([]), settings, rng)]++;
  return counts.map((c) => c / n);
}

describe('Prng', () => {
  test('is reproducible per seed, uniform in [0,1), and seeds differ', () => {
    const a = new Prng(42), b = new Prng(42), c = new Prng(43);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(xs.slice(0, 10)).not.toEqual(Array.from({ length: 10 }, () => c.next()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.05);
  });
});

describe('sampleToken', () => {
  test('greedy is argmax with ties to the lowest id and uses no randomness', () => {
    const rng = new Prng(1);
    expect(sampleToken(Float32Array.from([1, 3, 3, 2]), new TokenHistory([]), GREEDY, rng)).toBe(1);
    expect(rng.next()).toBe(new Prng(1).next());
    expect(argmax(Float32Array.from([-5, -1, -3]))).toBe(1);
  });

  test('temperature 1 follows softmax', () => {
    const p = histogram([0, Math.log(3)]);
    expect(p[1]).toBeCloseTo(0.75, 1);
  });

  test('top-k keeps only the k best', () => {
    const p = histogram([3, 2, 1, 0], { ...base, topK: 2 });
    expect(p[2] + p[3]).toBe(0);
    expect(p[0]).toBeCloseTo(Math.E / (Math.E + 1), 1);
  });

  test('top-p keeps the smallest set reaching p', () => {
    // probs 0.5, 0.3, 0.2: p=0.7 keeps the first two.
    const p = histogram([Math.log(0.5), Math.log(0.3), Math.log(0.2)], { ...base, topP: 0.7 });
    expect(p[2]).toBe(0);
    expect(p[0]).toBeCloseTo(0.625, 1);
  });

  test('repetition and frequency penalties', () => {
    const logits = Float32Array.from([2, -2, 1, 0]);
    const h = new TokenHistory([0, 1]);
    h.push(2);
    h.push(2);
    applyPenalties(logits, h, { ...base, repetitionPenalty: 2, frequencyPenalty: 0.25 });
    expect([...logits]).toEqual([1, -4, 0.5 - 0.5, 0]);
  });
});
