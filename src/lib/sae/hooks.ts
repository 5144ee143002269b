// Which tensor an SAE reads, from whatever its publisher wrote down (a TransformerLens hook name, a Hugging Face
// module path, a folder name): only residual-stream SAEs can be encoded and steered at the model's residual taps.
import { SaeFormatError, UnsupportedSaeKindError } from './errors';
import { hubLocation } from './releases';

export type SaeSiteKind = 'residual' | 'resid_mid' | 'mlp_out' | 'attn_out' | 'mlp_in' | 'transcoder' | 'embedding' | 'other';

export interface SaeSite {
  kind: SaeSiteKind;
  /** For `residual`: the residual after block `layer` (0-based), -1 = the embeddings. Otherwise the block, or -1. */
  layer: number;
  /** The name as published. */
  hookName: string;
}

const KIND_WORDS: Record<SaeSiteKind, string> = {
  residual: 'residual stream',
  resid_mid: 'residual stream between attention and MLP',
  mlp_out: 'MLP output',
  attn_out: 'attention output',
  mlp_in: 'MLP input',
  transcoder: 'MLP input and writes the MLP output (a transcoder)',
  embedding: 'token embeddings',
  other: 'tensor',
};

/** "MLP output (blocks.1.hook_mlp_out)": what an error message says was found. */
export function describeSite(site: SaeSite): string {
  return `${KIND_WORDS[site.kind]} (${site.hookName})`;
}

/**
 * Classifies a hook name. TransformerLens names (`blocks.{L}.hook_resid_post`, `hook_resid_pre`, `hook_resid_mid`,
 * `hook_mlp_out`, `hook_attn_out`, `attn.hook_z`, `ln2.hook_normalized`, `hook_embed`) follow TransformerLens's
 * HookedTransformer; `blocks.{L}.hook_resid_pre` is the input of block L, i.e. the residual after block L-1.
 * Hugging Face module paths are Gemma Scope 2's `hf_hook_point_in` values (SAELens tests/loading: resid_post =
 * `model.layers.{L}.output`, mlp_out = `post_feedforward_layernorm.output`, attn_out = `self_attn.o_proj.input`,
 * transcoders read `pre_feedforward_layernorm.output`). A `hookNameOut` that differs marks a transcoder.
 */
export function siteFromHookName(hookName: string, hookNameOut?: string): SaeSite {
  const block = hookName.match(/(?:^|\.)(?:blocks|layers|h)\.(\d+)(?:\.|$)/);
  const layer = block ? Number(block[1]) : -1;
  if (hookNameOut !== undefined && hookNameOut !== hookName) return { kind: 'transcoder', layer, hookName };
  let m = hookName.match(/^blocks\.(\d+)\.hook_resid_(post|pre|mid)$/);
  if (m) {
    const L = Number(m[1]);
    if (m[2] === 'mid') return { kind: 'resid_mid', layer: L, hookName };
    return { kind: 'residual', layer: m[2] === 'post' ? L : L - 1, hookName };
  }
  m = hookName.match(/^model\.(?:language_model\.)?layers\.(\d+)(?:\.output)?$/);
  if (m) return { kind: 'residual', layer: Number(m[1]), hookName };
  if (/^(hook_embed|hook_pos_embed|model\.(?:language_model\.)?embed_tokens(\.output)?|embed_tokens)$/.test(hookName)) return { kind: 'embedding', layer: -1, hookName };
  if (/hook_mlp_out$|\.mlp\.hook_post$|post_feedforward_layernorm\.output$|\.mlp(\.output)?$/.test(hookName)) return { kind: 'mlp_out', layer, hookName };
  if (/hook_attn_out$|attn\.hook_(z|result)$|o_proj\.input$|\.(self_attn|attention|attn)(\.output)?$/.test(hookName)) return { kind: 'attn_out', layer, hookName };
  if (/ln2\.hook_normalized$|hook_mlp_in$|mlp\.hook_in$|pre_feedforward_layernorm\.output$/.test(hookName)) return { kind: 'mlp_in', layer, hookName };
  return { kind: 'other', layer, hookName };
}

/** The residual layer a site reads; throws UnsupportedSaeKindError naming the kind for anything else. */
export function residualLayer(site: SaeSite): number {
  if (site.kind !== 'residual') throw new UnsupportedSaeKindError(describeSite(site));
  return site.layer;
}

/** `blocks.L.hook_resid_post` → L; `blocks.L.hook_resid_pre` → L-1 (the residual entering block L). */
export function layerFromHookName(hookName: string): number {
  return residualLayer(siteFromHookName(hookName));
}

/** The canonical TransformerLens name for the residual after block `layer`. */
export function residualHookName(layer: number): string {
  return `blocks.${layer}.hook_resid_post`;
}

/**
 * A folder path's site, for layouts whose files do not name their hook. Gemma Scope 1 puts the kind in the
 * repository name (SAELens pretrained_sae_loaders.py get_gemma_2_config_from_hf: "-res" → hook_resid_post, embedding
 * folders → hook_embed, "-mlp" → hook_mlp_out, "-att" → attn.hook_z; gemma-scope-*-transcoders are transcoders);
 * Gemma Scope 2 in the folder (get_gemma_3_config_from_hf: resid_post / attn_out / mlp_out / transcoder); sparsify
 * in the hookpoint folder (`layers.5`, `layers.5.mlp`, `layers.5.self_attn`, `embed_tokens`). A bare `layer_5`
 * folder with no other hint is taken as the residual after block 5, as Gemma Scope's -res repositories are.
 */
export function siteFromFolder(folder: string, what: string): SaeSite {
  const path = decodeURIComponent(folder.replace(/[?#].*$/, '')).replace(/\/+$/, '');
  const segments = path.split('/');
  // Kind words are looked for where a publisher puts them (the hub repository and the folder inside it, or the
  // folders under a model's sae/), not in a host or model folder name that happens to contain "mlp".
  const hub = hubLocation(`${path}/`);
  const saeAt = path.lastIndexOf('/sae/');
  const scope = hub ? `${hub.repo}/${hub.folder}` : saeAt >= 0 ? path.slice(saeAt + 5) : segments.slice(-4).join('/');
  const leaf = segments[segments.length - 1] ?? '';
  // sparsify: the leaf folder is the hookpoint.
  const sparsify = leaf.match(/^(?:model\.)?(?:layers|h|transformer\.h|gpt_neox\.layers)\.(\d+)(?:\.(.+))?$/);
  if (sparsify) {
    const [, n, sub] = sparsify;
    const hookName = leaf;
    if (!sub) return { kind: 'residual', layer: Number(n), hookName: `layers.${n}` };
    return { ...siteFromHookName(`layers.${n}.${sub}`), hookName };
  }
  if (/^(model\.)?embed_tokens$/.test(leaf)) return { kind: 'embedding', layer: -1, hookName: leaf };
  if (scope.split('/').some((s) => s === 'embedding')) return { kind: 'embedding', layer: -1, hookName: 'hook_embed' };
  const layerMatch = scope.match(/layer_(\d+)/);
  if (!layerMatch) {
    throw new SaeFormatError(
      `${what}: cannot tell which layer it reads: expected a config naming its hook, or a folder named like "layer_5" / "layers.5", found "${leaf}".`,
    );
  }
  const layer = Number(layerMatch[1]);
  if (/transcoder|(^|\/)clt(\/|$)/.test(scope)) return { kind: 'transcoder', layer, hookName: `blocks.${layer}.ln2.hook_normalized` };
  if (/(^|[/_-])mlp(_out)?([/_-]|$)/.test(scope)) return { kind: 'mlp_out', layer, hookName: `blocks.${layer}.hook_mlp_out` };
  if (/(^|[/_-])att(n)?(_out)?([/_-]|$)/.test(scope)) return { kind: 'attn_out', layer, hookName: `blocks.${layer}.hook_attn_out` };
  return { kind: 'residual', layer, hookName: residualHookName(layer) };
}
