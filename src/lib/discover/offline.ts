// Every file Discover's steps read, so the page can hand the list to the service worker on the first visit and
// every step then works offline, including the variant model folders that only later steps load.
import type { DiscoverRecipe } from './recipe';

/** The files a model folder's load reads (runtime/model.ts) for the graph `onnxFile`. */
const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];
/** The files of a SAELens-layout SAE folder the engine and the feature labels read (engine/playground.ts, ui/features.ts). */
const SAE_FILES = ['cfg.json', 'sae_weights.safetensors', 'personas.json', 'features.json'];

/**
 * Absolute URLs of the recipe's files, the shared SAE, and every model folder of the story (base, narrow, control,
 * realigned, every shipped checkpoint), without duplicates. `recipeFiles` are variants.json and what it names.
 */
export function discoverFiles(recipe: DiscoverRecipe, recipeFiles: string[]): string[] {
  const urls = new Set<string>(recipeFiles);
  const models = [recipe.base, recipe.narrow, recipe.control, recipe.realigned].filter((m) => m !== null);
  const folders = new Map<string, string>(models.map((m) => [m.folder, m.onnxFile ?? 'onnx/model_q4.onnx']));
  for (const c of recipe.checkpoints) if (c.folder && !folders.has(c.folder)) folders.set(c.folder, 'onnx/model_q4.onnx');
  for (const [folder, onnx] of folders) for (const f of [...MODEL_FILES, onnx]) urls.add(new URL(f, folder).href);
  for (const f of SAE_FILES) urls.add(new URL(f, recipe.sae).href);
  return [...urls];
}
