// Seeded pseudo-random numbers, so the same seed and settings reproduce the same text. Each batch row owns its
// own stream, which keeps a baseline row identical to an unsteered single-row run.

/** mulberry32: 32-bit state, fast, good enough for sampling. `next()` is uniform in [0, 1). */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
