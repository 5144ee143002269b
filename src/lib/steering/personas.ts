// Persona presets (the model folder's personas.json) and user-defined personas, validated against the SAE; and the
// translation of a SteeringSpec into per-row steering terms and in-graph clamps that the engine feeds the model.
import type { PersonaPreset, SteeringSpec } from '../engine/api';
import { SteeringSpecError } from '../sae/errors';

export interface SaeShape {
  layer: number;
  dIn: number;
  dSae: number;
}

export function validatePersona(p: PersonaPreset, sae: SaeShape): void {
  const who = `Persona "${p.id}"`;
  if (!p.id) throw new SteeringSpecError('A persona needs a non-empty id.');
  if (p.layer !== sae.layer) throw new SteeringSpecError(`${who} steers layer ${p.layer}, but the SAE reads layer ${sae.layer}: expected layer ${sae.layer}.`);
  for (const t of p.latents) {
    if (!Number.isInteger(t.latent) || t.latent < 0 || t.latent >= sae.dSae) {
      throw new SteeringSpecError(`${who} names latent ${t.latent}, but the SAE has latents 0..${sae.dSae - 1}.`);
    }
    if (!Number.isFinite(t.coefficient)) throw new SteeringSpecError(`${who}: latent ${t.latent} has a non-finite coefficient.`);
  }
  if (p.vector !== undefined) {
    if (p.vector.length !== sae.dIn) throw new SteeringSpecError(`${who} has a vector of ${p.vector.length} values, expected ${sae.dIn} (the residual width).`);
    const bad = p.vector.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new SteeringSpecError(`${who}: vector value ${bad} is not finite.`);
  }
  if (p.latents.length === 0 && p.vector === undefined) throw new SteeringSpecError(`${who} has neither latents nor a vector.`);
  if (p.defaultUse === 'vector' && p.vector === undefined) throw new SteeringSpecError(`${who} defaults to its vector but has none.`);
  if (p.defaultUse === 'latents' && p.latents.length === 0) throw new SteeringSpecError(`${who} defaults to its latents but has none.`);
}

/** personas.json `monitor: {own_mean, others_mean}` (models/recipe/monitor.py); absent or unusable → no field. */
function monitorCalibration(raw: unknown): { monitor?: PersonaPreset['monitor'] } {
  if (typeof raw !== 'object' || raw === null) return {};
  const { own_mean: ownMean, others_mean: othersMean } = raw as Record<string, unknown>;
  if (typeof ownMean !== 'number' || typeof othersMean !== 'number' || !(ownMean !== othersMean)) return {};
  return { monitor: { ownMean, othersMean } };
}

/** Parses personas.json ({hook_name, layer, d_model, personas: [...]}) into presets, validating each. */
export function parsePersonasJson(raw: Record<string, unknown>, sae: SaeShape): PersonaPreset[] {
  const list = raw.personas;
  if (!Array.isArray(list)) throw new SteeringSpecError('personas.json: expected a "personas" array.');
  const layer = typeof raw.layer === 'number' ? raw.layer : sae.layer;
  if (typeof raw.d_model === 'number' && raw.d_model !== sae.dIn) {
    throw new SteeringSpecError(`personas.json is for d_model = ${raw.d_model}, but the SAE reads ${sae.dIn}.`);
  }
  return list.map((entry: Record<string, unknown>) => {
    const strength = (entry.strength ?? {}) as Record<string, number>;
    const preset: PersonaPreset = {
      id: String(entry.id),
      name: String(entry.name ?? entry.id),
      description: typeof entry.description === 'string' ? entry.description : undefined,
      layer,
      latents: ((entry.latents ?? []) as { latent: number; coefficient: number }[]).map((l) => ({ latent: l.latent, coefficient: l.coefficient })),
      vector: Array.isArray(entry.vector) ? Float32Array.from(entry.vector as number[]) : undefined,
      defaultUse: entry.default_use === 'latents' ? 'latents' : entry.vector ? 'vector' : 'latents',
      strength: { min: strength.min ?? -2, max: strength.max ?? 2, recommended: strength.recommended ?? 1 },
      ...monitorCalibration(entry.monitor),
      source: 'preset',
    };
    validatePersona(preset, sae);
    return preset;
  });
}

export interface RowSteering {
  latents: { latent: number; coefficient: number }[];
  vectors: { vector: Float32Array; coefficient: number }[];
}

export interface ClampTerm {
  latent: number;
  target: number;
}

export interface ResolvedSteering {
  additive: RowSteering;
  clamps: ClampTerm[];
  /** True when anything is steered at all. */
  active: boolean;
}

/** Turns a SteeringSpec into additive terms and clamps, resolving personas. Throws SteeringSpecError on bad terms. */
export function resolveSteering(spec: SteeringSpec, personas: Map<string, PersonaPreset>, sae: SaeShape, maxClamps: number): ResolvedSteering {
  const additive: RowSteering = { latents: [], vectors: [] };
  const clamps: ClampTerm[] = [];
  const checkLatent = (latent: number) => {
    if (!Number.isInteger(latent) || latent < 0 || latent >= sae.dSae) throw new SteeringSpecError(`Steering names latent ${latent}, but the SAE has latents 0..${sae.dSae - 1}.`);
  };
  for (const term of spec.terms) {
    if (term.kind === 'latent') {
      checkLatent(term.latent);
      if (!Number.isFinite(term.coefficient)) throw new SteeringSpecError(`Latent ${term.latent}: coefficient must be finite.`);
      if (term.method === 'clamp') clamps.push({ latent: term.latent, target: term.coefficient });
      else additive.latents.push({ latent: term.latent, coefficient: term.coefficient });
    } else if (term.kind === 'persona') {
      const p = personas.get(term.personaId);
      if (!p) throw new SteeringSpecError(`Unknown persona "${term.personaId}": expected one of ${[...personas.keys()].join(', ') || '(none loaded)'}.`);
      const use = term.use ?? p.defaultUse;
      if (use === 'vector') {
        if (!p.vector) throw new SteeringSpecError(`Persona "${p.id}" has no vector.`);
        additive.vectors.push({ vector: p.vector, coefficient: term.strength });
      } else {
        for (const l of p.latents) additive.latents.push({ latent: l.latent, coefficient: l.coefficient * term.strength });
      }
    } else {
      if (term.vector.length !== sae.dIn) throw new SteeringSpecError(`Steering vector has ${term.vector.length} values, expected ${sae.dIn}.`);
      additive.vectors.push({ vector: term.vector, coefficient: term.coefficient });
    }
  }
  if (clamps.length > maxClamps) throw new SteeringSpecError(`At most ${maxClamps} clamped latents at once, found ${clamps.length}.`);
  return { additive, clamps, active: additive.latents.length + additive.vectors.length + clamps.length > 0 };
}
