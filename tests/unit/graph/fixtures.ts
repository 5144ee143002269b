// Shared helpers for graph tests: read fixture model folders and run graphs on onnxruntime-node (CPU), which
// gives exact reference numbers without a browser.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';

export const MODELS = resolve(__dirname, '../../../models');

export interface Golden {
  hidden_size: number;
  n_layer: number;
  vocab_size: number;
  prompts: {
    prompt: string;
    input_ids: number[];
    residuals: Record<string, number[][]>;
    logits_last: number[];
    greedy_64: number[];
  }[];
}

export function fixturePath(name: string): string {
  return resolve(MODELS, name);
}

export function hasFixture(name: string, file = 'onnx/model.onnx'): boolean {
  return existsSync(resolve(MODELS, name, file));
}

export function readFixture(name: string) {
  const dir = resolve(MODELS, name);
  return {
    bytes: new Uint8Array(readFileSync(resolve(dir, 'onnx/model.onnx'))),
    config: JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8')),
    golden: existsSync(resolve(dir, 'golden.json'))
      ? (JSON.parse(readFileSync(resolve(dir, 'golden.json'), 'utf8')) as Golden)
      : undefined,
  };
}

export { ort };

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
