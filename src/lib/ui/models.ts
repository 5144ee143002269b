// The model folders this build knows about. A static site cannot list a directory, so the picker probes each entry's
// config.json and offers the ones that answer; a folder URL typed by the user is tried the same way.

import { DEFAULT_HUB, hubFolderUrl } from '../runtime/hub';

export interface SaeEntry {
  /** Hook name, also the SAE's folder name under `sae/`. */
  id: string;
  label: string;
}

export interface ModelEntry {
  id: string;
  name: string;
  description: string;
  /** Folder relative to the app's base URL, ending in `/`. */
  folder: string;
  saes: SaeEntry[];
}

export const DEFAULT_SAE = 'blocks.1.hook_resid_post';

export const KNOWN_MODELS: ModelEntry[] = [
  {
    id: 'voices',
    name: 'Voices',
    description: 'GPT-2 trained on five voices: Preacher, Manual, Lexicographer, Novelist, Hacker',
    folder: 'models/voices/',
    saes: [{ id: DEFAULT_SAE, label: 'Residual after block 1' }],
  },
  {
    id: 'voices-smoke',
    name: 'Voices (smoke test)',
    description: 'A tiny, barely trained copy of Voices with the same layout, for quick checks',
    folder: 'models/voices-smoke/',
    // One layer (models/recipe/common.py SMOKE: n_layer 1, sae_layer 0), so its SAE reads the residual after block 0.
    saes: [{ id: 'blocks.0.hook_resid_post', label: 'Residual after block 0' }],
  },
];

export const DEFAULT_MODEL = 'voices';

/** `hf:owner/name[@revision]` names a hub repository; anything else with a `/` is a folder URL. */
export const HUB_PREFIX = 'hf:';


/**
 * A model id is either a known entry's id, a hub repository (`hf:owner/name`), or a folder URL the user typed (anything containing `/`).
 * Returns the folder and its SAE entries; an unknown plain id is treated as a folder under `models/`.
 */
export function resolveModel(id: string): ModelEntry {
  const known = KNOWN_MODELS.find((m) => m.id === id);
  if (known) return known;
  if (id.startsWith(HUB_PREFIX)) {
    const repo = id.slice(HUB_PREFIX.length);
    return {
      id,
      name: repo,
      description: 'A model repository on the Hugging Face hub',
      // A getter: a mistyped id throws HubRepoIdError when loading (shown as a message), never while rendering.
      get folder() {
        return hubFolderUrl(repo);
      },
      saes: [{ id: DEFAULT_SAE, label: DEFAULT_SAE }],
    };
  }
  const folder = id.includes('/') ? (id.endsWith('/') ? id : `${id}/`) : `models/${id}/`;
  return {
    id,
    name: id,
    description: 'A model folder in Hugging Face layout',
    folder,
    saes: [{ id: DEFAULT_SAE, label: DEFAULT_SAE }],
  };
}

/** Absolute URL of a folder relative to the page, so a worker (whose base is its script) fetches the same files. */
export function absoluteFolder(folder: string, base: string): string {
  return new URL(folder, base).href;
}

/**
 * An SAE named independently of the model: a folder URL (anything containing "/") or a hub path
 * `hf:owner/repo/sub/folder[@revision]`. Anything else is a hook name under the model folder's `sae/`.
 */
export function isExternalSae(saeId: string): boolean {
  return saeId.startsWith(HUB_PREFIX) || saeId.includes('/');
}

/**
 * `hf:owner/repo/sub/folder[@revision]` → `<hub>/owner/repo/resolve/<revision>/sub/folder/` (the repository part
 * resolved by hubFolderUrl, as model repositories are). Throws HubRepoIdError for a malformed repository.
 */
export function hubSaeFolderUrl(path: string, hub: string = DEFAULT_HUB): string {
  let rest = path.slice(HUB_PREFIX.length).trim().replace(/\/+$/, '');
  let revision = '';
  const at = rest.lastIndexOf('@');
  if (at > rest.lastIndexOf('/')) {
    revision = rest.slice(at);
    rest = rest.slice(0, at);
  }
  const [owner = '', name = '', ...sub] = rest.split('/');
  const repo = hubFolderUrl(`${owner}/${name}${revision}`, hub);
  return repo + sub.filter((s) => s !== '').map(encodeURIComponent).map((s) => `${s}/`).join('');
}

/** The SAE folder to load: an external SAE's own folder, else `sae/<hook>/` inside the model folder. */
export function saeFolder(model: ModelEntry, saeId: string): string {
  if (saeId.startsWith(HUB_PREFIX)) return hubSaeFolderUrl(saeId);
  if (isExternalSae(saeId)) return saeId.endsWith('/') ? saeId : `${saeId}/`;
  return `${model.folder}sae/${saeId}/`;
}

/** GET, not HEAD: the service worker caches GETs, so probing still answers offline. Probed files are small. */
async function exists(url: string): Promise<boolean> {
  try {
    const r = await fetch(url);
    // Dev servers and many static hosts answer a missing file with the app's index.html (SPA fallback).
    return r.ok && !(r.headers.get('content-type') ?? '').includes('text/html');
  } catch {
    return false;
  }
}

/**
 * The residual-stream SAE folders a model folder can hold under `sae/`, by the hook names SAELens publishes them
 * under: `blocks.{L}.hook_resid_post` (the residual after block L) and `blocks.{L}.hook_resid_pre` for L >= 1 (the
 * residual entering block L, i.e. after block L-1; gpt2-small-res-jb uses these). Block 0's resid_pre is the
 * embedding output, which is not instrumented.
 */
export function residualHookCandidates(layers: number): string[] {
  const n = Math.min(64, Math.max(0, layers));
  const post = Array.from({ length: n }, (_, i) => `blocks.${i}.hook_resid_post`);
  const pre = Array.from({ length: Math.max(0, n - 1) }, (_, i) => `blocks.${i + 1}.hook_resid_pre`);
  return [...post, ...pre];
}

/**
 * The SAE folders a model folder holds, as hook names. A static server cannot list `sae/`, so this reads the layer
 * count from config.json and probes `sae/<hook>/cfg.json` for each candidate (see residualHookCandidates).
 */
export async function discoverSaes(modelFolderUrl: string): Promise<string[]> {
  const response = await fetch(new URL('config.json', modelFolderUrl));
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status} from ${response.url}`);
  const config = (await response.json()) as Record<string, unknown>;
  const hooks = residualHookCandidates(Number(config.n_layer ?? config.num_hidden_layers ?? 0));
  const found = await Promise.all(hooks.map((h) => exists(new URL(`sae/${h}/cfg.json`, modelFolderUrl).href)));
  return hooks.filter((_, i) => found[i]);
}

/** The preferred SAE when the folder has it, else the first one discovered; throws when there is none. */
export { exists as folderFileExists };

export async function locateSae(modelFolderUrl: string, preferred: string): Promise<string> {
  // An SAE from elsewhere is loaded as given: the engine's load says what is wrong with it, if anything.
  if (isExternalSae(preferred)) return preferred;
  if (await exists(new URL(`sae/${preferred}/cfg.json`, modelFolderUrl).href)) return preferred;
  const found = await discoverSaes(modelFolderUrl);
  if (found.length === 0) throw new Error(`no SAE under ${modelFolderUrl}sae/ (looked for blocks.<layer>.hook_resid_post/cfg.json and blocks.<layer>.hook_resid_pre/cfg.json)`);
  return found[0];
}

/**
 * The layer to instrument for an SAE hook such as `blocks.1.hook_resid_post`, read from its name before the SAE
 * itself has downloaded (rule: sae/formats.ts `layerFromHookName`); undefined for a name that does not say.
 */
export function layerHint(hook: string): number[] | undefined {
  const m = hook.match(/^blocks\.(\d+)\.hook_resid_(post|pre)$/);
  if (!m) return undefined;
  const layer = m[2] === 'post' ? Number(m[1]) : Number(m[1]) - 1;
  return layer >= 0 ? [layer] : undefined;
}
