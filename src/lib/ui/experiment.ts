// The experiment as plain data: everything needed to reproduce a run (model, SAE, prompt, steers, sampling, seed).
// The URL codec, local storage and the reactive state class all speak this one shape.

import type { SteerMethod } from '../engine/api';
import { DEFAULT_MODEL, DEFAULT_SAE } from './models';

export interface PersonaSteer {
  personaId: string;
  strength: number;
  /** Drive the persona's latents or its raw vector; absent = the preset's default. */
  use?: 'latents' | 'vector';
}

export interface LatentSteer {
  latent: number;
  coefficient: number;
  method: SteerMethod;
}

/** A persona the user assembled from latents; stored whole so a shared link can recreate it. */
export interface CustomPersona {
  id: string;
  name: string;
  latents: { latent: number; coefficient: number }[];
}

export interface Sampling {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  seed: number;
}

export interface Watch {
  personaId: string;
  threshold: number;
}

export interface Experiment {
  model: string;
  sae: string;
  prompt: string;
  personas: PersonaSteer[];
  latents: LatentSteer[];
  custom: CustomPersona[];
  sampling: Sampling;
  positions: 'all' | 'generated';
  /** Also steer special-token positions (BOS, chat-template markers); off by default. */
  steerSpecial?: boolean;
  /** 'chat': the prompt is the user's message, sent through the model's chat template (models that have one). */
  promptMode: 'text' | 'chat';
  /** Latent that colours the token view; null = the most specific non-dense latent on the text. */
  selectedLatent: number | null;
  watch: Watch | null;
}

/**
 * The example prompt of the first view: written in the Preacher's register (not a verse of the corpus), so the persona
 * bars show one clear signal (Preacher's level 1.75, every other persona's at most 0.04 with the fp32 model) and the
 * most specific latents on it are Preacher latents.
 */
export const DEFAULT_PROMPT = 'And the old man said unto them, Behold, I have read the book of the law';

export const DEFAULT_SAMPLING: Sampling = { maxNewTokens: 40, temperature: 0.8, topP: 0.95, seed: 42 };

export const LIMITS = {
  maxNewTokens: { min: 1, max: 256 },
  temperature: { min: 0, max: 2 },
  topP: { min: 0.05, max: 1 },
  seed: { min: 0, max: 2 ** 31 - 1 },
  promptChars: 4000,
  threshold: { min: -1000, max: 1000 },
} as const;

export function defaultExperiment(): Experiment {
  return {
    model: DEFAULT_MODEL,
    sae: DEFAULT_SAE,
    prompt: DEFAULT_PROMPT,
    personas: [],
    latents: [],
    custom: [],
    sampling: { ...DEFAULT_SAMPLING },
    positions: 'all',
    promptMode: 'text',
    selectedLatent: null,
    watch: null,
  };
}

export function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

/** Deep copy through JSON: experiments hold only plain data. */
export function cloneExperiment(e: Experiment): Experiment {
  return JSON.parse(JSON.stringify(e)) as Experiment;
}

/** Steers that change the output: zero strengths are kept in the UI but are not steering. */
export function activePersonaSteers(e: Experiment): PersonaSteer[] {
  return e.personas.filter((p) => p.strength !== 0);
}

export function isSteered(e: Experiment): boolean {
  return activePersonaSteers(e).length > 0 || e.latents.some((l) => l.method === 'clamp' || l.coefficient !== 0);
}
