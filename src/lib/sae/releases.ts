// Facts about well-known SAE releases that their own files leave out and only SAELens's release registry states.
// Each entry is read from SAELens's sae_lens/pretrained_saes.yaml (jbloomAus/SAELens, commit 91ca16c, 2025-10-22),
// whose `config_overrides` SAELens applies over the downloaded cfg.json and whose `norm_scaling_factor` it folds in
// (SAE.from_pretrained_with_cfg_and_sparsity).

export interface KnownRelease {
  /** SAELens release name. */
  release: string;
  /** Hugging Face repository holding the SAE folders. */
  repo: string;
  /** The model the release was trained on, as SAELens names it. */
  model: string;
  /** SAE folders in the repository (SAELens `saes[].path`). */
  folders: string[];
  /** SAELens `config_overrides.model_from_pretrained_kwargs.center_writing_weights`. */
  centerWritingWeights?: boolean;
  /** SAELens `saes[].norm_scaling_factor`, by folder: the `expected_average_only_in` factor the files do not hold. */
  normScalingFactor?: Record<string, number>;
  /** SAELens `saes[].neuronpedia`, by folder: the Neuronpedia source whose explanations label this SAE. */
  neuronpedia?: Record<string, string>;
  /** Where the facts come from. */
  source: string;
}

const YAML = 'SAELens sae_lens/pretrained_saes.yaml';

export const KNOWN_RELEASES: KnownRelease[] = [
  {
    release: 'gpt2-small-res-jb',
    repo: 'jbloom/GPT2-Small-SAEs-Reformatted',
    model: 'gpt2-small',
    folders: [...Array.from({ length: 12 }, (_, i) => `blocks.${i}.hook_resid_pre`), 'blocks.11.hook_resid_post'],
    centerWritingWeights: true,
    neuronpedia: {
      ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`blocks.${i}.hook_resid_pre`, `gpt2-small/${i}-res-jb`])),
      'blocks.11.hook_resid_post': 'gpt2-small/12-res-jb',
    },
    source: `${YAML}, release gpt2-small-res-jb (config_overrides.model_from_pretrained_kwargs.center_writing_weights: true)`,
  },
  {
    release: 'gpt2-small-res-jb-feature-splitting',
    repo: 'jbloom/GPT2-Small-Feature-Splitting-Experiment-Layer-8',
    model: 'gpt2-small',
    folders: [768, 1536, 3072, 6144, 12288, 24576, 49152, 98304].map((w) => `blocks.8.hook_resid_pre_${w}`),
    centerWritingWeights: true,
    source: `${YAML}, release gpt2-small-res-jb-feature-splitting (config_overrides.model_from_pretrained_kwargs.center_writing_weights: true)`,
  },
  {
    release: 'gemma-2b-res-jb',
    repo: 'jbloom/Gemma-2b-Residual-Stream-SAEs',
    model: 'gemma-2b',
    folders: ['gemma_2b_blocks.12.hook_resid_post_16384'],
    normScalingFactor: { 'gemma_2b_blocks.12.hook_resid_post_16384': 0.21381938399317255 },
    source: `${YAML}, release gemma-2b-res-jb, sae blocks.12.hook_resid_post (norm_scaling_factor: 0.21381938399317255)`,
  },
];

/** `owner/name` and the folder inside it, from a hub URL `<hub>/owner/name/resolve/<revision>/<folder>/`. */
export function hubLocation(folderUrl: string): { repo: string; folder: string } | undefined {
  const m = folderUrl.replace(/[?#].*$/, '').match(/\/([^/]+)\/([^/]+)\/resolve\/[^/]+\/(.+?)\/*$/);
  if (!m) return undefined;
  return { repo: `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`, folder: decodeURIComponent(m[3]) };
}

/** The release an SAE folder URL belongs to, by repository and folder; undefined when it is not a known one. */
export function findRelease(folderUrl: string | undefined): { release: KnownRelease; folder: string } | undefined {
  if (!folderUrl) return undefined;
  const at = hubLocation(folderUrl);
  if (!at) return undefined;
  const release = KNOWN_RELEASES.find((r) => r.repo.toLowerCase() === at.repo.toLowerCase() && r.folders.includes(at.folder));
  return release ? { release, folder: at.folder } : undefined;
}
