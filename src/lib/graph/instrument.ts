// Rewrites a decoder graph so that the residual stream after chosen blocks can be read (capture outputs) and
// pushed (additive steering inputs, optionally an in-graph latent clamp). Done at load time on the parsed
// protobuf; the weights are untouched, so the rewrite costs milliseconds even for large models.
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  NodeProtoSchema,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { LayerOutOfRangeError } from './errors';
import { locateResiduals, type LocateMethod, type ResidualSite } from './locate';
import { elemTypeOf } from './dtype';

/** Graph output carrying the (steered, clamped) residual after block `layer`: [batch, seq, hidden]. */
export const captureName = (layer: number) => `residual.${layer}`;
/** Graph input added to that residual: [batch, 1 | seq, hidden], broadcast over positions when 1. */
export const steerName = (layer: number) => `steer.${layer}`;
/** Clamp inputs for `slots` latents at `layer` (see `InstrumentOptions.clampSlots`). */
export const clampNames = (layer: number) => ({
  enc: `clamp.${layer}.enc`, // [slots, hidden] encoder rows
  bias: `clamp.${layer}.bias`, // [slots] encoder bias (fold any b_dec subtraction in here)
  threshold: `clamp.${layer}.threshold`, // [slots] JumpReLU threshold; 0 for ReLU
  dec: `clamp.${layer}.dec`, // [slots, hidden] decoder rows
  target: `clamp.${layer}.target`, // [batch, 1 or seq, slots] value to clamp each latent to
  mask: `clamp.${layer}.mask`, // [batch, 1 or seq, slots] 1 where the slot is active for that row (and position), else 0
});

export interface InstrumentOptions {
  /** Blocks to instrument (0-based). Each gets a capture output and a steering input. */
  layers: number[];
  /** Residual width (config `n_embd` / `hidden_size`). */
  hidden: number;
  /** Number of blocks from config.json; makes residual location stricter. */
  nLayer?: number;
  /**
   * Latent clamp slots per instrumented layer (0 = none). With n slots the residual h becomes
   * h + Σ_i mask_i·(target_i − a_i(h))·dec_i with a_i(h) = relu(h·enc_i + bias_i)·[h·enc_i + bias_i > threshold_i],
   * which sets SAE latent i to target_i (ablation when 0). Applied after the additive steering.
   */
  clampSlots?: number;
}

export interface InstrumentResult {
  model: ModelProto;
  method: LocateMethod;
  nLayer: number;
  layers: number[];
  clampSlots: number;
}

/** Instruments `model` in place (it is also returned). Throws `LayerOutOfRangeError` / `ResidualNotFoundError`. */
export function instrumentModel(model: ModelProto, options: InstrumentOptions): InstrumentResult {
  const graph = model.graph!;
  const map = locateResiduals(graph, options.nLayer);
  const layers = [...new Set(options.layers)].sort((a, b) => a - b);
  for (const l of layers)
    if (!Number.isInteger(l) || l < 0 || l >= map.nLayer) throw new LayerOutOfRangeError(l, map.nLayer);
  const slots = options.clampSlots ?? 0;
  for (const layer of layers) {
    const site = map.sites[layer];
    const type = elemTypeOf(graph, site.kind === 'tensor' ? site.tensor : site.node.input[0]);
    const rewriter = new Rewriter(graph, layer, options.hidden, type === TensorProto_DataType.FLOAT16);
    rewriter.apply(site, slots);
  }
  return { model, method: map.method, nLayer: map.nLayer, layers, clampSlots: slots };
}

/**
 * Rewrites one layer. Steering, clamp and capture tensors are float32 whatever the graph computes in; in a float16
 * graph (`half`) the steering vector is cast down before it is added and the residual is cast up for the capture
 * and the clamp, so the blocks after it still see float16.
 */
class Rewriter {
  private added: NodeProto[] = [];
  constructor(
    private graph: GraphProto,
    private layer: number,
    private hidden: number,
    private half: boolean,
  ) {}

  apply(site: ResidualSite, slots: number): void {
    const L = this.layer;
    this.graph.input.push(valueInfo(steerName(L), ['batch', 'steer_positions', this.hidden]));
    if (site.kind === 'tensor') {
      const out = this.steerAndClamp(site.tensor, slots);
      const index = this.graph.node.findIndex((n) => n.output.includes(site.tensor));
      renameConsumers(this.graph, site.tensor, out, new Set(this.added));
      this.graph.node.splice(index + 1, 0, ...this.added);
    } else {
      const node = site.node;
      if (slots > 0) {
        this.unfuse(node, slots);
      } else {
        // Steering goes in before the fused node (never through its bias input), so every output sees it.
        const steeredInput = `steer_in.${L}`;
        this.node('Add', [node.input[0], this.steerInput()], [steeredInput]);
        node.input[0] = steeredInput;
        while (node.output.length < 4) node.output.push('');
        const old = node.output[3];
        const sum = this.half ? `residual.${L}.f16` : captureName(L);
        node.output[3] = sum;
        if (old) renameConsumers(this.graph, old, sum, new Set([node]));
        const index = this.graph.node.indexOf(node);
        const before = this.added;
        this.added = [];
        if (this.half) this.cast(sum, captureName(L), TensorProto_DataType.FLOAT);
        this.graph.node.splice(index + 1, 0, ...this.added);
        this.graph.node.splice(index, 0, ...before);
      }
    }
    this.graph.output.push(valueInfo(captureName(L), ['batch', 'sequence', this.hidden]));
  }

  /** The steering input in the graph's float type. */
  private steerInput(): string {
    const L = this.layer;
    return this.half ? this.cast(steerName(L), `steer.${L}.f16`, TensorProto_DataType.FLOAT16) : steerName(L);
  }

  /**
   * Adds steering (and the clamp) to residual `h`; `captureName(layer)` becomes its float32 copy. Returns the tensor
   * that the graph's later nodes should read instead of `h` (in the graph's own float type).
   */
  private steerAndClamp(h: string, slots: number): string {
    const L = this.layer;
    const steer = this.steerInput();
    if (!this.half) {
      const steered = slots > 0 ? `residual.${L}.steered` : captureName(L);
      this.node('Add', [h, steer], [steered]);
      if (slots > 0) this.clamp(steered, captureName(L), slots);
      return captureName(L);
    }
    const steered = `residual.${L}.steered`;
    this.node('Add', [h, steer], [steered]);
    if (slots === 0) {
      this.cast(steered, captureName(L), TensorProto_DataType.FLOAT);
      return steered;
    }
    this.clamp(this.cast(steered, `residual.${L}.steered32`, TensorProto_DataType.FLOAT), captureName(L), slots);
    return this.cast(captureName(L), `residual.${L}.f16`, TensorProto_DataType.FLOAT16);
  }

  private cast(from: string, to: string, type: TensorProto_DataType): string {
    this.node('Cast', [from], [to], [intAttr('to', type)]);
    return to;
  }

  /**
   * A clamp must act on the residual before it is normalised, which a fused skip-norm node does internally; so the
   * node is split into Add(s) → steer → clamp → (Simplified)LayerNormalization, with the same output names.
   */
  private unfuse(node: NodeProto, slots: number): void {
    const L = this.layer;
    const [input, skip, gamma] = node.input;
    const simplified = node.opType === 'SkipSimplifiedLayerNormalization';
    const beta = simplified ? '' : (node.input[3] ?? '');
    const bias = simplified ? (node.input[3] ?? '') : (node.input[4] ?? '');
    if ((node.output[1] ?? '') !== '' || (node.output[2] ?? '') !== '')
      throw new Error(`Cannot clamp at layer ${L}: the fused node's mean/inv_std outputs are in use.`);
    const epsilon = node.attribute.find((a) => a.name === 'epsilon');
    const p = `unfused.${L}/`;
    this.node('Add', [input, skip], [p + 'sum0']);
    let sum = p + 'sum0';
    if (bias) {
      this.node('Add', [sum, bias], [p + 'sum']);
      sum = p + 'sum';
    }
    const out = this.steerAndClamp(sum, slots);
    const attrs = [intAttr('axis', -1), ...(epsilon ? [epsilon] : [])];
    if (simplified) this.node('SimplifiedLayerNormalization', [out, gamma], [node.output[0]], attrs);
    else this.node('LayerNormalization', beta ? [out, gamma, beta] : [out, gamma], [node.output[0]], attrs);
    const old = node.output[3] ?? '';
    if (old) renameConsumers(this.graph, old, out, new Set(this.added));
    const index = this.graph.node.indexOf(node);
    this.graph.node.splice(index, 1, ...this.added);
  }

  private clamp(h: string, out: string, slots: number): void {
    const c = clampNames(this.layer);
    const p = `clamp.${this.layer}/`;
    const d = this.hidden;
    this.graph.input.push(
      valueInfo(c.enc, [slots, d]),
      valueInfo(c.bias, [slots]),
      valueInfo(c.threshold, [slots]),
      valueInfo(c.dec, [slots, d]),
      // 1 position broadcasts over the sequence; seq positions clamp per position (special tokens left alone).
      valueInfo(c.target, ['batch', 'clamp_positions', slots]),
      valueInfo(c.mask, ['batch', 'clamp_positions', slots]),
    );
    this.node('Transpose', [c.enc], [p + 'encT'], [intsAttr('perm', [1, 0])]);
    this.node('MatMul', [h, p + 'encT'], [p + 'pre0']);
    this.node('Add', [p + 'pre0', c.bias], [p + 'pre']);
    this.node('Relu', [p + 'pre'], [p + 'relu']);
    this.node('Greater', [p + 'pre', c.threshold], [p + 'open_bool']);
    this.node('Cast', [p + 'open_bool'], [p + 'open'], [intAttr('to', TensorProto_DataType.FLOAT)]);
    this.node('Mul', [p + 'relu', p + 'open'], [p + 'act']);
    this.node('Sub', [c.target, p + 'act'], [p + 'diff']);
    this.node('Mul', [p + 'diff', c.mask], [p + 'delta']);
    this.node('MatMul', [p + 'delta', c.dec], [p + 'correction']);
    this.node('Add', [h, p + 'correction'], [out]);
  }

  private node(opType: string, input: string[], output: string[], attribute = [] as NodeProto['attribute']): void {
    const name = `/instrument/layer${this.layer}/${opType}_${this.added.length}`;
    this.added.push(create(NodeProtoSchema, { opType, input, output, name, attribute }));
  }
}

/** Points every reader of `from` (nodes, nested subgraphs, graph outputs excluded) at `to`. */
function renameConsumers(graph: GraphProto, from: string, to: string, skip: Set<NodeProto>): void {
  for (const node of graph.node) {
    if (skip.has(node)) continue;
    for (let i = 0; i < node.input.length; i++) if (node.input[i] === from) node.input[i] = to;
    for (const attr of node.attribute) {
      if (attr.g) renameConsumers(attr.g, from, to, skip);
      for (const g of attr.graphs) renameConsumers(g, from, to, skip);
    }
  }
}

function valueInfo(name: string, dims: (number | string)[]): ValueInfoProto {
  const shape = create(TensorShapeProtoSchema, {
    dim: dims.map((d) =>
      create(TensorShapeProto_DimensionSchema, {
        value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
      }),
    ),
  });
  const type = create(TypeProtoSchema, {
    value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: TensorProto_DataType.FLOAT, shape }) },
  });
  return create(ValueInfoProtoSchema, { name, type });
}

function intsAttr(name: string, ints: number[]) {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: ints.map(BigInt) });
}

function intAttr(name: string, i: number) {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(i) });
}
