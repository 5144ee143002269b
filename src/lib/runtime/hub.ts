// Model repositories on a Hugging Face-style hub: `owner/name` (optionally `@revision`) becomes the folder URL
// `<hub>/owner/name/resolve/<revision>/`, which the loader then reads like any other folder. The hub base is a
// parameter so that mirrors, and the local test server, work the same way.

export const DEFAULT_HUB = 'https://huggingface.co';

/** Thrown for a repository id that is not `owner/name[@revision]`. */
export class HubRepoIdError extends Error {
  override name = 'HubRepoIdError';
  constructor(id: string) {
    super(`"${id}" is not a hub repository id: expected "owner/name" or "owner/name@revision" (letters, digits, "-", "_", ".").`);
  }
}

const REPO_ID = /^([A-Za-z0-9][\w.-]*)\/([A-Za-z0-9][\w.-]*)(?:@([\w.\/-]+))?$/;

export function isHubRepoId(id: string): boolean {
  return REPO_ID.test(id.trim());
}

export function hubFolderUrl(repoId: string, hub: string = DEFAULT_HUB): string {
  const m = REPO_ID.exec(repoId.trim());
  if (!m) throw new HubRepoIdError(repoId);
  const [, owner, name, revision = 'main'] = m;
  return `${hub.replace(/\/+$/, '')}/${owner}/${name}/resolve/${encodeURIComponent(revision)}/`;
}
