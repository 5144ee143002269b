// Specificity ranking, dense folding, special tokens, the latent colour scale, lazily loaded examples and the
// persona readings behind the first view.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CatalogueError,
  examplesUrl,
  loadExamples,
  parseCatalogue,
  rankLatents,
  specificity,
  summariseLatents,
  summariseText,
  type FeatureCatalogue,
} from '../../../src/lib/ui/features';
import { latentScaleTop } from '../../../src/lib/ui/colour';
import { personaReadings, readingLevel, strongestPersona, textMean } from '../../../src/lib/ui/persona-readings';
import type { PersonaPreset } from '../../../src/lib/engine/api';

const entry = (id: number, density: number, max_activation: number) => ({
  id,
  label: `l${id}`,
  density,
  max_activation,
  voice_distribution: [],
  top_promoted: [],
  top_suppressed: [],
  examples: [],
});

function catalogue(latents: ReturnType<typeof entry>[], extra: Record<string, unknown> = {}): FeatureCatalogue {
  return parseCatalogue({ d_sae: 8, voices: [], scan_tokens: 1000, latents, ...extra }, 'http://x/models/m/sae/h/');
}

describe('specificity ranking', () => {
  it('scores (max on text / dashboard max) x ln(1/density); never-seen latents count as 1/scan_tokens', () => {
    const s = { latent: 1, max: 5, total: 5, count: 1 };
    expect(specificity(s, entry(1, 0.01, 10), 1000)).toBeCloseTo(0.5 * Math.log(100), 12);
    expect(specificity(s, entry(1, 0, 10), 1000)).toBeCloseTo(0.5 * Math.log(1000), 12);
    expect(specificity(s, undefined, 1000)).toBeNaN();
    expect(specificity(s, entry(1, 0.01, 0), 1000)).toBeNaN();
  });

  it('a dense latent at full strength ranks below a rare one at half strength, and is folded away', () => {
    // latent 0: dense (32%), fires at its max; latent 1: 0.5% density at half its max; latent 2: 2% at 30%.
    const cat = catalogue([entry(0, 0.32, 10), entry(1, 0.005, 8), entry(2, 0.02, 10)]);
    const summaries = [
      { latent: 0, max: 10, total: 60, count: 6 },
      { latent: 1, max: 4, total: 4, count: 1 },
      { latent: 2, max: 3, total: 5, count: 2 },
    ];
    const r = rankLatents(summaries, cat);
    expect(r.specific.map((x) => x.latent)).toEqual([1, 2]);
    expect(r.frequent.map((x) => x.latent)).toEqual([0]);
    expect(r.frequent[0].dense).toBe(true);
    expect(r.specific[0].score).toBeCloseTo(0.5 * Math.log(200), 12);
  });

  it('uses features.json dense_threshold, default 10%', () => {
    const latents = [entry(0, 0.08, 10), entry(1, 0.001, 10)];
    expect(catalogue(latents).denseThreshold).toBe(0.1);
    const strict = catalogue(latents, { dense_threshold: 0.05 });
    const r = rankLatents([{ latent: 0, max: 10, total: 10, count: 1 }], strict);
    expect(r.frequent.map((x) => x.latent)).toEqual([0]);
    expect(rankLatents([{ latent: 0, max: 10, total: 10, count: 1 }], catalogue(latents)).specific.map((x) => x.latent)).toEqual([0]);
  });

  it('without a catalogue ranks by total activation and folds nothing', () => {
    const r = rankLatents(
      [
        { latent: 3, max: 1, total: 1, count: 1 },
        { latent: 4, max: 2, total: 7, count: 4 },
      ],
      null,
    );
    expect(r.specific.map((x) => x.latent)).toEqual([4, 3]);
    expect(r.frequent).toEqual([]);
  });

  it('leaves special-token positions out of the summaries', () => {
    // token 0 is BOS with a huge activation of latent 5
    const rows = { k: 1, indices: Int32Array.from([5, 5, 6]), values: Float32Array.from([90, 2, 3]) };
    expect(summariseLatents(rows, 3).find((s) => s.latent === 5)!.max).toBe(90);
    const text = summariseText({ top: rows, tokens: [{ special: true }, {}, {}] });
    expect(text.find((s) => s.latent === 5)).toEqual({ latent: 5, max: 2, total: 2, count: 1 });
  });

  it("a latent's colour scale runs to its dashboard maximum, or the text's when larger or unknown", () => {
    expect(latentScaleTop(37, 3)).toBe(37);
    expect(latentScaleTop(37, 40)).toBe(40);
    expect(latentScaleTop(undefined, 3)).toBe(3);
    expect(latentScaleTop(NaN, 3)).toBe(3);
  });
});

describe('examples loaded per card', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('fetches the one file that holds a latent, once, and reads its list', async () => {
    const cat = catalogue([entry(0, 0.1, 1), entry(70, 0.1, 1), entry(71, 0.1, 1)], { examples: { path: 'examples/{index}.json', per_file: 64 } });
    expect(examplesUrl(cat.examples!, 70)).toBe('http://x/models/m/sae/h/examples/0001.json');
    const ex = { voice: 'Manual', tokens: ['a'], activations: [1], max: 1 };
    const fetchMock = vi.fn(async (url: string) => new Response(JSON.stringify({ first: 64, latents: [[], [], [], [], [], [], [ex], [ex, ex]] }), { status: 200, headers: { 'content-type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);
    expect(await loadExamples(cat, 70)).toEqual([ex]);
    expect(await loadExamples(cat, 71)).toEqual([ex, ex]);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls[0][0]).toBe('http://x/models/m/sae/h/examples/0001.json');
  });

  it('a bad or missing file is a typed error, and is retried on the next call', async () => {
    const cat = catalogue([entry(1, 0.1, 1)], { examples: { path: 'examples/{index}.json', per_file: 64 } });
    vi.stubGlobal('fetch', vi.fn(async () => new Response('nope', { status: 404 })));
    await expect(loadExamples(cat, 1)).rejects.toThrow(/HTTP 404 from .*examples\/0000\.json/);
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"latents": 3}', { status: 200 })));
    await expect(loadExamples(cat, 1)).rejects.toThrow(/expected \{"first"/);
    // No response at all (offline without a cached copy): its own CatalogueError that says offline in words.
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    const offline = loadExamples(cat, 1);
    await expect(offline).rejects.toBeInstanceOf(CatalogueError);
    await expect(offline).rejects.toMatchObject({ name: 'ExamplesUnreachableError' });
    await expect(offline).rejects.toThrow(/no response for .*examples\/0000\.json \(offline, or the server cannot be reached\): Failed to fetch/);
  });

  it('inline examples (older features.json) need no fetch', async () => {
    const ex = { voice: 'V', tokens: ['b'], activations: [2], max: 2 };
    const cat = parseCatalogue({ latents: [{ ...entry(2, 0.1, 2), examples: [ex] }] });
    vi.stubGlobal('fetch', vi.fn(async () => { throw new Error('no fetch expected'); }));
    expect(await loadExamples(cat, 2)).toEqual([ex]);
    expect(cat.examples).toBeNull();
  });
});

describe('persona readings', () => {
  const preset = (id: string, monitor?: { ownMean: number; othersMean: number }): PersonaPreset => ({
    id,
    name: id.toUpperCase(),
    layer: 1,
    latents: [{ latent: 0, coefficient: 1 }],
    defaultUse: 'latents',
    strength: { min: -2, max: 2, recommended: 1 },
    source: 'preset',
    ...(monitor ? { monitor } : {}),
  });

  it('averages the monitor over non-special tokens and puts it on the calibrated scale', () => {
    const tokens = [{ id: 0, text: '<s>', special: true }, { id: 1, text: 'a' }, { id: 2, text: 'b' }];
    const monitor = { p: Float32Array.from([100, 2, 4]), q: Float32Array.from([-50, 10, 10]) };
    expect(textMean(monitor.p, tokens)).toBe(3);
    const r = personaReadings({ tokens, monitor }, [preset('p', { ownMean: 5, othersMean: 1 }), preset('q', { ownMean: 20, othersMean: 0 }), preset('none')]);
    expect(r.map((x) => x.id)).toEqual(['p', 'q']);
    expect(r[0]).toEqual({ id: 'p', name: 'P', reading: 3, level: 0.5, tokens: 2 });
    expect(r[1].level).toBe(0.5 * (10 / 10));
    // q reads 10 raw (higher) but its level is 0.5, the same as p's: the tie keeps the first
    expect(strongestPersona(r)!.id).toBe('p');
    r[1].level = 0.9;
    expect(strongestPersona(r)!.id).toBe('q');
  });

  it('readingLevel: 0 at the other voices\' mean, 1 at the persona\'s own, linear beyond; null without a usable calibration', () => {
    const m = { ownMean: 16, othersMean: -4 };
    expect(readingLevel(-4, m)).toBe(0);
    expect(readingLevel(16, m)).toBe(1);
    expect(readingLevel(-31.9, m)).toBeCloseTo(-1.395, 10);
    expect(readingLevel(36, m)).toBe(2);
    expect(readingLevel(3, undefined)).toBeNull();
    expect(readingLevel(3, { ownMean: 2, othersMean: 2 })).toBeNull();
    expect(readingLevel(NaN, m)).toBeNull();
  });

  it('falls back to raw readings when any persona is uncalibrated', () => {
    const tokens = [{ id: 1, text: 'a' }];
    const r = personaReadings({ tokens, monitor: { p: Float32Array.from([3]), q: Float32Array.from([7]) } }, [preset('p', { ownMean: 1, othersMean: 0 }), preset('q')]);
    expect(r[1].level).toBeNull();
    expect(strongestPersona(r)!.id).toBe('q');
    expect(strongestPersona([])).toBeNull();
  });
});
