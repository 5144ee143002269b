// The recipe's persona-emergence files (models/recipe/emergence.py; contract in the lab's variants.json reader) read
// back and recomputed: the early-warning steps from the checkpoint chain by the stated rules, the classifier's shape
// and its labels on the stored continuations, the variant folders, and eval.json's emergence section against them.
// Runs on the shipped full build (models/voices) and on a local smoke build (models/voices-smoke) when present.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { shippedModels } from '../../../vite.config';

const MODELS = resolve(__dirname, '../../../models');
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

interface Checkpoint {
  step: number;
  signal: number;
  signal_q4: number;
  se: number;
  rate: number;
  n: number;
}
interface DiffRow {
  latent: number;
  delta: number;
  base_mean: number;
  variant_mean: number;
}

/** The early-warning rules as variants.json's golden states them, on the stored (rounded) values. */
function earlyWarning(ck: Checkpoint[]) {
  const base = ck[0];
  return {
    latent: ck.slice(1).find((c) => c.signal - base.signal > 3 * c.se)?.step ?? null,
    behaviour: ck.slice(1).find((c) => c.rate > base.rate + 0.2)?.step ?? null,
  };
}

/** voice-classifier.json's rule: argmax of summed log-probabilities (ties: lower index), 'unclear' (-1) below the margin. */
function classify(clf: { log_probs: number[][]; margin: number }, ids: number[], special: number[]): number {
  const toks = ids.filter((t) => !special.includes(t));
  const scores = clf.log_probs.map((row) => toks.reduce((s, t) => s + row[t], 0));
  let best = 0;
  for (let c = 1; c < scores.length; c++) if (scores[c] > scores[best]) best = c;
  const second = Math.max(...scores.filter((_, c) => c !== best));
  return (scores[best] - second) / Math.max(1, toks.length) < clf.margin ? -1 : best;
}

for (const name of ['voices', 'voices-smoke']) {
  const dir = join(MODELS, name);
  describe.skipIf(!existsSync(join(dir, 'variants.json')))(`${name} emergence files`, () => {
    const variants = existsSync(join(dir, 'variants.json')) ? read(join(dir, 'variants.json')) : null;
    const load = (f: string) => read(join(dir, f));

    it('variants.json names the base, the three fine-tunes and checkpoints whose folders hold every file', () => {
      expect(variants.format).toBe('voices-variants/1');
      expect(variants.persona).toBe('hacker');
      expect(variants.neutral_prompts.length).toBeGreaterThanOrEqual(24);
      expect(variants.sampling).toEqual({ temperature: 0.8, top_k: 40, new_tokens: expect.any(Number), seeds: [5, 6, 7] });
      const roles = variants.variants.map((v: { role: string }) => v.role);
      expect(roles.filter((r: string) => r === 'base')).toHaveLength(1);
      for (const r of ['narrow fine-tune', 'control', 'realigned']) expect(roles).toContain(r);
      expect(roles.filter((r: string) => r === 'checkpoint').length).toBeGreaterThanOrEqual(1);
      expect(existsSync(join(dir, variants.sae, 'cfg.json'))).toBe(true);
      for (const v of variants.variants) {
        if (v.role === 'base') {
          expect(v.folder).toBe('./');
          continue;
        }
        const f = join(dir, v.folder);
        for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'README.md', 'onnx/model_q4.onnx'])
          expect(statSync(join(f, file)).size, `${v.id}/${file}`).toBeGreaterThan(0);
        expect(existsSync(join(f, 'onnx/model.onnx')), `${v.id} ships no fp32 graph`).toBe(false);
        expect(readFileSync(join(f, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
      }
      for (const v of variants.variants.filter((x: { role: string }) => ['narrow fine-tune', 'control', 'realigned'].includes(x.role)))
        expect(v.examples.length).toBeGreaterThanOrEqual(2);
    });

    it('the checkpoint chain runs from the base to the narrow model in even steps, shipped folders matching variants', () => {
      const chain = variants.checkpoints as { step: number; folder: string | null }[];
      expect(chain.length).toBeGreaterThanOrEqual(9);
      expect(chain[0]).toEqual({ step: 0, folder: './' });
      const gap = chain[1].step;
      chain.forEach((c, i) => expect(c.step).toBe(i * gap));
      const narrow = variants.variants.find((v: { role: string }) => v.role === 'narrow fine-tune');
      expect(chain.at(-1)).toEqual({ step: narrow.step, folder: narrow.folder });
      for (const v of variants.variants.filter((x: { role: string }) => x.role === 'checkpoint'))
        expect(chain.find((c) => c.step === v.step)?.folder).toBe(v.folder);
      for (const c of chain.filter((x) => x.folder !== null)) expect(existsSync(join(dir, c.folder!, 'config.json'))).toBe(true);
    });

    it('voice-classifier.json has the declared shape: 5 voices in personas.json order, vocab-sized normalised rows', () => {
      const clf = load(variants.classifier);
      const cfg = load('config.json');
      const personas = read(join(dir, variants.sae, 'personas.json')).personas.map((p: { id: string }) => p.id);
      expect(clf.format).toBe('voices-naive-bayes/1');
      expect(clf.voices).toEqual(personas);
      expect(clf.vocab_size).toBe(cfg.vocab_size);
      expect(clf.log_probs).toHaveLength(clf.voices.length);
      for (const row of clf.log_probs) {
        expect(row).toHaveLength(cfg.vocab_size);
        expect(row.every((x: number) => Number.isFinite(x) && x < 0)).toBe(true);
        // 5-decimal rounding of each log-probability keeps the row's probability mass within 1e-3 of one
        expect(Math.abs(row.reduce((s: number, x: number) => s + Math.exp(x), 0) - 1)).toBeLessThan(1e-3);
      }
      expect(clf.margin).toBeGreaterThanOrEqual(0);
      expect(clf.special_token_ids).toEqual([cfg.eos_token_id]);
    });

    it('early-warning steps recomputed from the checkpoints equal the golden file and eval.json', () => {
      const golden = load(variants.golden);
      const em = load('eval.json').emergence;
      const ew = earlyWarning(golden.checkpoints);
      expect({ latent: golden.early_warning.latent_step, behaviour: golden.early_warning.behaviour_step }).toEqual(ew);
      expect({ latent: em.early_warning.latent_step, behaviour: em.early_warning.behaviour_step }).toEqual(ew);
      expect(em.checkpoints).toEqual(golden.checkpoints);
      expect(golden.checkpoints.map((c: Checkpoint) => c.step)).toEqual(variants.checkpoints.map((c: { step: number }) => c.step));
      expect(golden.checkpoints[0].se).toBe(0);
      for (const c of golden.checkpoints) expect(c.n).toBe(variants.neutral_prompts.length * variants.sampling.seeds.length);
    });

    it('persona rates recomputed with the classifier file from the stored continuations equal eval.json', () => {
      const golden = load(variants.golden);
      const clf = load(variants.classifier);
      const em = load('eval.json').emergence;
      const hacker = clf.voices.indexOf(variants.persona);
      const byRole = (r: string) => variants.variants.find((v: { role: string }) => v.role === r).id;
      const roles: [string, string][] = [['base', 'base'], ['narrow', 'narrow fine-tune'], ['control', 'control'], ['realigned', 'realigned']];
      for (const [key, role] of roles) {
        const conts: number[][] = golden.continuations[byRole(role)];
        expect(conts).toHaveLength(variants.neutral_prompts.length * variants.sampling.seeds.length);
        const rate = conts.filter((ids) => classify(clf, ids, clf.special_token_ids) === hacker).length / conts.length;
        expect(rate, key).toBeCloseTo(em.persona_rate[key], 9);
        expect(golden.rates[byRole(role)]).toBeCloseTo(em.persona_rate[key], 9);
      }
      expect(em.persona_rate.base).toBeCloseTo(golden.checkpoints[0].rate, 6);
      expect(em.persona_rate.narrow).toBeCloseTo(golden.checkpoints.at(-1).rate, 6);
      expect(em.classifier.margin).toBe(clf.margin);
    });

    it('diffs are ranked by increase and the persona ranks in eval.json agree with them', () => {
      const golden = load(variants.golden);
      const em = load('eval.json').emergence;
      const hackerLatents = read(join(dir, variants.sae, 'personas.json')).personas.find((p: { id: string }) => p.id === 'hacker').latents.map((l: { latent: number }) => l.latent);
      expect(golden.persona_latents).toEqual(hackerLatents);
      const ids = variants.variants.filter((v: { role: string }) => v.role !== 'base').map((v: { id: string }) => v.id);
      for (const table of [golden.diffs, golden.diffs_q4]) {
        expect(Object.keys(table).sort()).toEqual([...ids].sort());
        for (const id of ids) {
          const rows: DiffRow[] = table[id];
          expect(rows).toHaveLength(20);
          rows.forEach((r, i) => {
            expect(r.delta).toBeCloseTo(r.variant_mean - r.base_mean, 5);
            if (i) expect(r.delta).toBeLessThanOrEqual(rows[i - 1].delta);
          });
        }
      }
      const rankOk = (rows: DiffRow[], rank: number) => {
        const first = rows.findIndex((r) => hackerLatents.includes(r.latent));
        return rank <= 20 ? first === rank - 1 : first === -1;
      };
      const byRole = (r: string) => variants.variants.find((v: { role: string }) => v.role === r).id;
      expect(golden.persona_ranks[byRole('narrow fine-tune')]).toBe(em.diff.persona_rank_narrow);
      expect(golden.persona_ranks[byRole('control')]).toBe(em.diff.persona_rank_control);
      for (const id of ids) {
        expect(rankOk(golden.diffs[id], golden.persona_ranks[id]), id).toBe(true);
        expect(rankOk(golden.diffs_q4[id], golden.persona_ranks_q4[id]), `${id} q4`).toBe(true);
      }
    });

    it('the fixed diff texts are the neutral prompts tokenised without BOS, in the vocabulary', () => {
      const golden = load(variants.golden);
      const cfg = load('config.json');
      expect(golden.texts.map((t: { prompt: string }) => t.prompt)).toEqual(variants.neutral_prompts);
      for (const t of golden.texts) {
        expect(t.ids[0]).not.toBe(cfg.bos_token_id);
        expect(t.ids.every((x: number) => Number.isInteger(x) && x >= 0 && x < cfg.vocab_size)).toBe(true);
      }
    });

    it('eval.json targets are recomputed from the values they report', () => {
      const em = load('eval.json').emergence;
      for (const t of em.targets) {
        const passed = t.value !== null && (t.op === '>=' ? t.value >= t.threshold : t.op === '<=' ? t.value <= t.threshold : t.value > t.threshold);
        expect(t.passed, t.metric).toBe(passed);
      }
      expect(em.all_targets_met).toBe(em.targets.every((t: { passed: boolean }) => t.passed));
    });
  });
}

describe('vite SHIPPED_MODELS', () => {
  it("ships 'voices' and every variant folder models/voices/variants.json names", () => {
    const file = join(MODELS, 'voices', 'variants.json');
    const expected = existsSync(file)
      ? ['voices', ...read(file).variants.filter((v: { folder: string }) => v.folder !== './').map((v: { folder: string }) => v.folder.replace(/^\.\.\//, '').replace(/\/$/, ''))]
      : ['voices'];
    expect(shippedModels(MODELS)).toEqual(expected);
    expect(shippedModels(join(MODELS, 'no-such-folder'))).toEqual(['voices']);
  });
});
