// Folders opened from disk (a folder picker or drag and drop: a classroom's files on a USB stick), read by the same
// loaders as folders on a server. Each opened folder gets a `local-folder://<id>/` base URL; `fetch` on this page or
// worker answers those URLs from the registered files, so nothing is uploaded and no loader needs to know.

export const LOCAL_FOLDER_SCHEME = 'local-folder:';

/** Files of one opened folder, by path relative to the folder (`onnx/model.onnx`). */
export type LocalFiles = Record<string, Blob>;

const folders = new Map<string, LocalFiles>();
let counter = 0;

export function isLocalFolderUrl(url: string): boolean {
  return url.startsWith(`${LOCAL_FOLDER_SCHEME}//`);
}

/** The folder's base URL key: `local-folder://<id>/`. */
function folderKey(url: string): string | undefined {
  const m = url.match(/^local-folder:\/\/([^/]+)\//);
  return m ? m[1] : undefined;
}

/** Registers an opened folder and returns its base URL. `name` only makes the URL readable. */
export function openLocalFolder(name: string, files: LocalFiles): string {
  const id = `${(name || 'folder').replace(/[^\w.-]+/g, '-').slice(0, 40)}-${Date.now().toString(36)}${(counter++).toString(36)}`;
  folders.set(id, files);
  return `${LOCAL_FOLDER_SCHEME}//${id}/`;
}

/**
 * Registers files under a base URL (the worker side, given the page's files for a folder or one of its subfolders,
 * paths relative to that URL); files already registered for the folder are kept.
 */
export function registerLocalFolder(baseUrl: string, files: LocalFiles): void {
  const id = folderKey(baseUrl);
  if (!id) throw new TypeError(`${baseUrl} is not a local-folder:// URL.`);
  const prefix = decodeURIComponent(new URL(baseUrl).pathname).replace(/^\/+/, '');
  const all = { ...(folders.get(id) ?? {}) };
  for (const [path, blob] of Object.entries(files)) all[prefix + path] = blob;
  folders.set(id, all);
}

/** The files under a local base URL (its subfolders included, paths relative to it), for handing to a worker. */
export function localFilesUnder(baseUrl: string): LocalFiles | undefined {
  const id = folderKey(baseUrl);
  const files = id ? folders.get(id) : undefined;
  if (!files) return undefined;
  const prefix = decodeURIComponent(new URL(baseUrl).pathname).replace(/^\/+/, '');
  const out: LocalFiles = {};
  for (const [path, blob] of Object.entries(files)) if (path.startsWith(prefix)) out[path.slice(prefix.length)] = blob;
  return out;
}

/**
 * Answers a local-folder:// URL: the file as a 200 response, or 404 for a path the folder does not have. A folder
 * that is no longer open (opened files are not kept across page reloads) is a TypeError saying so, as a failed
 * network request would be.
 */
export async function fetchLocal(url: string): Promise<Response> {
  const id = folderKey(url);
  const files = id ? folders.get(id) : undefined;
  if (!files) throw new TypeError(`${url}: this folder from disk is no longer open (files opened from disk are not kept when the page reloads): open it again.`);
  const path = decodeURIComponent(new URL(url).pathname).replace(/^\/+/, '');
  const blob = files[path];
  if (!blob) return new Response('not in the opened folder', { status: 404, statusText: 'Not Found', headers: { 'content-type': 'text/plain' } });
  return new Response(blob, { status: 200, headers: { 'content-length': String(blob.size), 'content-type': 'application/octet-stream' } });
}

let installed = false;

/** Routes local-folder:// requests of this realm's `fetch` to the opened folders; other requests are untouched. */
export function installLocalFolderFetch(): void {
  if (installed || typeof globalThis.fetch !== 'function') return;
  installed = true;
  const original = globalThis.fetch.bind(globalThis);
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return isLocalFolderUrl(url) ? fetchLocal(url) : original(input, init);
  }) as typeof fetch;
}

/**
 * Files from a folder picker (`<input webkitdirectory>`): paths come as `top/sub/file`; the top folder is dropped
 * so that paths are relative to the folder that was opened.
 */
export function filesFromPicker(list: Iterable<File>): { name: string; files: LocalFiles } {
  const files: LocalFiles = {};
  let name = '';
  for (const file of list) {
    const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
    const parts = rel.split('/');
    if (parts.length > 1) name ||= parts[0];
    files[parts.length > 1 ? parts.slice(1).join('/') : rel] = file;
  }
  return { name, files };
}
