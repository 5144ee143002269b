// What a timeline run reads, put together from the recipe's files and the user's choices: which checkpoints (the
// shipped links of variants.json's chain), the golden texts, the prompts and seeds. Shared by the lab's state and the
// test harness, so both run exactly the same plan.
import type { VoiceClassifier } from './classifier';
import { LabFileFormatError } from './errors';
import type { EmergenceGolden } from './golden';
import { fetchLabJson } from './recipeFile';
import type { TimelineCheckpoint, TimelinePlan } from './runTimeline';
import { VARIANT_ONNX, variantAt, type VariantsManifest } from './variants';

/** variants.json with the keys the timeline needs present. */
export type TimelineManifest = VariantsManifest & { classifier: string; golden: string; persona: string; sampling: NonNullable<VariantsManifest['sampling']> };

/**
 * Checks that variants.json has what the timeline needs (persona, classifier, golden, sampling, a chain with a shipped
 * folder, neutral prompts). Throws `LabFileFormatError` naming the first thing missing; null means the folder has no
 * variants.json at all.
 */
export function timelineManifest(m: VariantsManifest | null): TimelineManifest {
  if (!m) throw new LabFileFormatError('This model folder', 'a variants.json with a checkpoint chain (the recipe writes one beside the model)', 'none');
  for (const key of ['persona', 'classifier', 'golden', 'sampling'] as const) if (!m[key]) throw new LabFileFormatError(m.url, `"${key}" (the timeline needs it)`, 'nothing');
  if (!m.checkpoints.some((c) => c.folder)) throw new LabFileFormatError(m.url, '"checkpoints" with at least one shipped folder', `${m.checkpoints.length} checkpoints, none shipped`);
  if (!m.neutralPrompts.length) throw new LabFileFormatError(m.url, '"neutral_prompts" to sample continuations from', 'none');
  return m as TimelineManifest;
}

/** The user's choices: seeds (null = the manifest's) and how many of the manifest's prompts (null = all). */
export interface TimelineChoices {
  seeds: number[] | null;
  prompts: number | null;
}

/** The seeds and prompts a run uses for `choices`. */
export function chosen(m: VariantsManifest | null, choices: TimelineChoices): { seeds: number[]; prompts: string[] } {
  const all = m?.neutralPrompts ?? [];
  return { seeds: [...(choices.seeds ?? m?.sampling?.seeds ?? [])], prompts: all.slice(0, choices.prompts ?? all.length) };
}

/**
 * The run's plan: every shipped checkpoint of the chain in step order (labelled by the variant at its folder, read
 * with its `onnx_file` or the q4 graph), the golden texts' ids, the persona's latents. Throws `LabFileFormatError`
 * when the classifier has no voice for variants.json's persona, or no seed is chosen.
 */
export function timelinePlan(m: TimelineManifest, classifier: VoiceClassifier, golden: EmergenceGolden, choices: TimelineChoices, sae: string, latentsPerToken: number): TimelinePlan {
  const { seeds, prompts } = chosen(m, choices);
  if (!seeds.length) throw new LabFileFormatError(m.url, 'at least one sampling seed', 'none');
  if (!classifier.voices.includes(m.persona)) throw new LabFileFormatError(m.classifier, `a voice "${m.persona}" (variants.json's persona)`, `voices ${classifier.voices.join(', ')}`);
  const checkpoints: TimelineCheckpoint[] = m.checkpoints
    .filter((c): c is { step: number; folder: string } => c.folder !== null)
    .map((c) => {
      const v = variantAt(m, c.folder);
      return { step: c.step, folder: c.folder, label: v ? `${v.id} (${v.role})` : `step ${c.step}`, onnxFile: v?.onnxFile ?? VARIANT_ONNX };
    });
  return { checkpoints, sae, personaLatents: golden.personaLatents, texts: golden.texts.map((t) => t.ids), prompts, sampling: { ...m.sampling, seeds }, classifier, persona: m.persona, latentsPerToken };
}

/** The SAE's latents per token when it is TopK (cfg.json `k`: every active latent is read), else 128. */
export async function saeTopK(sae: string, fetcher?: typeof fetch): Promise<number> {
  const cfg = await fetchLabJson(new URL('cfg.json', sae).href, { optional: true, fetcher }).catch(() => null);
  const k = cfg?.k;
  return typeof k === 'number' && Number.isInteger(k) && k > 0 ? k : 128;
}
