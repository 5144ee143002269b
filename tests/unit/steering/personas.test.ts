import { describe, expect, it } from 'vitest';
import type { PersonaPreset } from '../../../src/lib/engine/api';
import { SteeringSpecError } from '../../../src/lib/sae';
import { parsePersonasJson, resolveSteering, validatePersona } from '../../../src/lib/steering/personas';

const shape = { layer: 1, dIn: 4, dSae: 10 };
const persona = (over: Partial<PersonaPreset> = {}): PersonaPreset => ({
  id: 'p',
  name: 'P',
  layer: 1,
  latents: [{ latent: 3, coefficient: 2 }],
  vector: Float32Array.from([1, 0, 0, 0]),
  defaultUse: 'vector',
  strength: { min: -2, max: 2, recommended: 1 },
  source: 'user',
  ...over,
});

describe('personas', () => {
  it('parses personas.json and validates every entry', () => {
    const raw = {
      hook_name: 'blocks.1.hook_resid_post',
      layer: 1,
      d_model: 4,
      personas: [
        { id: 'preacher', name: 'Preacher', latents: [{ latent: 2, coefficient: 1.5 }], vector: [0, 1, 0, 0], default_use: 'vector', strength: { min: -2, max: 2, recommended: 1 } },
        { id: 'manual', name: 'Manual', latents: [{ latent: 9, coefficient: 1 }], default_use: 'latents' },
      ],
    };
    const presets = parsePersonasJson(raw, shape);
    expect(presets.map((p) => [p.id, p.defaultUse, p.source, p.layer])).toEqual([
      ['preacher', 'vector', 'preset', 1],
      ['manual', 'latents', 'preset', 1],
    ]);
    expect(Array.from(presets[0].vector!)).toEqual([0, 1, 0, 0]);
    expect(() => parsePersonasJson({ ...raw, d_model: 8 }, shape)).toThrow(/d_model = 8.*reads 4/);
    expect(() => parsePersonasJson({ ...raw, personas: [{ ...raw.personas[1], latents: [{ latent: 10, coefficient: 1 }] }] }, shape)).toThrow(SteeringSpecError);
  });

  it('reads the monitor calibration the persona bars are drawn on, and ignores an unusable one', () => {
    const base = { id: 'a', name: 'A', latents: [{ latent: 2, coefficient: 1 }], default_use: 'latents' };
    const [ok, none, flat, bad] = parsePersonasJson(
      {
        d_model: 4,
        personas: [
          { ...base, monitor: { own_mean: 6.96, others_mean: -3.62, own_sentences: 60 } },
          { ...base, id: 'b' },
          { ...base, id: 'c', monitor: { own_mean: 1, others_mean: 1 } },
          { ...base, id: 'd', monitor: { own_mean: '6' } },
        ],
      },
      shape,
    );
    expect(ok.monitor).toEqual({ ownMean: 6.96, othersMean: -3.62 });
    expect(none.monitor).toBeUndefined();
    expect(flat.monitor).toBeUndefined();
    expect(bad.monitor).toBeUndefined();
  });

  it('rejects latents ≥ d_sae, wrong-size vectors and wrong layers', () => {
    expect(() => validatePersona(persona(), shape)).not.toThrow();
    expect(() => validatePersona(persona({ latents: [{ latent: 10, coefficient: 1 }] }), shape)).toThrow(/latent 10, but the SAE has latents 0\.\.9/);
    expect(() => validatePersona(persona({ vector: new Float32Array(5) }), shape)).toThrow(/5 values, expected 4/);
    expect(() => validatePersona(persona({ layer: 2 }), shape)).toThrow(/layer 2/);
    expect(() => validatePersona(persona({ vector: undefined }), shape)).toThrow(/defaults to its vector but has none/);
  });

  it('resolves a steering spec into additive terms and clamps', () => {
    const personas = new Map([['p', persona()]]);
    const v = Float32Array.from([0, 0, 1, 0]);
    const r = resolveSteering(
      {
        positions: 'all',
        terms: [
          { kind: 'persona', personaId: 'p', strength: 1.5 },
          { kind: 'persona', personaId: 'p', strength: -1, use: 'latents' },
          { kind: 'latent', latent: 7, coefficient: 4, method: 'add' },
          { kind: 'latent', latent: 5, coefficient: 0, method: 'clamp' },
          { kind: 'vector', vector: v, coefficient: 2 },
        ],
      },
      personas,
      shape,
      4,
    );
    expect(r.additive.latents).toEqual([
      { latent: 3, coefficient: -2 },
      { latent: 7, coefficient: 4 },
    ]);
    expect(r.additive.vectors.map((t) => t.coefficient)).toEqual([1.5, 2]);
    expect(r.clamps).toEqual([{ latent: 5, target: 0 }]);
    expect(r.active).toBe(true);
    expect(() => resolveSteering({ positions: 'all', terms: [{ kind: 'persona', personaId: 'nope', strength: 1 }] }, personas, shape, 4)).toThrow(/Unknown persona "nope"/);
    expect(() => resolveSteering({ positions: 'all', terms: [{ kind: 'latent', latent: 10, coefficient: 1, method: 'add' }] }, personas, shape, 4)).toThrow(SteeringSpecError);
    const many = Array.from({ length: 5 }, (_, i) => ({ kind: 'latent' as const, latent: i, coefficient: 0, method: 'clamp' as const }));
    expect(() => resolveSteering({ positions: 'all', terms: many }, personas, shape, 4)).toThrow(/At most 4 clamped/);
    expect(resolveSteering({ positions: 'generated', terms: [] }, personas, shape, 4).active).toBe(false);
  });
});
