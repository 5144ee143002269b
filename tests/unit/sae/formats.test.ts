import { describe, expect, it } from 'vitest';
import {
  checkSaeFitsModel,
  layerFromHookName,
  loadSae,
  SaeFormatError,
  SaeModelMismatchError,
  SaeNonFiniteError,
  saeReference,
  UnknownArchitectureError,
  writeSafetensors,
} from '../../../src/lib/sae';
import { gemmaScopeFiles, randomArray, randomSae, rng, saeLensLegacyFiles, saeLensV6Files, sparsifyFiles } from './fixtures';

const dIn = 13;
const dSae = 37;

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / (scale || 1);
}

describe('SAE format loaders', () => {
  const x = randomArray(5 * dIn, rng(9), 2);

  it('SAELens v6 and pre-6.0 TopK load to the same encodings', () => {
    const sae = randomSae({ dIn, dSae, architecture: 'topk', k: 5 });
    const v6 = loadSae(saeLensV6Files(sae));
    const legacy = loadSae(saeLensLegacyFiles(sae));
    const sparsify = loadSae(sparsifyFiles(sae));
    expect(v6.config).toMatchObject({ architecture: 'topk', k: 5, dIn, dSae, layer: 1, hookName: 'blocks.1.hook_resid_post' });
    expect(legacy.config).toMatchObject({ architecture: 'topk', k: 5 });
    expect(sparsify.config).toMatchObject({ architecture: 'topk', k: 5, applyBDecToInput: true, format: 'sparsify' });
    const ref = saeReference.encode(sae, x, 5);
    for (const loaded of [v6, legacy, sparsify]) expect(Array.from(saeReference.encode(loaded, x, 5))).toEqual(Array.from(ref));
    const nonzero = ref.subarray(0, dSae).filter((v) => v !== 0).length;
    expect(nonzero).toBeLessThanOrEqual(5);
  });

  it('Gemma Scope and SAELens JumpReLU give identical encodings', () => {
    const sae = randomSae({ dIn, dSae, architecture: 'jumprelu', applyBDecToInput: false });
    const gemma = loadSae(gemmaScopeFiles(sae));
    const lens = loadSae(saeLensV6Files(sae));
    expect(gemma.config).toMatchObject({ architecture: 'jumprelu', applyBDecToInput: false, layer: 1 });
    const a = saeReference.encode(gemma, x, 5);
    expect(Array.from(saeReference.encode(lens, x, 5))).toEqual(Array.from(a));
    const pre = saeReference.preActivations(sae, x, 5);
    for (let j = 0; j < 5 * dSae; j++) expect(a[j]).toBe(pre[j] > sae.threshold![j % dSae] && pre[j] > 0 ? pre[j] : 0);
  });

  it('F16 and BF16 SAELens weights load close to the F32 ones and record the dtype', () => {
    const sae = randomSae({ dIn, dSae, architecture: 'standard' });
    const f16 = loadSae(saeLensV6Files(sae, 'F16'));
    const bf16 = loadSae(saeLensV6Files(sae, 'BF16'));
    expect(f16.config.weightDtype).toBe('F16');
    expect(maxRelDiff(f16.wEnc, sae.wEnc)).toBeLessThan(1e-3);
    expect(maxRelDiff(bf16.wEnc, sae.wEnc)).toBeLessThan(1e-2);
  });

  it('applies normalisation and mean centring', () => {
    const sae = randomSae({ dIn, dSae, architecture: 'standard' });
    const cfgOf = (extra: Record<string, unknown>) => {
      const files = saeLensV6Files(sae);
      return loadSae({ ...files, cfg: { ...files.cfg, ...extra } }).config;
    };
    const rescale = saeReference.preprocess(cfgOf({ normalize_activations: 'constant_norm_rescale' }), x, 1);
    expect(Math.hypot(...rescale)).toBeCloseTo(Math.sqrt(dIn), 4);
    const ln = saeReference.preprocess(cfgOf({ normalize_activations: 'layer_norm' }), x, 1);
    expect(ln.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 4);
    // expected_average_only_in with a saved factor is folded into the weights as SAELens does
    // (fold_activation_norm_scaling_factor): encoding x equals encoding 0.5·x with the unfolded weights.
    const files = saeLensV6Files(sae);
    const folded = loadSae({ ...files, cfg: { ...files.cfg, normalize_activations: 'expected_average_only_in', scaling_factor: 0.5 } });
    expect(folded.config.normalizeActivations).toBe('none');
    const half = x.map((v) => v * 0.5);
    expect(maxRelDiff(saeReference.encode(folded, x, 5), saeReference.encode(sae, half, 5))).toBeLessThan(1e-5);
    expect(cfgOf({ model_from_pretrained_kwargs: { center_writing_weights: true } }).centerResidual).toBe(true);
    expect(cfgOf({ metadata: { hook_name: 'blocks.1.hook_resid_post', model_from_pretrained_kwargs: { center_writing_weights: true } } }).centerResidual).toBe(true);
    expect(cfgOf({}).centerResidual).toBe(false);
    const centred = saeReference.preprocess(cfgOf({ center_residual: true }), x, 1);
    expect(centred.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 4);
  });

  it('maps hook names to layers', () => {
    expect(layerFromHookName('blocks.3.hook_resid_post')).toBe(3);
    expect(layerFromHookName('blocks.3.hook_resid_pre')).toBe(2);
    expect(() => layerFromHookName('blocks.3.hook_mlp_out')).toThrow(SaeFormatError);
  });

  it('reports bad inputs as typed errors', () => {
    const sae = randomSae({ dIn, dSae, architecture: 'standard' });
    const files = saeLensV6Files(sae);
    expect(() => loadSae({ ...files, cfg: { ...files.cfg, architecture: 'gated' } })).toThrow(UnknownArchitectureError);
    expect(() => loadSae({ ...files, cfg: { ...files.cfg, architecture: 'gated' } })).toThrow(/"gated".*standard, jumprelu, topk/);
    expect(() => loadSae({ ...files, cfg: { ...files.cfg, d_sae: dSae + 1 } })).toThrow(/shape \[13,38\], found \[13,37\]/);
    expect(() => loadSae({ ...files, cfg: { ...files.cfg, metadata: {} } })).toThrow(/names no hook/);
    expect(() => loadSae({ ...files, cfg: { ...files.cfg, architecture: 'topk' } })).toThrow(/positive integer "k"/);

    const bad = new Float32Array(sae.wDec);
    bad[2 * dIn + 4] = NaN;
    const nan = writeSafetensors({
      W_enc: { dtype: 'F32', shape: [dIn, dSae], data: sae.wEnc },
      W_dec: { dtype: 'F32', shape: [dSae, dIn], data: bad },
      b_enc: { dtype: 'F32', shape: [dSae], data: sae.bEnc },
      b_dec: { dtype: 'F32', shape: [dIn], data: sae.bDec },
    });
    let error: unknown;
    try {
      loadSae({ ...files, weights: nan });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SaeNonFiniteError);
    expect((error as SaeNonFiniteError).tensor).toBe('W_dec');
    expect((error as SaeNonFiniteError).index).toBe(2 * dIn + 4);

    const missing = writeSafetensors({ W_enc: { dtype: 'F32', shape: [dIn, dSae], data: sae.wEnc } });
    expect(() => loadSae({ ...files, weights: missing })).toThrow(/expected tensor "W_dec"/);
  });

  it('checks the SAE against the model', () => {
    const sae = loadSae(saeLensV6Files(randomSae({ dIn, dSae, architecture: 'standard' })));
    expect(() => checkSaeFitsModel(sae.config, { nLayer: 4, dModel: dIn })).not.toThrow();
    expect(() => checkSaeFitsModel(sae.config, { nLayer: 4, dModel: 256 })).toThrow(SaeModelMismatchError);
    expect(() => checkSaeFitsModel(sae.config, { nLayer: 4, dModel: 256 })).toThrow(/d_in = 13 .* hidden size 256/);
    expect(() => checkSaeFitsModel(sae.config, { nLayer: 1, dModel: dIn })).toThrow(/blocks 0\.\.0/);
  });
});

describe('TypeScript reference', () => {
  it('top-k sorts descending with ties to the lower index', () => {
    const v = Float32Array.from([1, 3, 3, -1, 2, 0, 0, 5]);
    const r = saeReference.topK(v, 2, 4, 2);
    expect(Array.from(r.indices)).toEqual([1, 2, 3, 0]);
    expect(Array.from(r.values)).toEqual([3, 3, 5, 2]);
  });

  it('decode reconstructs a latent direction and composes steering', () => {
    const sae = randomSae({ dIn, dSae, architecture: 'standard' });
    const acts = new Float32Array(dSae);
    acts[7] = 2;
    const xHat = saeReference.decode(sae, acts, 1);
    for (let i = 0; i < dIn; i++) expect(xHat[i]).toBeCloseTo(sae.bDec[i] + 2 * sae.wDec[7 * dIn + i], 5);
    expect(saeReference.reconstructionError(xHat, xHat, 1, dIn)[0]).toBe(0);
    const v = randomArray(dIn, rng(3));
    const s = saeReference.composeSteering(sae, [{ latent: 7, coefficient: 2 }, { latent: 0, coefficient: -1 }], [{ vector: v, coefficient: 0.5 }]);
    for (let i = 0; i < dIn; i++) expect(s[i]).toBeCloseTo(2 * sae.wDec[7 * dIn + i] - sae.wDec[i] + 0.5 * v[i], 5);
  });
});
