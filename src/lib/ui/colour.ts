// Colour scales for activations (sequential, 0 → strongest) and persona readings (diverging around 0).
// Every colour carries the text colour that reads on it (WCAG contrast ≥ 4.5), so tokens stay legible at any value.

export type Rgb = readonly [number, number, number];

export interface Swatch {
  background: string;
  text: string;
}

/** ColorBrewer OrRd, light to dark: ordered by luminance, distinguishable for common colour-vision deficiencies. */
export const SEQUENTIAL: readonly Rgb[] = [
  [255, 247, 236],
  [254, 232, 200],
  [253, 212, 158],
  [253, 187, 132],
  [252, 141, 89],
  [239, 101, 72],
  [215, 48, 31],
  [179, 0, 0],
  [127, 0, 0],
];

/** ColorBrewer RdBu reversed: blue for negative, near-white at 0, red for positive. */
export const DIVERGING: readonly Rgb[] = [
  [33, 102, 172],
  [103, 169, 207],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [239, 138, 98],
  [178, 24, 43],
];

function channel(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

export function luminance([r, g, b]: Rgb): number {
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrastRatio(a: Rgb, b: Rgb): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [255, 255, 255];

export function textOn(bg: Rgb): Rgb {
  return contrastRatio(bg, BLACK) >= contrastRatio(bg, WHITE) ? BLACK : WHITE;
}

export function interpolate(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

export function css([r, g, b]: Rgb): string {
  return `rgb(${r} ${g} ${b})`;
}

function swatch(bg: Rgb): Swatch {
  return { background: css(bg), text: css(textOn(bg)) };
}

/** Activation `value` on a scale whose top is `max`; 0 or below is the lightest colour. */
export function activationSwatch(value: number, max: number): Swatch {
  const t = max > 0 ? value / max : 0;
  return swatch(interpolate(SEQUENTIAL, t));
}

/**
 * Top of a latent's colour scale: its own largest activation in the dashboards (`max_activation`), so that a weak
 * firing looks weak; the text's largest value when there is no dashboard value or the text goes beyond it.
 */
export function latentScaleTop(dashboardMax: number | undefined, textMax: number): number {
  return dashboardMax !== undefined && Number.isFinite(dashboardMax) && dashboardMax > 0 ? Math.max(dashboardMax, textMax) : textMax;
}

/** A signed reading on a symmetric scale ±`limit`. */
export function divergingSwatch(value: number, limit: number): Swatch {
  const t = limit > 0 ? 0.5 + value / (2 * limit) : 0.5;
  return swatch(interpolate(DIVERGING, t));
}

/** CSS gradient for a legend bar. */
export function legendGradient(stops: readonly Rgb[]): string {
  return `linear-gradient(to right, ${stops.map(css).join(', ')})`;
}
