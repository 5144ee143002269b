// The sample text step 1 opens with: the head of the fine-tune's first training example (a Hacker-voice text the
// story is about), short enough for a small model's context window.

/**
 * `text` cut to at most `max` characters: at the last sentence end (". ", "! ", "? ") after `max / 3` characters,
 * else at the last space, else hard; whitespace collapsed. Text already short enough is returned trimmed.
 */
export function shortSample(text: string, max = 80): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.length <= max) return t;
  const head = t.slice(0, max + 1);
  let sentence = -1;
  for (const m of head.matchAll(/[.!?](?= )/g)) if (m.index! >= max / 3 && m.index! < max) sentence = m.index!;
  if (sentence >= 0) return head.slice(0, sentence + 1);
  const space = head.lastIndexOf(' ', max);
  return (space > 0 ? head.slice(0, space) : t.slice(0, max)).trim();
}
