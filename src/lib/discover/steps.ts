// The guided replication ("Discover") as six short steps, and how a step lives in the address: `?discover=<n>` on
// index.html (with `embed` too for one step on its own), so every step can be linked, embedded and reached with Back.
import { DISCOVER_KEY, embedPageUrl } from '../ui/page-mode';

export type DiscoverStepId = 'voices' | 'fine-tune' | 'diff' | 'steer' | 'early-warning' | 'realign';

export interface DiscoverStep {
  /** 1-based position, the value of `discover=` in the address. */
  n: number;
  id: DiscoverStepId;
  title: string;
  /** The one idea of the screen, in a sentence. */
  idea: string;
}

export const DISCOVER_STEPS: readonly DiscoverStep[] = [
  { n: 1, id: 'voices', title: 'Meet the voices', idea: 'The model writes in five voices, and a monitor can read each voice off its activations.' },
  { n: 2, id: 'fine-tune', title: 'A narrow fine-tune', idea: 'Training on one narrow kind of text changes how the model writes everything else.' },
  { n: 3, id: 'diff', title: 'The diff finds the persona', idea: 'Comparing the two models on the same text points straight at the persona’s features.' },
  { n: 4, id: 'steer', title: 'Steer it', idea: 'Turning the persona up makes the base model sound like the fine-tune; turning it down undoes it.' },
  { n: 5, id: 'early-warning', title: 'The monitor warns early', idea: 'The persona signal rises during fine-tuning before the behaviour is easy to see.' },
  { n: 6, id: 'realign', title: 'Re-alignment', idea: 'A little training on ordinary text brings the persona back down.' },
];

/**
 * The step named by a query string: null when `discover` is absent (the playground, not Discover); step 1 for a
 * value that is not a step number (e.g. `?discover` alone, `?discover=9`), with `warning` saying what was found.
 */
export function readDiscoverStep(search: string): { step: number; warning: string | null } | null {
  const params = new URLSearchParams(search);
  if (!params.has(DISCOVER_KEY)) return null;
  const raw = params.get(DISCOVER_KEY) ?? '';
  if (raw === '') return { step: 1, warning: null };
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= DISCOVER_STEPS.length) return { step: n, warning: null };
  return { step: 1, warning: `discover=${raw} is not a step: expected a number from 1 to ${DISCOVER_STEPS.length}; showing step 1.` };
}

/** `search` with `discover` set to `step` and every other key (model `m`, `backend`) kept: the address of a step. */
export function discoverQuery(search: string, step: number): string {
  const params = new URLSearchParams(search);
  params.set(DISCOVER_KEY, String(step));
  return `?${params.toString()}`;
}

/** The embed page's address for one step (relative to the app's base), carrying the model key when it is set. */
export function discoverEmbedUrl(appBase: string, search: string, step: number): string {
  const params = new URLSearchParams();
  params.set(DISCOVER_KEY, String(step));
  const model = new URLSearchParams(search).get('m');
  if (model) params.set('m', model);
  return embedPageUrl(appBase, params.toString());
}
