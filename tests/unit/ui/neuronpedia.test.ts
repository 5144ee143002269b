// Neuronpedia explanation exports as feature labels: rows of its Explanation table (schema.prisma fields), gzipped
// JSON lines as the neuronpedia-datasets bucket serves them, or a JSON array as the retired export API answered.
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../../src/lib/ui/features';
import { applyNeuronpediaLabels, LabelImportError, parseNeuronpediaExplanations } from '../../../src/lib/ui/neuronpedia';

const row = (index: string, description: string, extra: Record<string, unknown> = {}) => ({
  id: `clx${index}`,
  modelId: 'gpt2-small',
  layer: '8-res-jb',
  index,
  description,
  authorId: 'clauthor',
  triggeredByUserId: null,
  notes: null,
  scoreV1: 0,
  scoreV2: null,
  umap_x: 0,
  umap_y: 0,
  umap_cluster: 0,
  umap_log_feature_sparsity: 0,
  typeName: 'oai_token-act-pair',
  explanationModelName: 'gpt-4o-mini',
  embedding: '[0.1,0.2]',
  ...extra,
});

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('Neuronpedia explanation exports', () => {
  it('reads batch-0.jsonl.gz rows: string indices, best-scored explanation per latent, source ids', () => {
    const rows = [row('204', ' time-related phrases '), row('7', 'the word "the"'), row('204', 'dates and times', { scoreV1: 0.8 }), row('9', '')];
    const parsed = parseNeuronpediaExplanations(gzipSync(new TextEncoder().encode(jsonl(rows))), 'batch-0.jsonl.gz');
    expect(parsed.modelId).toBe('gpt2-small');
    expect(parsed.layer).toBe('8-res-jb');
    expect([...parsed.labels.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [7, 'the word "the"'],
      [204, 'dates and times'],
    ]);
    // The same rows as a JSON array (the retired /api/explanation/export) and as plain .jsonl.
    expect(parseNeuronpediaExplanations(JSON.stringify(rows)).labels).toEqual(parsed.labels);
    expect(parseNeuronpediaExplanations(new TextEncoder().encode(jsonl(rows))).labels).toEqual(parsed.labels);
  });

  it('refuses what is not an export of one SAE, saying what it expected', () => {
    expect(() => parseNeuronpediaExplanations('{"a":1}\n{"b":2}', 'x.jsonl')).toThrow(/x\.jsonl: no explanations found: expected rows with "index" and "description"/);
    expect(() => parseNeuronpediaExplanations('{"index":"1","description":"a"}\nnot json', 'x.jsonl')).toThrow(/line 2 is not JSON/);
    expect(() => parseNeuronpediaExplanations(jsonl([row('1', 'a'), row('2', 'b', { layer: '9-res-jb' })]))).toThrow(LabelImportError);
    expect(() => parseNeuronpediaExplanations(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), 'b.gz')).toThrow(/b\.gz: gzip data is corrupt/);
  });

  it('labels the catalogue beside or instead of features.json, and checks the SAE', () => {
    const catalogue = parseCatalogue({ hook_name: 'blocks.8.hook_resid_pre', d_sae: 300, latents: [{ id: 7, label: 'determiner' }, { id: 8 }] });
    const imported = parseNeuronpediaExplanations(jsonl([row('7', 'the word "the"'), row('8', 'numbers'), row('299', 'last')]));
    const sae = { hookName: 'blocks.8.hook_resid_pre', dSae: 300, neuronpediaId: 'gpt2-small/8-res-jb' };
    const beside = applyNeuronpediaLabels(catalogue, imported, sae, 'beside');
    expect(beside.byId.get(7)!.label).toBe('determiner');
    expect(beside.byId.get(8)!.label).toBe('numbers');
    expect(beside.byId.get(299)!.label).toBe('last');
    const instead = applyNeuronpediaLabels(catalogue, imported, sae, 'instead');
    expect(instead.byId.get(7)!.label).toBe('the word "the"');
    // No features.json at all: the export alone labels the SAE.
    expect(applyNeuronpediaLabels(null, imported, sae, 'beside').byId.get(299)!.label).toBe('last');
    expect(() => applyNeuronpediaLabels(catalogue, imported, { ...sae, dSae: 200 }, 'beside')).toThrow(/labels latent 299, but this SAE has 200 latents/);
    expect(() => applyNeuronpediaLabels(catalogue, imported, { ...sae, neuronpediaId: 'gpt2-small/6-res-jb' }, 'beside')).toThrow(
      /export is for Neuronpedia source gpt2-small\/8-res-jb, but this SAE is gpt2-small\/6-res-jb/,
    );
  });
});
