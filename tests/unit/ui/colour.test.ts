import { describe, expect, it } from 'vitest';
import {
  activationSwatch,
  contrastRatio,
  DIVERGING,
  divergingSwatch,
  interpolate,
  luminance,
  SEQUENTIAL,
  textOn,
  type Rgb,
} from '../../../src/lib/ui/colour';

function parse(css: string): Rgb {
  const m = css.match(/rgb\((\d+) (\d+) (\d+)\)/)!;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

describe('colour scales', () => {
  it('sequential scale gets darker as activation grows', () => {
    let previous = Infinity;
    for (let i = 0; i <= 50; i++) {
      const l = luminance(interpolate(SEQUENTIAL, i / 50));
      expect(l).toBeLessThanOrEqual(previous + 1e-9);
      previous = l;
    }
  });

  it('text on every swatch meets WCAG AA contrast (4.5)', () => {
    for (let i = 0; i <= 100; i++) {
      const a = activationSwatch(i, 100);
      expect(contrastRatio(parse(a.background), parse(a.text))).toBeGreaterThanOrEqual(4.5);
      const d = divergingSwatch(i - 50, 50);
      expect(contrastRatio(parse(d.background), parse(d.text))).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('clamps out-of-range and non-finite inputs', () => {
    expect(interpolate(SEQUENTIAL, -3)).toEqual(SEQUENTIAL[0]);
    expect(interpolate(SEQUENTIAL, 7)).toEqual(SEQUENTIAL[SEQUENTIAL.length - 1]);
    expect(interpolate(SEQUENTIAL, NaN)).toEqual(SEQUENTIAL[0]);
    expect(activationSwatch(5, 0)).toEqual(activationSwatch(0, 1));
  });

  it('diverging scale is light at zero and symmetric in lightness', () => {
    const mid = parse(divergingSwatch(0, 1).background);
    expect(luminance(mid)).toBeGreaterThan(0.85);
    const lo = luminance(parse(divergingSwatch(-1, 1).background));
    const hi = luminance(parse(divergingSwatch(1, 1).background));
    expect(Math.abs(lo - hi)).toBeLessThan(0.1);
    expect(parse(divergingSwatch(-1, 1).background)).toEqual(DIVERGING[0]);
  });

  it('picks dark text on light colours and light text on dark ones', () => {
    expect(luminance(textOn([255, 255, 255]))).toBeLessThan(0.05);
    expect(luminance(textOn([127, 0, 0]))).toBeGreaterThan(0.9);
  });
});
