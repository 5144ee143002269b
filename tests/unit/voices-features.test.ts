// The Voices feature dashboards as the recipe writes them (models/recipe/labels.py, dashboards.py): every latent's
// label says in words what it responds to, quotes only tokens from its own dashboard, flags density and carries the
// voice association; the top examples live in the examples files the app fetches per card.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const dir = resolve(__dirname, '../../models/voices/sae/blocks.1.hook_resid_post');
const features = JSON.parse(readFileSync(resolve(dir, 'features.json'), 'utf8'));
type Example = { voice: string; tokens: string[]; activations: number[]; max: number };
const examplesOf = new Map<number, Example[]>();
for (let first = 0; first < features.d_sae; first += features.examples.per_file) {
  const file = JSON.parse(readFileSync(resolve(dir, features.examples.path.replace('{index}', String(first / features.examples.per_file).padStart(4, '0'))), 'utf8'));
  expect(file.first).toBe(first);
  file.latents.forEach((list: Example[], j: number) => examplesOf.set(first + j, list));
}

/** How labels.py quotes a token. */
function quote(token: string): string {
  let core = token.replace(/^[ \t]+|[ \t]+$/g, '') || token;
  core = core.replace(/\n/g, '\\n');
  return `'${core.length > 13 ? `${core.slice(0, 12)}…` : core}'`;
}

/** The token at each example's peak and the token before it (the label's context). */
function peakTokens(examples: Example[]): string[] {
  return examples.flatMap((e) => {
    const p = e.activations.indexOf(Math.max(...e.activations));
    return p > 0 ? [e.tokens[p], e.tokens[p - 1]] : [e.tokens[p]];
  });
}

describe('Voices features.json', () => {
  it('lists every latent once, without inline examples; the examples files hold a list for each', () => {
    expect(features.latents.map((l: { id: number }) => l.id)).toEqual(Array.from({ length: features.d_sae }, (_, i) => i));
    expect(features.latents.every((l: Record<string, unknown>) => !('examples' in l))).toBe(true);
    expect(examplesOf.size).toBe(features.d_sae);
    // 2,022 of 2,048 latents have 5 examples (rare ones fewer, a few dead ones none)
    expect([...examplesOf.values()].filter((e) => e.length === 5).length).toBeGreaterThan(0.95 * features.d_sae);
    expect(features.dense_threshold).toBe(0.1);
  });

  it('every label says in words what the latent responds to, not only a word piece, and names its source', () => {
    const bare: string[] = [];
    for (const l of features.latents) {
      expect(l.label_source, `#${l.id}`).toMatch(/^automatic \(recipe labels\.py v\d+\): /);
      const examples = examplesOf.get(l.id)!;
      const quoted: string[] = examples.length ? peakTokens(examples) : l.top_promoted.slice(0, 3).map((t: { token: string }) => t.token);
      let rest: string = l.label.replace(/^(dense \(\d+% of tokens\)|never fired in the held-out scan): /, '');
      rest = rest.replace(new RegExp(`^(${features.voices.join('|')}): `), '');
      // Every quoted token comes from the latent's own examples (peaks and the tokens before them; promoted tokens
      // when it has no examples): nothing else is quoted.
      for (const q of [...new Set(quoted.map(quote))].sort((a, b) => b.length - a.length)) rest = rest.split(q).join(' ');
      expect(rest.includes("'"), `#${l.id} quotes a token not in its dashboard: ${l.label}`).toBe(false);
      const words = rest.match(/[A-Za-z][a-z-]{2,}/g) ?? [];
      if (words.length === 0) bare.push(`#${l.id} ${l.label}`);
    }
    expect(bare).toEqual([]);
  });

  it('flags dense and never-seen latents, and names the voice exactly when one holds half the activation', () => {
    let dense = 0;
    for (const l of features.latents) {
      const isDense = l.density >= features.dense_threshold;
      dense += isDense ? 1 : 0;
      expect(l.label.startsWith(`dense (${Math.round(l.density * 100)}% of tokens): `), `#${l.id} ${l.label}`).toBe(isDense);
      expect(l.label.startsWith('never fired in the held-out scan: ')).toBe(l.density === 0);
      const top = Math.max(...l.voice_distribution);
      const voice = features.voices[l.voice_distribution.indexOf(top)];
      expect(l.label.includes(`${voice}: `), `#${l.id} ${l.label}`).toBe(top >= 0.5);
    }
    // The issue's count: 50 latents fire on more than 10% of held-out tokens.
    expect(dense).toBe(50);
  });

  it('labels the latents the issue quoted in plain words', () => {
    const label = (id: number) => features.latents[id].label;
    expect(label(878)).toBe("dense (32% of tokens): mixed tokens 'll', 'val'");
    expect(label(27)).toMatch(/^dense \(77% of tokens\): /);
    expect(label(452)).toBe("Preacher: the capitalised word 'And' after '.'");
  });
});
