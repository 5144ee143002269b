import { describe, expect, it } from 'vitest';
import { restoreExperiment, saveExperiment } from '../../../src/lib/ui/persistence';
import { defaultExperiment } from '../../../src/lib/ui/experiment';

class MemoryStorage implements Storage {
  #items = new Map<string, string>();
  get length() {
    return this.#items.size;
  }
  clear() {
    this.#items.clear();
  }
  getItem(k: string) {
    return this.#items.get(k) ?? null;
  }
  key(i: number) {
    return [...this.#items.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.#items.delete(k);
  }
  setItem(k: string, v: string) {
    this.#items.set(k, v);
  }
}

describe('restoring an experiment', () => {
  it('prefers the link, then local storage, then the defaults', () => {
    const storage = new MemoryStorage();
    expect(restoreExperiment('', storage)).toEqual({ experiment: null, from: 'default', warnings: [] });
    const saved = defaultExperiment();
    saved.prompt = 'saved words';
    saved.personas = [{ personaId: 'hacker', strength: -1 }];
    saveExperiment(saved, storage);
    expect(restoreExperiment('', storage).experiment).toEqual(saved);
    expect(restoreExperiment('?utm=1', storage).from).toBe('storage');
    const linked = restoreExperiment('?v=1&p=linked', storage);
    expect(linked.from).toBe('url');
    expect(linked.experiment?.prompt).toBe('linked');
  });

  it('survives storage that throws (private mode) and corrupt entries', () => {
    const throwing = {
      getItem() {
        throw new Error('denied');
      },
      setItem() {
        throw new Error('quota');
      },
    } as unknown as Storage;
    expect(() => saveExperiment(defaultExperiment(), throwing)).not.toThrow();
    expect(restoreExperiment('', throwing).from).toBe('default');
    const storage = new MemoryStorage();
    storage.setItem('persona-playground:experiment:v1', '{"query":"v=1&n=abc"}');
    expect(restoreExperiment('', storage).experiment?.sampling.maxNewTokens).toBe(40);
  });
});
