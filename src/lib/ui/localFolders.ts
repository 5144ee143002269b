// Folders from disk for the pickers: what a drop or a folder picker gave, and whether it is a model folder or an SAE
// folder, so one "Open folder" control serves both.
import { filesFromPicker, type LocalFiles } from '../runtime/localFolder';

export { filesFromPicker };

/** What an opened folder holds: a model in Hugging Face layout, or an SAE in one of the layouts the loaders read. */
export type FolderKind = 'model' | 'sae';

/** Thrown when an opened folder is neither; the message lists what was found. */
export class LocalFolderError extends Error {
  override name = 'LocalFolderError';
}

const SAE_FILES = ['sae_weights.safetensors', 'params.safetensors', 'params.npz', 'sae.safetensors'];

/** Model folder: config.json + tokenizer.json + an onnx/*.onnx; SAE folder: one of the SAE weight files. */
export function folderKind(files: LocalFiles): FolderKind {
  const names = Object.keys(files);
  if (names.includes('config.json') && names.includes('tokenizer.json') && names.some((n) => /^onnx\/[^/]+\.onnx$/.test(n))) return 'model';
  if (names.some((n) => SAE_FILES.includes(n))) return 'sae';
  const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, … (${names.length} files)` : '');
  throw new LocalFolderError(
    `The opened folder is neither a model (config.json, tokenizer.json, onnx/model*.onnx) nor an SAE folder (${SAE_FILES.join(', ')}); found ${shown || 'no files'}.`,
  );
}

interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?: (ok: (f: File) => void, fail: (e: unknown) => void) => void;
  createReader?: () => { readEntries: (ok: (entries: EntryLike[]) => void, fail: (e: unknown) => void) => void };
}

async function walk(entry: EntryLike, prefix: string, out: LocalFiles): Promise<void> {
  if (entry.isFile && entry.file) {
    out[prefix + entry.name] = await new Promise<File>((ok, fail) => entry.file!(ok, fail));
    return;
  }
  if (!entry.isDirectory || !entry.createReader) return;
  const reader = entry.createReader();
  // readEntries answers in batches until it returns an empty one.
  for (;;) {
    const batch = await new Promise<EntryLike[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/** A dropped folder (DataTransfer items, via webkitGetAsEntry): paths relative to the dropped folder. */
export async function filesFromDrop(items: DataTransferItemList): Promise<{ name: string; files: LocalFiles }> {
  const entries: EntryLike[] = [];
  for (const item of [...items]) {
    const entry = (item.webkitGetAsEntry?.() ?? null) as unknown as EntryLike | null;
    if (entry) entries.push(entry);
  }
  const folder = entries.length === 1 && entries[0].isDirectory ? entries[0] : undefined;
  if (!folder) throw new LocalFolderError('Drop one folder (a model folder or an SAE folder), not loose files.');
  const all: LocalFiles = {};
  await walk(folder, '', all);
  const files: LocalFiles = {};
  const prefix = `${folder.name}/`;
  for (const [path, file] of Object.entries(all)) files[path.startsWith(prefix) ? path.slice(prefix.length) : path] = file;
  return { name: folder.name, files };
}
