import { describe, expect, it } from 'vitest';
import { activationAt, histogram, matchesQuery, parseCatalogue, summariseLatents } from '../../../src/lib/ui/features';
import { embedCode, embedUrl } from '../../../src/lib/ui/embed-code';
import { formatBytes, visibleToken } from '../../../src/lib/ui/format';
import { resolveModel } from '../../../src/lib/ui/models';

describe('feature summaries', () => {
  // 3 tokens, k = 2
  const rows = { k: 2, indices: Int32Array.from([5, 9, 9, 5, 7, 5]), values: Float32Array.from([3, 1, 4, 2, 6, 0]) };

  it('ranks latents by total activation over the text and counts tokens', () => {
    const s = summariseLatents(rows, 3);
    expect(s.map((x) => x.latent)).toEqual([7, 5, 9]);
    expect(s.find((x) => x.latent === 5)).toEqual({ latent: 5, max: 3, total: 5, count: 2 });
  });

  it('reads an activation from the top-k rows, 0 when absent', () => {
    expect(activationAt(rows, 1, 9)).toBe(4);
    expect(activationAt(rows, 2, 9)).toBe(0);
  });

  it('matches by label words and by id', () => {
    expect(matchesQuery('bible', 3, 'Bible verses')).toBe(true);
    expect(matchesQuery('#12', 12, 'x')).toBe(true);
    expect(matchesQuery('12', 123, 'x')).toBe(true);
    expect(matchesQuery('12', 3, 'x')).toBe(false);
    expect(matchesQuery('  ', 3, 'x')).toBe(true);
  });

  it('bins positive values into equal-width bins', () => {
    const h = histogram([0, 1, 2, 3, 4, -1], 4, 4);
    expect(h.counts).toEqual([0, 1, 1, 2]);
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    expect(histogram([], 3).counts).toEqual([0, 0, 0]);
  });

  it('parses a catalogue leniently and rejects a wrong shape', () => {
    const c = parseCatalogue({ d_sae: 10, voices: ['A'], latents: [{ id: 1, label: 'one' }, { id: 'bad' }, { id: 2 }] });
    expect(c.byId.size).toBe(2);
    expect(c.byId.get(2)!.label).toBe('latent 2');
    expect(() => parseCatalogue({})).toThrow(/latents/);
  });
});

describe('small helpers', () => {
  it('builds an embed snippet under a sub-path with the query escaped', () => {
    expect(embedUrl('https://x.org/blog/app/', 'v=1&p=a')).toBe('https://x.org/blog/app/index.html?embed&v=1&p=a');
    const code = embedCode({ appBase: 'https://x.org/app/', query: 'v=1&p="x"' });
    expect(code).toContain('src="https://x.org/app/index.html?embed&amp;v=1&amp;p=&quot;x&quot;"');
    expect(code).toMatch(/^<iframe .*title=".+".*><\/iframe>$/);
  });

  it('formats bytes and tokens', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MB');
    expect(visibleToken(' the')).toBe('·the');
    expect(visibleToken('\n')).toBe('⏎');
  });

  it('resolves known models, typed folders and plain ids', () => {
    expect(resolveModel('voices').folder).toBe('models/voices/');
    expect(resolveModel('https://h/x').folder).toBe('https://h/x/');
    expect(resolveModel('other').folder).toBe('models/other/');
  });

  it('resolves hub repositories, and a mistyped one fails on load, not on render', () => {
    expect(resolveModel('hf:voices-lab/voices@v1').folder).toBe('https://huggingface.co/voices-lab/voices/resolve/v1/');
    const bad = resolveModel('hf:not a repo');
    expect(bad.name).toBe('not a repo');
    expect(() => bad.folder).toThrow(/not a hub repository id/);
  });
});
