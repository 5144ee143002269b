// Parsing and residual location on the fixture exports (GPT-2, fused GPT-2, Llama, no residual) and on edits of
// them that defeat the name patterns, so the fused and structural searches are exercised too.
import { describe, expect, test } from 'vitest';
import {
  LayerOutOfRangeError,
  ModelFormatError,
  ResidualNotFoundError,
  instrumentModel,
  locateResiduals,
  parseModel,
} from '../../../src/lib/graph';
import { readFixture } from './fixtures';

const gpt2 = readFixture('fixtures/tiny-gpt2');

describe('parseModel', () => {
  test('rejects bytes that are not ONNX', () => {
    const text = new TextEncoder().encode('<!doctype html><html><body>404 Not Found</body></html>');
    expect(() => parseModel(text)).toThrow(ModelFormatError);
    expect(() => parseModel(new Uint8Array(4))).toThrow(/only 4 bytes/);
    const noise = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    expect(() => parseModel(noise)).toThrow(ModelFormatError);
  });

  test('rejects truncated files at many cut points', () => {
    const n = gpt2.bytes.length;
    for (const fraction of [0.01, 0.1, 0.33, 0.5, 0.77, 0.9, 0.99, 0.9999]) {
      const cut = gpt2.bytes.slice(0, Math.floor(n * fraction));
      expect(() => parseModel(cut), `cut at ${fraction}`).toThrow(ModelFormatError);
    }
  });

  test('parses a complete file', () => {
    const m = parseModel(gpt2.bytes);
    expect(m.graph!.node.length).toBeGreaterThan(10);
  });
});

describe('locateResiduals', () => {
  test('GPT-2 names', () => {
    const r = locateResiduals(parseModel(gpt2.bytes).graph!, 2);
    expect(r.method).toBe('names');
    expect(r.sites.map((s) => s.kind === 'tensor' && s.tensor)).toEqual([
      '/transformer/h.0/Add_1_output_0',
      '/transformer/h.1/Add_1_output_0',
    ]);
  });

  test('Llama names (scope-aware: RMSNorm eps Adds are not blocks)', () => {
    const f = readFixture('fixtures/tiny-llama');
    const r = locateResiduals(parseModel(f.bytes).graph!, f.config.num_hidden_layers);
    expect(r.method).toBe('names');
    expect(r.sites.map((s) => s.kind === 'tensor' && s.tensor)).toEqual(
      Array.from({ length: f.config.num_hidden_layers }, (_, i) => `/model/layers.${i}/Add_1_output_0`),
    );
  });

  test('fused SkipLayerNormalization: output 3 of every second fused node', () => {
    const f = readFixture('fixtures/tiny-gpt2-fused');
    const r = locateResiduals(parseModel(f.bytes).graph!, f.config.n_layer);
    expect(r.method).toBe('skip-layernorm');
    expect(r.sites.every((s) => s.kind === 'fused')).toBe(true);
  });

  test('structural fallback finds the same tensors when names are scrambled', () => {
    const model = parseModel(gpt2.bytes);
    const expected = locateResiduals(model.graph!, 2).sites.map((s) => s.kind === 'tensor' && s.tensor);
    const renamed = new Map<string, string>();
    for (const n of model.graph!.node)
      n.output.forEach((o, i) => {
        if (o && !model.graph!.output.some((g) => g.name === o)) {
          renamed.set(o, `t${renamed.size}`);
          n.output[i] = renamed.get(o)!;
        }
      });
    for (const n of model.graph!.node) n.input.forEach((x, i) => renamed.has(x) && (n.input[i] = renamed.get(x)!));
    const r = locateResiduals(model.graph!, 2);
    expect(r.method).toBe('structural');
    expect(r.sites.map((s) => s.kind === 'tensor' && s.tensor)).toEqual(expected.map((e) => renamed.get(e as string)));
    // Without the layer count it infers 2 blocks from the chain (embedding Add dropped).
    expect(locateResiduals(model.graph!).nLayer).toBe(2);
  });

  test('a graph without residual connections is a typed error naming what was searched', () => {
    const f = readFixture('fixtures/no-residual');
    const graph = parseModel(f.bytes).graph!;
    let error: unknown;
    try {
      locateResiduals(graph, f.config.n_layer ?? f.config.num_hidden_layers);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResidualNotFoundError);
    expect((error as Error).message).toMatch(/Add_1_output_0/);
    expect((error as Error).message).toMatch(/SkipLayerNormalization/);
    expect((error as ResidualNotFoundError).searched.length).toBe(3);
  });

  test('a layer that does not exist is a typed error', () => {
    const model = parseModel(gpt2.bytes);
    expect(() => instrumentModel(model, { layers: [2], hidden: 64, nLayer: 2 })).toThrow(LayerOutOfRangeError);
    expect(() => instrumentModel(model, { layers: [-1], hidden: 64, nLayer: 2 })).toThrow(/valid: 0..1/);
  });
});
