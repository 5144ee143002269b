// The lab's share of the URL: kept in the fragment (`#lab=diff&lp=fp32~q4&lm=mean&lo=abs&at=1.5`,
// `#lab=timeline&ts=5,6&tp=12`) so the
// playground's query codec (src/lib/ui/url-state.ts) and the lab never write over each other's keys. Decoding never
// throws: unknown values fall back to defaults.
import type { DiffMetric, DiffOrder } from './diff';

export type LabTab = 'diff' | 'vector' | 'audit' | 'timeline';
const TABS: LabTab[] = ['diff', 'vector', 'audit', 'timeline'];

export interface LabView {
  tab: LabTab | null;
  /** Pair id (see models.ts). */
  pair: string | null;
  metric: DiffMetric;
  order: DiffOrder;
  threshold: number;
  /** Timeline: the sampling seeds chosen (null = the manifest's `sampling.seeds`). */
  seeds: number[] | null;
  /** Timeline: prompts sampled from, the first `prompts` of the manifest's (null = all). */
  prompts: number | null;
}

export function defaultLabView(): LabView {
  return { tab: null, pair: null, metric: 'mean', order: 'abs', threshold: 1, seeds: null, prompts: null };
}

export function encodeLabView(v: LabView): string {
  if (!v.tab) return '';
  const d = defaultLabView();
  const parts = [`lab=${v.tab}`];
  if (v.pair) parts.push(`lp=${encodeURIComponent(v.pair)}`);
  if (v.metric !== d.metric) parts.push(`lm=${v.metric}`);
  if (v.order !== d.order) parts.push(`lo=${v.order}`);
  if (v.threshold !== d.threshold) parts.push(`at=${Number(v.threshold.toFixed(4))}`);
  if (v.seeds?.length) parts.push(`ts=${v.seeds.join(',')}`);
  if (v.prompts !== null) parts.push(`tp=${v.prompts}`);
  return parts.join('&');
}

export function decodeLabView(hash: string): LabView {
  const v = defaultLabView();
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const tab = params.get('lab');
  if (TABS.includes(tab as LabTab)) v.tab = tab as LabTab;
  v.pair = params.get('lp');
  const m = params.get('lm');
  if (m === 'mean' || m === 'frequency' || m === 'max') v.metric = m;
  const o = params.get('lo');
  if (o === 'abs' || o === 'increase' || o === 'decrease') v.order = o;
  const t = Number(params.get('at'));
  if (params.has('at') && Number.isFinite(t)) v.threshold = t;
  const seeds = (params.get('ts') ?? '').split(',').filter(Boolean).map(Number);
  if (seeds.length && seeds.every((s) => Number.isInteger(s) && s >= 0)) v.seeds = seeds;
  const prompts = Number(params.get('tp'));
  if (params.has('tp') && Number.isInteger(prompts) && prompts > 0) v.prompts = prompts;
  return v;
}

/** A diff result carried by a link or an embed: the top latents by one metric, `dr=latent:delta,…`. */
export interface DiffSnapshot {
  metric: DiffMetric;
  order: DiffOrder;
  top: { latent: number; value: number }[];
}

export function encodeDiffSnapshot(top: { latent: number; value: number }[]): string {
  return `dr=${top.map((t) => `${t.latent}:${Number(t.value.toPrecision(4))}`).join(',')}`;
}

/** The snapshot in a fragment, or null; bad entries are skipped. */
export function decodeDiffSnapshot(hash: string): DiffSnapshot | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const raw = params.get('dr');
  if (!raw) return null;
  const top = raw
    .split(',')
    .map((item) => item.split(':').map(Number))
    .filter(([l, v]) => Number.isInteger(l) && l >= 0 && Number.isFinite(v))
    .map(([latent, value]) => ({ latent, value }));
  if (!top.length) return null;
  const view = decodeLabView(hash);
  return { metric: view.metric, order: view.order, top };
}
