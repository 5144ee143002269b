// What Discover reads from the recipe's files beside the base model (variants.json, voice-classifier.json,
// emergence-golden.json), gathered into one object: the models of the story, the prompts and sampling, the
// classifier, and the recipe's own figures (shown labelled "from the recipe", never as live numbers).
import type { VoiceClassifier } from '../lab/classifier';
import type { RecipeSampling } from './continuations';
import type { SlotModel } from './slots';

export interface StoryModel extends SlotModel {
  role: string;
  step: number | null;
  description: string;
}

export interface RecipeDiffEntry {
  latent: number;
  delta: number;
}

export interface RecipeCheckpoint {
  step: number;
  /** Absolute folder URL, or null when the recipe did not ship this checkpoint. */
  folder: string | null;
  /** The recipe's persona signal on the dequantised q4 weights, and the behaviour rate (share of continuations in the persona's voice). */
  signalQ4: number | null;
  se: number | null;
  rate: number | null;
  n: number | null;
}

export interface DiscoverRecipe {
  /** Absolute URL of the base model's folder (where variants.json is). */
  folder: string;
  /** personas.json id of the persona the story follows (e.g. `hacker`). */
  persona: string;
  /** Absolute URL of the SAE every variant shares. */
  sae: string;
  neutralPrompts: string[];
  sampling: RecipeSampling;
  base: StoryModel;
  narrow: StoryModel;
  control: StoryModel | null;
  realigned: StoryModel | null;
  /** Verbatim samples of the narrow fine-tune's training data. */
  examples: string[];
  classifier: VoiceClassifier;
  /** The persona's latents as the recipe lists them (emergence-golden.json), else the preset's. */
  personaLatents: number[];
  /** The fixed diff texts (prompt + the base model's greedy continuation), as token ids; empty without the golden file. */
  goldenTexts: { prompt: string; ids: number[] }[];
  /** The recipe's q4 diff of the narrow fine-tune (top 20), for the "from the recipe" note. */
  recipeDiff: RecipeDiffEntry[];
  checkpoints: RecipeCheckpoint[];
  earlyWarning: { latentStep: number | null; behaviourStep: number | null; rule: string } | null;
  /** Absolute URLs of the recipe's own files that were read (variants.json and the files it names). */
  files: string[];
}
