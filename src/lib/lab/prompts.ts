// Prompt sets and text lists for the lab: typed, pasted or loaded from a file. Everything is checked here, before a
// model sees it, so a bad file gets one clear message and the lists already on the page stay as they were.
import { LabInputError } from './errors';

export const PROMPT_LIMITS = {
  /** Larger files are refused before reading: a prompt set is a classroom's worth of lines, not a corpus. */
  fileBytes: 2_000_000,
  /** Per prompt, the playground's own prompt limit (src/lib/ui/experiment.ts LIMITS.promptChars). */
  promptChars: 4000,
  prompts: 2000,
} as const;

/** A text with line breaks as one line: `\n` for a line break, `\t` for a tab, `\\` for a backslash. */
export function escapeLine(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
}

/** The inverse of `escapeLine`; any other backslash is kept as typed. */
export function unescapeLine(line: string): string {
  return line.replace(/\\([\\nt])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
}

/**
 * One prompt per line (`\n` inside a line is a line break, see `escapeLine`); blank lines dropped,
 * the others kept exactly. Throws `LabInputError` when nothing is
 * left, when there are more than `PROMPT_LIMITS.prompts`, or when a line is longer than `PROMPT_LIMITS.promptChars`
 * (naming the line), e.g. a 5,000-token line.
 */
export function parsePromptLines(text: string, source = 'the list'): string[] {
  const prompts: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    // Not trimmed: a leading space is part of the first token (" the" and "the" are different tokens).
    const line = lines[i];
    if (!line.trim()) continue;
    if (line.length > PROMPT_LIMITS.promptChars)
      throw new LabInputError(`Line ${i + 1} of ${source} is ${line.length.toLocaleString('en')} characters long; a prompt may have at most ${PROMPT_LIMITS.promptChars.toLocaleString('en')}. Split it or shorten it.`);
    prompts.push(unescapeLine(line));
  }
  return checkCount(prompts, source);
}

function checkCount(prompts: string[], source: string): string[] {
  if (prompts.length === 0) throw new LabInputError(`${capitalise(source)} has no prompts: expected one prompt per line.`);
  if (prompts.length > PROMPT_LIMITS.prompts)
    throw new LabInputError(`${capitalise(source)} has ${prompts.length.toLocaleString('en')} prompts; at most ${PROMPT_LIMITS.prompts.toLocaleString('en')} are read at once.`);
  return prompts;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A prompt file's bytes: UTF-8 text with one prompt per line (`.txt`), or a JSON array of strings (`.json`, for
 * texts that contain line breaks). Throws `LabInputError` for a file over `PROMPT_LIMITS.fileBytes`, one that is
 * not UTF-8 text (NUL bytes or invalid sequences: a binary file), an empty one, or a bad line.
 */
export function parsePromptFile(name: string, bytes: Uint8Array, size = bytes.byteLength): string[] {
  const source = `"${name}"`;
  if (size > PROMPT_LIMITS.fileBytes)
    throw new LabInputError(`${source} is ${megabytes(size)}; prompt files may be at most ${megabytes(PROMPT_LIMITS.fileBytes)} (one prompt per line).`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LabInputError(`${source} is not UTF-8 text (it looks like a binary file); expected one prompt per line.`);
  }
  if (text.includes('\u0000')) throw new LabInputError(`${source} contains NUL bytes (it looks like a binary file); expected one prompt per line.`);
  if (!text.trim()) throw new LabInputError(`${source} is empty: expected one prompt per line.`);
  if (/\.json$/i.test(name)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new LabInputError(`${source} is not valid JSON (${(e as Error).message}); expected an array of strings.`);
    }
    if (!Array.isArray(json) || json.some((x) => typeof x !== 'string'))
      throw new LabInputError(`${source} must be a JSON array of strings.`);
    const texts = (json as string[]).filter((t) => t.trim());
    texts.forEach((t, i) => {
      if (t.length > PROMPT_LIMITS.promptChars)
        throw new LabInputError(`Text ${i + 1} of ${source} is ${t.length.toLocaleString('en')} characters long; at most ${PROMPT_LIMITS.promptChars.toLocaleString('en')}.`);
    });
    return checkCount(texts, source);
  }
  return parsePromptLines(text, source);
}

function megabytes(n: number): string {
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

/** Reads a File (checking its size before reading any of it) into prompts; see `parsePromptFile`. */
export async function readPromptFile(file: File): Promise<string[]> {
  if (file.size > PROMPT_LIMITS.fileBytes) return parsePromptFile(file.name, new Uint8Array(0), file.size);
  return parsePromptFile(file.name, new Uint8Array(await file.arrayBuffer()));
}
