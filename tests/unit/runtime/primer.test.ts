import { describe, expect, it } from 'vitest';
import { describeIO, parseModel } from '../../../src/lib/graph';
import { PRIMER_MODEL } from '../../../src/lib/runtime/primer';

describe('PRIMER_MODEL', () => {
  it('is a valid one-node Identity graph from float[1] x to y', () => {
    const model = parseModel(PRIMER_MODEL);
    expect(PRIMER_MODEL.byteLength).toBe(67);
    expect(model.graph!.node.map((n) => n.opType)).toEqual(['Identity']);
    expect(model.opsetImport.map((o) => Number(o.version))).toEqual([13]);
    const io = describeIO(model.graph!);
    expect(io.inputs).toEqual([{ name: 'x', elemType: 1, dims: [1] }]);
    expect(io.outputs.map((o) => o.name)).toEqual(['y']);
  });
});
