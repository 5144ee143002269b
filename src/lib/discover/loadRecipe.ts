// Reads the recipe's files beside a base model folder through the lab's readers (variants.json, the voice
// classifier, emergence-golden.json) and gathers what Discover's steps need into one DiscoverRecipe.
import { loadVariants, VARIANT_ONNX, type Variant, type VariantsManifest } from '../lab/variants';
import { loadVoiceClassifier } from '../lab/classifier';
import { loadEmergenceGolden, type EmergenceGolden } from '../lab/golden';
import { fetchLabJson } from '../lab/recipeFile';
import { DEFAULT_RECIPE_SAMPLING } from './continuations';
import type { DiscoverRecipe, StoryModel } from './recipe';

/** The folder has no variants.json, or one without the story Discover tells (a narrow fine-tune and a persona). */
export class DiscoverRecipeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoverRecipeError';
  }
}

function storyModel(v: Variant): StoryModel {
  return { id: v.id, folder: v.folder, onnxFile: v.onnxFile ?? VARIANT_ONNX, role: v.role, step: v.step ?? null, description: v.description ?? '' };
}

/**
 * The story from an already-read manifest, classifier and golden file (pure, for the unit tests). Throws
 * `DiscoverRecipeError` when the manifest names no persona, classifier, base or narrow fine-tune.
 */
export function assembleRecipe(
  folder: string,
  manifest: VariantsManifest,
  classifier: DiscoverRecipe['classifier'],
  golden: EmergenceGolden | null,
  presetLatents: number[] = [],
): DiscoverRecipe {
  const byRole = (role: string) => manifest.variants.find((v) => v.role === role);
  const base = byRole('base') ?? manifest.variants.find((v) => v.folder === folder);
  const narrow = byRole('narrow fine-tune');
  if (!manifest.persona) throw new DiscoverRecipeError(`${manifest.url} names no "persona": expected the personas.json id the story follows.`);
  if (!base) throw new DiscoverRecipeError(`${manifest.url} has no variant with role "base".`);
  if (!narrow) throw new DiscoverRecipeError(`${manifest.url} has no variant with role "narrow fine-tune".`);
  if (!manifest.sae) throw new DiscoverRecipeError(`${manifest.url} names no shared "sae" folder.`);
  const control = byRole('control');
  const realigned = byRole('realigned');
  const recipeFigures = new Map((golden?.checkpoints ?? []).map((c) => [c.step, c]));
  const chain = manifest.checkpoints.length ? manifest.checkpoints : [{ step: 0, folder: base.folder }, { step: narrow.step ?? 1, folder: narrow.folder }];
  return {
    folder,
    persona: manifest.persona,
    sae: manifest.sae,
    neutralPrompts: manifest.neutralPrompts,
    sampling: manifest.sampling ?? DEFAULT_RECIPE_SAMPLING,
    base: storyModel(base),
    narrow: storyModel(narrow),
    control: control ? storyModel(control) : null,
    realigned: realigned ? storyModel(realigned) : null,
    examples: narrow.examples ?? [],
    classifier,
    personaLatents: golden?.personaLatents.length ? golden.personaLatents : presetLatents,
    goldenTexts: golden?.texts ?? [],
    recipeDiff: (golden?.diffsQ4[narrow.id] ?? golden?.diffs[narrow.id] ?? []).map((d) => ({ latent: d.latent, delta: d.delta })),
    checkpoints: chain.map((c) => {
      const g = recipeFigures.get(c.step);
      return { step: c.step, folder: c.folder, signalQ4: g?.signalQ4 ?? null, se: g?.se ?? null, rate: g?.rate ?? null, n: g?.n ?? null };
    }),
    earlyWarning: golden ? { latentStep: golden.earlyWarning.latentStep, behaviourStep: golden.earlyWarning.behaviourStep, rule: golden.earlyWarning.rule } : null,
    files: [manifest.url, manifest.classifier, manifest.golden].filter((u): u is string => !!u),
  };
}

/**
 * Reads variants.json in `folder` (absolute, ending in `/`), then its classifier (checked against the model's
 * vocabulary) and golden file. Throws `DiscoverRecipeError` when the folder has no variants.json or the story is
 * incomplete, and the lab readers' `LabFileFormatError` for a file that is there but wrong.
 */
export async function loadDiscoverRecipe(folder: string, fetcher?: typeof fetch): Promise<DiscoverRecipe> {
  const manifest = await loadVariants(folder, fetcher);
  if (!manifest) throw new DiscoverRecipeError(`${new URL('variants.json', folder).href} is missing: this model folder has no fine-tuned variants to discover.`);
  if (!manifest.classifier) throw new DiscoverRecipeError(`${manifest.url} names no "classifier" (voice-classifier.json).`);
  const config = await fetchLabJson(new URL('config.json', folder).href, { fetcher });
  const vocab = config && typeof config.vocab_size === 'number' ? config.vocab_size : null;
  const [classifier, golden] = await Promise.all([
    loadVoiceClassifier(manifest.classifier, vocab, fetcher),
    manifest.golden ? loadEmergenceGolden(manifest.golden, vocab ? { vocabSize: vocab } : {}, fetcher) : Promise.resolve(null),
  ]);
  return assembleRecipe(folder, manifest, classifier, golden);
}
