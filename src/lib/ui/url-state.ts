// Compact, versioned codec between an Experiment and a query string, readable enough to edit by hand:
//   ?v=1&m=voices&p=Once+upon&ps=preacher:1.5,hacker:-2&ls=123:8:a&cp=u1:My%2520name:12/1.5;40/-2&n=40&t=0.8&tp=0.95&seed=7
// Defaults are omitted. Structured values use `, : ; /` as separators and percent-encode the names inside them, so
// the separators stay unambiguous. Decoding never throws: bad fields fall back to defaults and are reported.

import {
  clamp,
  defaultExperiment,
  LIMITS,
  type CustomPersona,
  type Experiment,
  type LatentSteer,
  type PersonaSteer,
} from './experiment';
import { KNOWN_MODELS } from './models';

export const CODEC_VERSION = 1;

export interface DecodeResult {
  experiment: Experiment;
  /** Fields that were present but unusable, in words. */
  warnings: string[];
  /** True when the query carried any experiment field at all. */
  present: boolean;
}

const KEYS = ['v', 'm', 's', 'p', 'pm', 'ps', 'ls', 'cp', 'n', 't', 'tp', 'seed', 'pos', 'sp', 'sel', 'w'] as const;

function num(x: number): string {
  return String(Number(x.toFixed(4)));
}

/** Percent-encodes everything but the characters that are safe and readable in a query value. */
function encodeValue(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%3B/g, ';').replace(/%2F/g, '/');
}

function decodeValue(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** Names inside structured values: percent-encoded so they never contain a separator. */
function encodeName(s: string): string {
  return encodeURIComponent(s);
}

export function encodeExperiment(e: Experiment): string {
  const d = defaultExperiment();
  const parts: [string, string][] = [['v', String(CODEC_VERSION)]];
  if (e.model !== d.model) parts.push(['m', encodeValue(e.model)]);
  if (e.sae !== d.sae) parts.push(['s', encodeValue(e.sae)]);
  parts.push(['p', encodeValue(e.prompt)]);
  if (e.personas.length)
    parts.push([
      'ps',
      e.personas
        .map((p) => `${encodeName(p.personaId)}:${num(p.strength)}${p.use ? `:${p.use === 'vector' ? 'v' : 'l'}` : ''}`)
        .join(','),
    ]);
  if (e.latents.length)
    parts.push(['ls', e.latents.map((l) => `${l.latent}:${num(l.coefficient)}:${l.method === 'clamp' ? 'c' : 'a'}`).join(',')]);
  if (e.custom.length)
    parts.push([
      'cp',
      e.custom
        .map((c) => `${encodeName(c.id)}:${encodeName(c.name)}:${c.latents.map((l) => `${l.latent}/${num(l.coefficient)}`).join(';')}`)
        .join(','),
    ]);
  const s = e.sampling;
  if (s.maxNewTokens !== d.sampling.maxNewTokens) parts.push(['n', String(s.maxNewTokens)]);
  if (s.temperature !== d.sampling.temperature) parts.push(['t', num(s.temperature)]);
  if (s.topP !== d.sampling.topP) parts.push(['tp', num(s.topP)]);
  parts.push(['seed', String(s.seed)]);
  if (e.positions === 'generated') parts.push(['pos', 'g']);
  if (e.steerSpecial) parts.push(['sp', '1']);
  if (e.promptMode === 'chat') parts.push(['pm', 'c']);
  if (e.selectedLatent !== null) parts.push(['sel', String(e.selectedLatent)]);
  if (e.watch) parts.push(['w', `${encodeName(e.watch.personaId)}:${num(e.watch.threshold)}`]);
  return parts.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * A link re-encoded by another tool (URLSearchParams, a CMS) has its separators percent-encoded too: `a%3A1%2Cb%3A2`.
 * A value with encoded separators but no literal ones was encoded once more than we wrote it; undo that layer.
 */
function unwrapReencoded(raw: string): string {
  if (/[:,;/]/.test(raw) || !/%(3A|2C|3B|2F)/i.test(raw)) return raw;
  return encodeValue(decodeValue(raw));
}

/** Splits a query string without decoding the values, so structured fields can be split before decoding. */
function rawParams(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of query.replace(/^[?#]/, '').split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decodeValue(eq < 0 ? pair : pair.slice(0, eq));
    out.set(key, eq < 0 ? '' : unwrapReencoded(pair.slice(eq + 1)));
  }
  return out;
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function parseNumber(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '') return null;
  const x = Number(decodeValue(raw));
  return Number.isFinite(x) ? x : null;
}

function parseInteger(raw: string | undefined): number | null {
  const x = parseNumber(raw);
  return x !== null && Number.isInteger(x) ? x : null;
}

export function decodeExperiment(query: string): DecodeResult {
  const params = rawParams(query);
  const experiment = defaultExperiment();
  const warnings: string[] = [];
  const present = KEYS.some((k) => params.has(k));
  if (!present) return { experiment, warnings, present };

  const version = params.has('v') ? parseInteger(params.get('v')) : CODEC_VERSION;
  if (version === null || version < 1) warnings.push(`Unknown link version "${decodeValue(params.get('v') ?? '')}"; read as version 1.`);
  else if (version > CODEC_VERSION)
    warnings.push(`This link was made by a newer version (v${version}); some settings may be ignored.`);

  const text = (k: string) => (params.has(k) ? decodeValue(params.get(k)!) : undefined);
  const model = text('m');
  if (model) experiment.model = model;
  const sae = text('s');
  if (sae) experiment.sae = sae;
  else {
    // `s` is omitted when it is the default SAE id; an embedded model without that SAE (the one-layer smoke model)
    // reads its own first SAE instead of failing with "layer 1 does not exist".
    const known = KNOWN_MODELS.find((m) => m.id === experiment.model);
    if (known && known.saes.length && !known.saes.some((s) => s.id === experiment.sae)) experiment.sae = known.saes[0].id;
  }
  const prompt = text('p');
  if (prompt !== undefined) {
    if (prompt.length > LIMITS.promptChars) warnings.push(`Prompt cut to ${LIMITS.promptChars} characters.`);
    experiment.prompt = prompt.slice(0, LIMITS.promptChars);
  }

  const ps = params.get('ps');
  if (ps) {
    const seen = new Set<string>();
    for (const item of ps.split(',')) {
      const [id, strength, use] = item.split(':');
      const value = parseNumber(strength);
      const personaId = decodeName(id ?? '');
      if (!personaId || value === null || seen.has(personaId)) {
        warnings.push(`Ignored persona setting "${decodeName(item)}".`);
        continue;
      }
      seen.add(personaId);
      const steer: PersonaSteer = { personaId, strength: value };
      if (use === 'v') steer.use = 'vector';
      else if (use === 'l') steer.use = 'latents';
      experiment.personas.push(steer);
    }
  }

  const ls = params.get('ls');
  if (ls) {
    for (const item of ls.split(',')) {
      const [latent, coefficient, method] = item.split(':');
      const l = parseInteger(latent);
      const c = parseNumber(coefficient);
      if (l === null || l < 0 || c === null || (method !== undefined && method !== 'a' && method !== 'c')) {
        warnings.push(`Ignored latent steer "${decodeName(item)}".`);
        continue;
      }
      const steer: LatentSteer = { latent: l, coefficient: c, method: method === 'c' ? 'clamp' : 'add' };
      experiment.latents.push(steer);
    }
  }

  const cp = params.get('cp');
  if (cp) {
    for (const item of cp.split(',')) {
      const [id, name, list] = item.split(':');
      const latents: CustomPersona['latents'] = [];
      let ok = Boolean(id) && list !== undefined;
      for (const pair of (list ?? '').split(';')) {
        if (!pair) continue;
        const [l, c] = pair.split('/');
        const latent = parseInteger(l);
        const coefficient = parseNumber(c);
        if (latent === null || latent < 0 || coefficient === null) ok = false;
        else latents.push({ latent, coefficient });
      }
      if (!ok || latents.length === 0) {
        warnings.push(`Ignored custom persona "${decodeName(name ?? id ?? item)}".`);
        continue;
      }
      experiment.custom.push({ id: decodeName(id), name: decodeName(name ?? id) || decodeName(id), latents });
    }
  }

  const s = experiment.sampling;
  const setNumber = (key: string, what: string, integer: boolean, lim: { min: number; max: number }, set: (x: number) => void) => {
    if (!params.has(key)) return;
    const x = integer ? parseInteger(params.get(key)) : parseNumber(params.get(key));
    if (x === null) {
      warnings.push(`Ignored ${what} "${decodeValue(params.get(key) ?? '')}".`);
      return;
    }
    if (x < lim.min || x > lim.max) warnings.push(`${what} ${x} is outside ${lim.min}–${lim.max}; clamped.`);
    set(clamp(x, lim.min, lim.max));
  };
  setNumber('n', 'max tokens', true, LIMITS.maxNewTokens, (x) => (s.maxNewTokens = x));
  setNumber('t', 'temperature', false, LIMITS.temperature, (x) => (s.temperature = x));
  setNumber('tp', 'top-p', false, LIMITS.topP, (x) => (s.topP = x));
  setNumber('seed', 'seed', true, LIMITS.seed, (x) => (s.seed = x));

  const pos = text('pos');
  if (pos === 'g') experiment.positions = 'generated';
  else if (pos !== undefined && pos !== 'a') warnings.push(`Ignored positions "${pos}".`);
  const sp = text('sp');
  if (sp === '1') experiment.steerSpecial = true;
  else if (sp !== undefined && sp !== '0') warnings.push(`Ignored special-token steering "${sp}".`);
  const pm = text('pm');
  if (pm === 'c') experiment.promptMode = 'chat';
  else if (pm !== undefined && pm !== 't') warnings.push(`Ignored prompt mode "${pm}".`);

  if (params.has('sel')) {
    const sel = parseInteger(params.get('sel'));
    if (sel === null || sel < 0) warnings.push('Ignored selected latent.');
    else experiment.selectedLatent = sel;
  }

  const w = params.get('w');
  if (w) {
    const [id, threshold] = w.split(':');
    const t = parseNumber(threshold);
    if (!id || t === null) warnings.push('Ignored monitor alert setting.');
    else experiment.watch = { personaId: decodeName(id), threshold: clamp(t, LIMITS.threshold.min, LIMITS.threshold.max) };
  }

  return { experiment, warnings, present };
}

/** Parses a stored experiment (local storage) defensively, through the same validation as a link. */
export function parseStoredExperiment(json: string | null): Experiment | null {
  if (!json) return null;
  try {
    const stored = JSON.parse(json) as { query?: unknown };
    if (typeof stored.query !== 'string') return null;
    const { experiment, present } = decodeExperiment(stored.query);
    return present ? experiment : null;
  } catch {
    return null;
  }
}

export function storedExperiment(e: Experiment): string {
  return JSON.stringify({ query: encodeExperiment(e), savedAt: Date.now() });
}
