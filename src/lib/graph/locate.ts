// Finds the tensor that carries the residual stream after each transformer block. Exporters name things
// differently, so we try known naming schemes first (cheap and exact), then fused skip-norm nodes, then a
// structural search that works on any graph with one Add per residual connection.
import type { GraphProto, NodeProto } from './parse';
import { ResidualNotFoundError } from './errors';

/**
 * Where the residual after block `layer` lives.
 * - `tensor`: `tensor` is the output of a plain Add; steer by adding after it and renaming its consumers.
 * - `fused`: `node` is a SkipLayerNormalization-style node whose output 3 is the residual sum; steer by adding to
 *   its input 0, so the normalised output 0 that feeds the next block sees the steered sum too.
 */
export type ResidualSite =
  | { layer: number; kind: 'tensor'; tensor: string }
  | { layer: number; kind: 'fused'; node: NodeProto };

export type LocateMethod = 'names' | 'skip-layernorm' | 'structural';

export interface ResidualMap {
  method: LocateMethod;
  nLayer: number;
  sites: ResidualSite[];
}

/** Block-scope end-of-block Adds: `/transformer/h.3/Add_1_output_0`, `/model/layers.3/Add_1_output_0`, ... */
const NAME_PATTERN = /^(.*?\/)?(h|layers|blocks|layer)\.(\d+)\/Add_1_output_0$/;
const FUSED_OPS = new Set(['SkipLayerNormalization', 'SkipSimplifiedLayerNormalization']);

export const SEARCHED_PATTERNS = [
  '<scope>/(h|layers|blocks|layer).{i}/Add_1_output_0 (GPT-2 and Llama/Qwen/SmolLM exports)',
  'output 3 of com.microsoft SkipLayerNormalization / SkipSimplifiedLayerNormalization (2 per block)',
  'a chain of Add nodes, each taking the previous one as input (2 per block)',
];

/**
 * Locates the residual after every block. `nLayer` (from config.json) makes the search stricter; without it the
 * count is inferred. Throws `ResidualNotFoundError` naming every scheme tried.
 */
export function locateResiduals(graph: GraphProto, nLayer?: number): ResidualMap {
  const found = byNames(graph, nLayer) ?? bySkipNorm(graph, nLayer) ?? byStructure(graph, nLayer);
  if (!found) throw new ResidualNotFoundError(SEARCHED_PATTERNS, nLayer ? `expected ${nLayer} blocks` : '');
  return found;
}

function producers(graph: GraphProto): Map<string, NodeProto> {
  const map = new Map<string, NodeProto>();
  for (const n of graph.node) for (const o of n.output) if (o) map.set(o, n);
  return map;
}

function byNames(graph: GraphProto, nLayer?: number): ResidualMap | null {
  const produced = producers(graph);
  const groups = new Map<string, Map<number, string>>();
  for (const [name, node] of produced) {
    const m = NAME_PATTERN.exec(name);
    if (!m || node.opType !== 'Add') continue;
    const key = `${m[1] ?? ''}${m[2]}`;
    if (!groups.has(key)) groups.set(key, new Map());
    groups.get(key)!.set(Number(m[3]), name);
  }
  for (const layers of groups.values()) {
    const n = nLayer ?? layers.size;
    if (layers.size !== n) continue;
    const sites: ResidualSite[] = [];
    for (let i = 0; i < n; i++) {
      const tensor = layers.get(i);
      if (!tensor) break;
      sites.push({ layer: i, kind: 'tensor', tensor });
    }
    if (sites.length === n && n > 0) return { method: 'names', nLayer: n, sites };
  }
  return null;
}

function bySkipNorm(graph: GraphProto, nLayer?: number): ResidualMap | null {
  // Per block: one fused node after attention (sum = mid-block residual) and one after the MLP (sum = residual
  // after the block, normalised for the next block or by the final norm). The first block's input norm has no skip.
  const fused = graph.node.filter((n) => FUSED_OPS.has(n.opType));
  if (fused.length === 0 || fused.length % 2 !== 0) return null;
  const n = fused.length / 2;
  if (nLayer !== undefined && n !== nLayer) return null;
  const sites: ResidualSite[] = [];
  for (let i = 0; i < n; i++) sites.push({ layer: i, kind: 'fused', node: fused[2 * i + 1] });
  return { method: 'skip-layernorm', nLayer: n, sites };
}

function byStructure(graph: GraphProto, nLayer?: number): ResidualMap | null {
  // Longest path through Add nodes where each Add reads the previous one's output directly: the residual chain.
  // Bias adds and activation internals form only short chains, so the longest one is the stream.
  const produced = producers(graph);
  const depth = new Map<NodeProto, number>();
  const parent = new Map<NodeProto, NodeProto>();
  let best: NodeProto | null = null;
  for (const node of graph.node) {
    if (node.opType !== 'Add') continue;
    let d = 1;
    for (const input of node.input) {
      const p = produced.get(input);
      if (p && p.opType === 'Add' && depth.has(p) && depth.get(p)! + 1 > d) {
        d = depth.get(p)! + 1;
        parent.set(node, p);
      }
    }
    depth.set(node, d);
    if (!best || d > depth.get(best)!) best = node;
  }
  if (!best) return null;
  const chain: NodeProto[] = [];
  for (let n: NodeProto | undefined = best; n; n = parent.get(n)) chain.unshift(n);
  let n = nLayer ?? Math.floor(chain.length / 2);
  if (n < 1 || chain.length < 2 * n) return null;
  const tail = chain.slice(chain.length - 2 * n);
  const sites: ResidualSite[] = [];
  for (let i = 0; i < n; i++) sites.push({ layer: i, kind: 'tensor', tensor: tail[2 * i + 1].output[0] });
  return { method: 'structural', nLayer: n, sites };
}
