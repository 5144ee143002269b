import { describe, expect, it } from 'vitest';
import { decodeExperiment, encodeExperiment, parseStoredExperiment, storedExperiment } from '../../../src/lib/ui/url-state';
import { defaultExperiment, type Experiment } from '../../../src/lib/ui/experiment';

function busy(): Experiment {
  const e = defaultExperiment();
  e.model = 'models/my folder/';
  e.prompt = 'Thou shalt: read, the man page; 100% / & = ? # +plus\nnew line ünïcode 🙂';
  e.personas = [
    { personaId: 'preacher', strength: 1.5 },
    { personaId: 'odd:id,with;seps', strength: -2.25, use: 'vector' },
    { personaId: 'hacker', strength: 0, use: 'latents' },
  ];
  e.latents = [
    { latent: 123, coefficient: 8, method: 'add' },
    { latent: 7, coefficient: 0, method: 'clamp' },
  ];
  e.custom = [{ id: 'u1', name: 'My: persona, "quoted"; / odd', latents: [{ latent: 12, coefficient: 1.5 }, { latent: 40, coefficient: -2 }] }];
  e.sampling = { maxNewTokens: 64, temperature: 0, topP: 0.5, seed: 123456 };
  e.positions = 'generated';
  e.steerSpecial = true;
  e.selectedLatent = 99;
  e.watch = { personaId: 'preacher', threshold: 0.75 };
  return e;
}

describe('URL codec', () => {
  it('an embedded model without the default SAE gets its own first SAE when the link names none', () => {
    expect(decodeExperiment('?m=voices-smoke').experiment.sae).toBe('blocks.0.hook_resid_post');
    expect(decodeExperiment('?m=voices').experiment.sae).toBe('blocks.1.hook_resid_post');
    expect(decodeExperiment('?m=voices-smoke&s=other').experiment.sae).toBe('other');
    const e = decodeExperiment('?m=voices-smoke').experiment;
    expect(decodeExperiment(encodeExperiment(e)).experiment.sae).toBe('blocks.0.hook_resid_post');
  });

  it('round-trips a default experiment', () => {
    const e = defaultExperiment();
    const { experiment, warnings, present } = decodeExperiment(encodeExperiment(e));
    expect(present).toBe(true);
    expect(warnings).toEqual([]);
    expect(experiment).toEqual(e);
  });

  it('round-trips every field, including separators and unicode inside names and the prompt', () => {
    const e = busy();
    const q = encodeExperiment(e);
    const { experiment, warnings } = decodeExperiment(`?${q}`);
    expect(warnings).toEqual([]);
    expect(experiment).toEqual(e);
    // And it survives being read back through URLSearchParams-style serialisation of a full URL.
    const url = new URL(`https://example.org/sub/path/?${q}`);
    expect(decodeExperiment(url.search).experiment).toEqual(e);
  });

  it('is compact and readable: defaults omitted, version first', () => {
    const q = encodeExperiment(defaultExperiment());
    expect(q.startsWith('v=1&')).toBe(true);
    expect(q).not.toContain('m=');
    expect(q).not.toContain('t=');
    const e = defaultExperiment();
    e.personas = [{ personaId: 'preacher', strength: 1.5 }];
    e.prompt = 'In the beginning';
    expect(encodeExperiment(e)).toBe('v=1&p=In+the+beginning&ps=preacher:1.5&seed=42');
  });

  it('keeps the special-token steering switch as sp=1 and warns about other values', () => {
    const e = defaultExperiment();
    e.steerSpecial = true;
    expect(encodeExperiment(e)).toContain('&sp=1');
    expect(encodeExperiment(defaultExperiment())).not.toContain('sp=');
    expect(decodeExperiment('?v=1&sp=1').experiment.steerSpecial).toBe(true);
    const bad = decodeExperiment('?v=1&sp=yes');
    expect(bad.experiment.steerSpecial).toBeUndefined();
    expect(bad.warnings).toEqual(['Ignored special-token steering "yes".']);
  });

  it('reports no experiment for an empty or unrelated query', () => {
    expect(decodeExperiment('').present).toBe(false);
    expect(decodeExperiment('?utm_source=x').present).toBe(false);
  });

  it('keeps usable fields and warns about bad ones instead of throwing', () => {
    const { experiment, warnings } = decodeExperiment('?v=1&p=hi&ps=preacher:abc,hacker:2&ls=-1:3:a,5:2:x,6:1:c&n=99999&t=nope&seed=1.5&w=:');
    expect(experiment.prompt).toBe('hi');
    expect(experiment.personas).toEqual([{ personaId: 'hacker', strength: 2 }]);
    expect(experiment.latents).toEqual([{ latent: 6, coefficient: 1, method: 'clamp' }]);
    expect(experiment.sampling.maxNewTokens).toBe(256);
    expect(experiment.sampling.temperature).toBe(0.8);
    expect(experiment.sampling.seed).toBe(42);
    expect(experiment.watch).toBeNull();
    expect(warnings.length).toBeGreaterThanOrEqual(6);
  });

  it('warns about a newer version but still reads what it can', () => {
    const { experiment, warnings } = decodeExperiment('?v=9&p=later');
    expect(experiment.prompt).toBe('later');
    expect(warnings[0]).toMatch(/newer version/);
  });

  it('treats + as a space and tolerates broken percent-encoding', () => {
    expect(decodeExperiment('?p=a+b%20c').experiment.prompt).toBe('a b c');
    expect(decodeExperiment('?p=100%').experiment.prompt).toBe('100%');
  });

  it('reads a link whose separators were percent-encoded again by another tool (URLSearchParams)', () => {
    // Names containing separators cannot survive a decode/re-encode by another tool; plain ids (the norm) do.
    const e = busy();
    e.personas = [{ personaId: 'preacher', strength: 1.5 }, { personaId: 'hacker', strength: -2, use: 'vector' }];
    e.custom = [{ id: 'u1', name: 'Mine', latents: [{ latent: 12, coefficient: 1.5 }] }];
    const params = new URLSearchParams(encodeExperiment(e));
    expect(params.toString()).toContain('%3A');
    expect(decodeExperiment(params.toString()).experiment).toEqual(e);
  });

  it('drops duplicate persona ids, keeping the first', () => {
    const { experiment } = decodeExperiment('?p=x&ps=a:1,a:2');
    expect(experiment.personas).toEqual([{ personaId: 'a', strength: 1 }]);
  });

  it('stores and restores through local storage JSON, rejecting garbage', () => {
    const e = busy();
    expect(parseStoredExperiment(storedExperiment(e))).toEqual(e);
    expect(parseStoredExperiment(null)).toBeNull();
    expect(parseStoredExperiment('{not json')).toBeNull();
    expect(parseStoredExperiment('{"query": 3}')).toBeNull();
  });
});
