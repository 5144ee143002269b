import { describe, expect, it } from 'vitest';
import { embedPageUrl, isDiscover, pageMode, withoutEmbed } from '../../../src/lib/ui/page-mode';
import { decodeExperiment } from '../../../src/lib/ui/url-state';

describe('page mode: which view index.html shows', () => {
  it('is the playground without the embed key', () => {
    expect(pageMode('')).toBe('playground');
    expect(pageMode('?v=1&p=embed&m=voices')).toBe('playground');
    expect(pageMode('?discover=2')).toBe('playground');
    expect(pageMode('?embedded=1')).toBe('playground');
  });

  it('is the embed widget when the embed key is there, whatever its value or place', () => {
    expect(pageMode('?embed')).toBe('embed');
    expect(pageMode('?embed&v=1&p=a')).toBe('embed');
    expect(pageMode('?v=1&embed=1')).toBe('embed');
    expect(pageMode('embed=')).toBe('embed');
    expect(pageMode(new URLSearchParams('embed&discover=3'))).toBe('embed');
  });

  it('tells Discover apart in either view', () => {
    expect(isDiscover('?discover=2&m=voices-smoke')).toBe(true);
    expect(isDiscover('?embed&discover')).toBe(true);
    expect(isDiscover('?embed&v=1')).toBe(false);
  });
});

describe('embed addresses', () => {
  it('puts embed first, then the experiment query, under the app folder', () => {
    expect(embedPageUrl('https://x.org/app/', 'v=1&p=a')).toBe('https://x.org/app/index.html?embed&v=1&p=a');
    expect(embedPageUrl('https://x.org/app/index.html?v=1', '')).toBe('https://x.org/app/index.html?embed');
    expect(embedPageUrl('https://x.org/', 'v=1#lab=diff&dr=1:0.5')).toBe('https://x.org/index.html?embed&v=1#lab=diff&dr=1:0.5');
  });

  it('reads the same experiment as the query alone: the embed key is not an experiment field', () => {
    const query = 'v=1&p=In+the+beginning&n=10&seed=5';
    const withKey = new URL(embedPageUrl('https://x.org/app/', query)).search;
    expect(decodeExperiment(withKey)).toEqual(decodeExperiment(`?${query}`));
  });

  it('drops only the embed key for the full page', () => {
    expect(withoutEmbed('?embed&discover=2&m=voices-smoke')).toBe('?discover=2&m=voices-smoke');
    expect(withoutEmbed('?embed')).toBe('');
    expect(withoutEmbed('?v=1')).toBe('?v=1');
  });
});
