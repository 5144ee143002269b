// The lab's pure parts: prompt files, per-latent totals, the diff ranking, persona vectors and audit peaks, each
// checked against values worked out by hand or recomputed densely here.
import { describe, expect, it } from 'vitest';
import type { Analysis, TextStats } from '../../../src/lib/engine/api';
import { escapeLine, parsePromptFile, parsePromptLines, PROMPT_LIMITS } from '../../../src/lib/lab/prompts';
import { LabInputError, LabTokenMismatchError, LabWidthMismatchError } from '../../../src/lib/lab/errors';
import { latentTotals } from '../../../src/lib/lab/latents';
import { diffLatents, rankDiffs } from '../../../src/lib/lab/diff';
import { cosine, personaVector } from '../../../src/lib/lab/personaVector';
import { auditRow, signedHistogram } from '../../../src/lib/lab/audit';
import { checkPair, modelPairs } from '../../../src/lib/lab/models';
import { toCsv } from '../../../src/lib/lab/export';
import { decodeLabView, encodeLabView } from '../../../src/lib/lab/url';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Sparse TextStats from dense per-token activations [T][dSae] and residuals [T][dIn]. */
function stats(acts: number[][], residual: number[][] = acts.map(() => [0]), ids?: number[], skipFirst = false): TextStats {
  const T = acts.length;
  const k = Math.max(...acts.map((row) => row.filter((v) => v > 0).length), 1);
  const indices = new Int32Array(T * k);
  const values = new Float32Array(T * k);
  acts.forEach((row, t) => {
    const active = row.map((v, l) => ({ v, l })).filter((x) => x.v > 0).sort((a, b) => b.v - a.v);
    active.forEach((x, j) => {
      indices[t * k + j] = x.l;
      values[t * k + j] = x.v;
    });
  });
  const start = skipFirst ? 1 : 0;
  const dIn = residual[0].length;
  const residualSum = new Float64Array(dIn);
  let residualNormSum = 0;
  for (let t = start; t < T; t++) {
    residual[t].forEach((x, j) => (residualSum[j] += x));
    residualNormSum += Math.hypot(...residual[t]);
  }
  return { tokens: acts.map((_, t) => ({ id: ids?.[t] ?? t, text: `t${t}` })), start, residualSum, residualNormSum, top: { k, indices, values }, complete: true };
}

describe('prompt lists and files', () => {
  it('reads one prompt a line, exactly as written, skipping blank lines; \\n in a line is a line break', () => {
    expect(parsePromptLines(' a b \n\n \r\nc\n')).toEqual([' a b ', 'c']);
    const text = ' one\n\ntwo\tc:\\n "x\\y"';
    expect(escapeLine(text)).not.toMatch(/\n/);
    expect(parsePromptLines(`${escapeLine(text)}\nsecond`)).toEqual([text, 'second']);
    expect(parsePromptFile('p.txt', utf8('x\ny\n'))).toEqual(['x', 'y']);
    expect(parsePromptFile('p.json', utf8('["one\\ntwo", "", "three"]'))).toEqual(['one\ntwo', 'three']);
  });
  it('refuses empty, binary, oversized files and over-long lines with a LabInputError that says why', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(LabInputError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err(() => parsePromptFile('e.txt', utf8(' \n\n')))).toMatch(/"e\.txt" is empty/);
    expect(err(() => parsePromptFile('b.txt', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe, 0x00])))).toMatch(/not UTF-8 text|binary/);
    expect(err(() => parsePromptFile('z.txt', new Uint8Array([0x61, 0x00, 0x62])))).toMatch(/NUL bytes/);
    expect(err(() => parsePromptFile('big.txt', new Uint8Array(0), 10_000_000))).toMatch(/10\.0 MB; prompt files may be at most 2\.0 MB/);
    const long = 'word '.repeat(5000);
    expect(err(() => parsePromptFile('l.txt', utf8(`ok\n${long}\n`)))).toMatch(/Line 2 of "l\.txt" is 25,000 characters long; a prompt may have at most 4,000/);
    expect(err(() => parsePromptFile('j.json', utf8('{"a": 1}')))).toMatch(/JSON array of strings/);
    expect(err(() => parsePromptLines('x\n'.repeat(PROMPT_LIMITS.prompts + 1)))).toMatch(/2,001 prompts/);
  });
});

describe('model diff ranking', () => {
  // Two prompts, 3 latents. Model A and B activations per token.
  const A = [stats([[1, 0, 0], [0, 2, 0]], undefined, [5, 6]), stats([[0, 0, 3]], undefined, [7])];
  const B = [stats([[1.5, 0, 0], [0, 0, 1]], undefined, [5, 6]), stats([[0, 4, 3]], undefined, [7])];

  it('sums sparse rows into per-latent totals', () => {
    const t = latentTotals(A, 3);
    expect(t.tokens).toBe(3);
    expect(Array.from(t.sum)).toEqual([1, 2, 3]);
    expect(Array.from(t.fired)).toEqual([1, 1, 1]);
  });

  it('computes mean, frequency and single-token changes over every token', () => {
    const d = new Map(diffLatents(A, B, 3).map((x) => [x.latent, x]));
    // latent 0: A 1/3, B 1.5/3; latent 1: A 2/3, B 4/3; latent 2: A 3/3, B 4/3
    expect(d.get(0)!.meanDelta).toBeCloseTo(0.5 / 3, 12);
    expect(d.get(1)!.meanDelta).toBeCloseTo(2 / 3, 12);
    expect(d.get(2)!.meanDelta).toBeCloseTo(1 / 3, 12);
    expect(d.get(1)!.freqDelta).toBeCloseTo(0, 12); // fired once in each model
    expect(d.get(2)!.freqDelta).toBeCloseTo(1 / 3, 12);
    // latent 1: -2 at (prompt 0, token 1), +4 at (prompt 1, token 0) -> +4
    expect(d.get(1)!.maxDelta).toBe(4);
    expect(d.get(1)!.maxAt).toEqual({ prompt: 1, token: 0 });
    expect(d.get(2)!.maxDelta).toBe(1);
    expect(rankDiffs([...d.values()], 'mean').map((x) => x.latent)).toEqual([1, 2, 0]);
    expect(rankDiffs([...d.values()], 'frequency', 'increase').map((x) => x.latent)).toEqual([2, 0, 1]);
    expect(rankDiffs([...d.values()], 'max', 'decrease', 1).map((x) => x.latent)).toEqual([0]);
  });

  it('refuses prompts the two models tokenised differently', () => {
    expect(() => diffLatents(A, [B[0], stats([[0, 4, 3]], undefined, [8])], 3)).toThrow(LabTokenMismatchError);
  });
});

describe('persona vector', () => {
  it('is the pooled mean residual of one list minus the other, first tokens skipped', () => {
    // dIn 2, dSae 2; the first token of each text is skipped (its residual 100 must not count).
    const pos = [stats([[1, 0], [2, 0], [0, 0]], [[100, 100], [1, 0], [3, 0]], undefined, true)];
    const neg = [stats([[0, 0], [0, 1]], [[100, 100], [0, 2]], undefined, true), stats([[0, 0], [0, 3]], [[-50, 0], [0, 4]], undefined, true)];
    const wDec = new Float32Array([1, 0, 0, 1]);
    const v = personaVector(pos, neg, 2, 2, wDec);
    expect(Array.from(v.vector)).toEqual([2, -3]); // mean(in) = (2, 0), mean(not) = (0, 3)
    expect(v.norm).toBeCloseTo(Math.sqrt(13), 6);
    expect(v.typicalNorm).toBeCloseTo((1 + 3 + 2 + 4) / 4, 12);
    expect(v.tokens).toEqual({ positive: 2, negative: 2 });
    expect(v.byCosine[0]).toEqual({ latent: 1, cosine: expect.closeTo(-3 / Math.sqrt(13), 6) });
    // latent means over counted tokens: in (2+0)/2 = 1 for latent 0; not (1+3)/2 = 2 for latent 1
    expect(v.byActivation.map((a) => [a.latent, a.delta])).toEqual([
      [1, -2],
      [0, 1],
    ]);
    expect(v.strength.recommended).toBeCloseTo(Math.round((0.5 * 2.5 * 100) / Math.sqrt(13)) / 100, 12);
    expect(cosine([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('refuses a list without tokens to average', () => {
    expect(() => personaVector([stats([[0]], [[1]], undefined, true)], [stats([[0], [0]], [[1], [1]], undefined, true)], 1, 1, null)).toThrow(LabInputError);
  });
});

describe('audit', () => {
  const analysis = {
    tokens: ['A', ' b', ' c'].map((text, id) => ({ id, text })),
    monitor: { p: new Float32Array([0.5, 2, 1]), q: new Float32Array([-1, -3, -0.5]) },
  } as unknown as Analysis;

  it('takes each persona peak and where it peaked, and flags peaks at or over the threshold', () => {
    const row = auditRow('A b c', analysis, ['p', 'q', 'missing'], 2);
    expect(row.peaks.p).toEqual({ value: 2, token: 1, text: ' b' });
    expect(row.peaks.q).toEqual({ value: -0.5, token: 2, text: ' c' });
    expect(row.flagged).toEqual(['p']);
    expect(row.readings.p).toEqual([0.5, 2, 1]);
    expect(Object.keys(row.peaks)).toEqual(['p', 'q']);
  });

  it('bins signed values between their min and max', () => {
    expect(signedHistogram([-1, 0, 1, 1], 2)).toEqual({ edges: [-1, 0, 1], counts: [1, 3] });
  });
});

describe('model pairs and widths', () => {
  const files: Record<string, unknown> = {
    'http://x/m/config.json': { n_embd: 256 },
    'http://x/w/config.json': { hidden_size: 64 },
    'http://x/m/sae/s/cfg.json': { d_in: 256, architecture: 'topk', k: 32 },
  };
  const fetcher = (async (url: string | URL) => {
    const body = files[String(url)];
    return body ? new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } }) : new Response('<html>', { status: 404, headers: { 'content-type': 'text/html' } });
  }) as typeof fetch;

  it('offers fp32 against q4 of a folder without variants.json, and reads the TopK SAE k', async () => {
    const [pair] = await modelPairs('http://x/m/', 'http://x/m/sae/s/', 'M', fetcher);
    expect([pair.a.onnxFile, pair.b.onnxFile]).toEqual(['onnx/model.onnx', 'onnx/model_q4.onnx']);
    expect(await checkPair(pair, fetcher)).toEqual({ dModel: 256, saeK: 32 });
  });

  it('reads variants.json pairs: base against every other variant, folders relative to the file', async () => {
    files['http://x/m/variants.json'] = {
      sae: 'sae/s/',
      neutral_prompts: ['p1', 'p2'],
      variants: [
        { id: 'base', role: 'base', step: 0, folder: './' },
        { id: 'ft', role: 'narrow fine-tune', step: 400, folder: '../ft/', description: 'Cynic entries' },
      ],
    };
    const pairs = await modelPairs('http://x/m/', 'http://x/other/', 'M', fetcher);
    delete files['http://x/m/variants.json'];
    expect(pairs).toHaveLength(1);
    expect(pairs[0].a.folder).toBe('http://x/m/');
    expect(pairs[0].b.folder).toBe('http://x/ft/');
    expect(pairs[0].sae).toBe('http://x/m/sae/s/');
    expect(pairs[0].prompts).toEqual(['p1', 'p2']);
  });

  it('refuses two models of different widths before loading anything', async () => {
    const pair = { id: 'x', label: 'x', a: { label: 'M', folder: 'http://x/m/' }, b: { label: 'W', folder: 'http://x/w/' }, sae: 'http://x/m/sae/s/' };
    await expect(checkPair(pair, fetcher)).rejects.toThrow(LabWidthMismatchError);
    await expect(checkPair(pair, fetcher)).rejects.toThrow('M has residual width 256 and W has 64');
  });
});

describe('exports and the URL fragment', () => {
  it('writes RFC 4180 CSV', () => {
    expect(toCsv(['a', 'b'], [['x,y', 1.5], ['say "hi"', 2]])).toBe('a,b\r\n"x,y",1.5\r\n"say ""hi""",2\r\n');
  });
  it('round-trips the lab view and ignores bad values', () => {
    const v = { tab: 'diff' as const, pair: 'fp32~q4', metric: 'max' as const, order: 'increase' as const, threshold: 1.5, seeds: null, prompts: null };
    expect(encodeLabView(v)).toBe('lab=diff&lp=fp32~q4&lm=max&lo=increase&at=1.5');
    expect(decodeLabView(`#${encodeLabView(v)}`)).toEqual(v);
    expect(decodeLabView('#lab=nope&lm=x&at=abc')).toEqual({ tab: null, pair: null, metric: 'mean', order: 'abs', threshold: 1, seeds: null, prompts: null });
  });
  it('keeps the timeline tab and its choices (seeds, prompt count); bad choices fall back to the manifest\'s', () => {
    const v = { ...decodeLabView(''), tab: 'timeline' as const, seeds: [5, 6], prompts: 12 };
    expect(encodeLabView(v)).toBe('lab=timeline&ts=5,6&tp=12');
    expect(decodeLabView(`#${encodeLabView(v)}`)).toEqual(v);
    expect(decodeLabView('#lab=timeline&ts=5,x&tp=0')).toMatchObject({ tab: 'timeline', seeds: null, prompts: null });
  });
});
