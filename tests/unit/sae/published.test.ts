// Published SAE layouts as their publishers write them (file names, keys, dtypes), each pushed through the real
// folder-reading path (detect the layout from the config file, read the weights, load), and the encodings compared
// with a plain re-statement of that library's own rule written here, independent of src/lib/sae/reference.ts.
import { describe, expect, it } from 'vitest';
import { readSaeFolder } from '../../../src/lib/sae/remote';
import { saeReference, SaeFormatError, UnsupportedSaeKindError, type SaeWeights } from '../../../src/lib/sae';
import {
  gemmaScope2Params,
  gemmaScopeNpz,
  memoryFolder,
  randomArray,
  randomSae,
  rng,
  saeLensWeights,
} from './fixtures';

const dIn = 8;
const dSae = 256;
const tokens = 6;
const x = randomArray(tokens * dIn, rng(21), 3);

/** SAELens's forward encode (sae_lens/saes/*_sae.py encode + process_sae_in), restated in float64. */
function saeLensRule(
  w: Pick<SaeWeights, 'wEnc' | 'bEnc' | 'bDec' | 'threshold'>,
  input: Float32Array,
  o: { applyBDec: boolean; activation: 'relu' | 'topk' | 'jumprelu'; k?: number; centre?: boolean },
): Float64Array {
  const out = new Float64Array(tokens * dSae);
  for (let t = 0; t < tokens; t++) {
    const row = Array.from(input.subarray(t * dIn, (t + 1) * dIn));
    const mean = o.centre ? row.reduce((a, b) => a + b, 0) / dIn : 0;
    const xin = row.map((v, i) => v - mean - (o.applyBDec ? w.bDec[i] : 0));
    const pre = Array.from({ length: dSae }, (_, j) => xin.reduce((acc, v, i) => acc + v * w.wEnc[i * dSae + j], 0) + w.bEnc[j]);
    let act = pre.map((v) => Math.max(v, 0));
    if (o.activation === 'jumprelu') act = pre.map((v, j) => (v > w.threshold![j] ? Math.max(v, 0) : 0));
    if (o.activation === 'topk') {
      const keep = new Set([...pre.keys()].sort((a, b) => pre[b] - pre[a] || a - b).slice(0, o.k));
      act = pre.map((v, j) => (keep.has(j) ? Math.max(v, 0) : 0));
    }
    out.set(act, t * dSae);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function l0(acts: Float32Array, t: number): number {
  return acts.subarray(t * dSae, (t + 1) * dSae).filter((v) => v !== 0).length;
}

/** A random SAE with b_dec of ±0.5, as in the failing case of the issue. */
function sae(architecture: 'standard' | 'topk' | 'jumprelu', seed = 3): SaeWeights {
  const s = randomSae({ dIn, dSae, architecture, k: 4, seed });
  s.bDec = randomArray(dIn, rng(seed + 100), 0.5);
  return s;
}

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const GPT2_RES_JB = 'http://127.0.0.1:9/jbloom/GPT2-Small-SAEs-Reformatted/resolve/main/blocks.8.hook_resid_pre/';

/** gpt2-small-res-jb's cfg.json shape (pre-6.0: hook_point, no apply_b_dec_to_input, training keys), at d_in 8. */
const oldCfg = {
  model_name: 'gpt2-small',
  hook_point: 'blocks.8.hook_resid_pre',
  hook_point_layer: 8,
  hook_point_head_index: null,
  d_in: 8,
  dtype: 'torch.float32',
  device: 'mps',
  b_dec_init_method: 'geometric_median',
  expansion_factor: 32,
  l1_coefficient: 8e-5,
  d_sae: 256,
};

describe('old SAELens configs (issue 10 items 1, 2, 4)', () => {
  it('a pre-6.0 hook_point config with expansion_factor is SAELens, reads resid_pre of block 8 as the residual after block 7, and subtracts b_dec', async () => {
    const s = sae('standard');
    const loaded = await readSaeFolder(memoryFolder('models/x/sae/blocks.8.hook_resid_pre/', { 'cfg.json': oldCfg, 'sae_weights.safetensors': saeLensWeights(s) }));
    expect(loaded.config).toMatchObject({ format: 'saelens', architecture: 'standard', layer: 7, hookName: 'blocks.8.hook_resid_pre', applyBDecToInput: true, prependBos: true, centerResidual: false });
    const ours = saeReference.encode(loaded, x, tokens);
    expect(maxAbsDiff(ours, saeLensRule(s, x, { applyBDec: true, activation: 'relu' }))).toBeLessThan(1e-5);
    // The value the issue measured: without the b_dec subtraction the encodings move by far more than rounding.
    expect(maxAbsDiff(ours, saeLensRule(s, x, { applyBDec: false, activation: 'relu' }))).toBeGreaterThan(0.05);
  });

  it('a SAELens-3 config (hook_name, hook_layer, architecture, expansion_factor, activation_fn) is SAELens', async () => {
    const s = sae('standard', 5);
    const cfg = { d_in: dIn, d_sae: dSae, hook_name: 'blocks.1.hook_resid_post', hook_layer: 1, architecture: 'standard', expansion_factor: 32, activation_fn: 'relu', dtype: 'float32', model_name: 'x', prepend_bos: false };
    const loaded = await readSaeFolder(memoryFolder('sae/blocks.1.hook_resid_post/', { 'cfg.json': cfg, 'sae_weights.safetensors': saeLensWeights(s) }));
    expect(loaded.config).toMatchObject({ format: 'saelens', layer: 1, applyBDecToInput: true, prependBos: false });
    expect(maxAbsDiff(saeReference.encode(loaded, x, tokens), saeLensRule(s, x, { applyBDec: true, activation: 'relu' }))).toBeLessThan(1e-5);
  });

  it('activation_fn "topk" with activation_fn_kwargs.k is TopK with L0 <= k, not ReLU', async () => {
    const s = sae('standard', 7);
    const cfg = { ...oldCfg, hook_point: 'blocks.1.hook_resid_post', architecture: 'standard', activation_fn: 'topk', activation_fn_kwargs: { k: 4 } };
    const loaded = await readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': cfg, 'sae_weights.safetensors': saeLensWeights(s) }));
    expect(loaded.config).toMatchObject({ architecture: 'topk', k: 4 });
    const acts = saeReference.encode(loaded, x, tokens);
    for (let t = 0; t < tokens; t++) expect(l0(acts, t)).toBeLessThanOrEqual(4);
    expect(maxAbsDiff(acts, saeLensRule(s, x, { applyBDec: true, activation: 'topk', k: 4 }))).toBeLessThan(1e-5);
    // The same weights as ReLU fire on many more latents: what loading it as "standard" used to give.
    const relu = saeLensRule(s, x, { applyBDec: true, activation: 'relu' });
    expect(relu.subarray(0, dSae).filter((v) => v !== 0).length).toBeGreaterThan(20);
    // activation_fn_str (the older spelling) is migrated the same way.
    const str = await readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': { ...oldCfg, activation_fn_str: 'topk', activation_fn_kwargs: { k: 4 } }, 'sae_weights.safetensors': saeLensWeights(s) }));
    expect(str.config).toMatchObject({ architecture: 'topk', k: 4 });
    const noK = await caught(readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': { ...oldCfg, activation_fn: 'topk' }, 'sae_weights.safetensors': saeLensWeights(s) })));
    expect(noK).toBeInstanceOf(SaeFormatError);
    expect(noK.message).toMatch(/activation_fn is "topk".*expected .*activation_fn_kwargs.*k/);
  });

  it('boolean normalize_activations maps to expected_average_only_in / none', async () => {
    const s = sae('standard');
    const load = (v: unknown) => readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': { ...oldCfg, normalize_activations: v }, 'sae_weights.safetensors': saeLensWeights(s) }));
    expect((await load(false)).config).toMatchObject({ normalizeActivations: 'none', warnings: [] });
    const on = await load(true);
    expect(on.config.warnings!.join(' ')).toMatch(/Norm scaling factor not saved.*expected_average_only_in/);
  });

  it('gpt2-small-res-jb on its hub repository is centred (SAELens release registry); an explicit center_writing_weights: false is not', async () => {
    const s = sae('standard');
    const files = { 'cfg.json': oldCfg, 'sae_weights.safetensors': saeLensWeights(s) };
    const hub = await readSaeFolder(memoryFolder(GPT2_RES_JB, files));
    expect(hub.config.centerResidual).toBe(true);
    expect(hub.config.notes!.join(' ')).toMatch(/pretrained_saes\.yaml.*gpt2-small-res-jb.*center_writing_weights/);
    expect(maxAbsDiff(saeReference.encode(hub, x, tokens), saeLensRule(s, x, { applyBDec: true, activation: 'relu', centre: true }))).toBeLessThan(1e-5);
    const explicit = await readSaeFolder(
      memoryFolder(GPT2_RES_JB, { ...files, 'cfg.json': { ...oldCfg, model_from_pretrained_kwargs: { center_writing_weights: false } } }),
    );
    expect(explicit.config.centerResidual).toBe(false);
    // The same files anywhere else: the registry does not apply.
    expect((await readSaeFolder(memoryFolder('http://127.0.0.1:9/someone/copy/resolve/main/blocks.8.hook_resid_pre/', files))).config.centerResidual).toBe(false);
  });
});

describe('scaling factors (issue 10 item 3)', () => {
  const v6 = (extra: Record<string, unknown>) => ({
    architecture: 'standard',
    d_in: dIn,
    d_sae: dSae,
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    metadata: { hook_name: 'blocks.1.hook_resid_post', sae_lens_version: '6.5.1', prepend_bos: true },
    ...extra,
  });

  it('expected_average_only_in with no saved factor warns; with activation_scaler.json it is folded as SAELens folds it', async () => {
    const s = sae('jumprelu', 9);
    const weights = saeLensWeights(s);
    const noFactor = await readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': v6({ architecture: 'jumprelu', normalize_activations: 'expected_average_only_in' }), 'sae_weights.safetensors': weights }));
    expect(noFactor.config.warnings).toHaveLength(1);
    expect(noFactor.config.warnings![0]).toMatch(/^Norm scaling factor not saved/);
    const scaled = await readSaeFolder(
      memoryFolder('sae/a/', {
        'cfg.json': v6({ architecture: 'jumprelu', normalize_activations: 'expected_average_only_in' }),
        'sae_weights.safetensors': weights,
        'activation_scaler.json': { scaling_factor: 0.25 },
      }),
    );
    expect(scaled.config).toMatchObject({ normalizeActivations: 'none', warnings: [] });
    const quarter = x.map((v) => v * 0.25);
    expect(maxAbsDiff(saeReference.encode(scaled, x, tokens), saeLensRule(s, quarter, { applyBDec: true, activation: 'jumprelu' }))).toBeLessThan(1e-5);
    // Decoding returns to the raw residual's scale: (a·W_dec + b_dec) / 0.25.
    const acts = saeReference.encode(scaled, x, tokens);
    const raw = saeReference.decode(s, acts, tokens).map((v) => v / 0.25);
    expect(maxAbsDiff(saeReference.decode(scaled, acts, tokens), raw)).toBeLessThan(1e-4);
  });

  it('a per-latent scaling_factor with finetuning_scaling_factor multiplies activations before W_dec; without the flag it is refused', async () => {
    const s = sae('standard', 11);
    const scale = randomArray(dSae, rng(12), 1).map((v) => 1.5 + v);
    const weights = saeLensWeights(s, { scaling_factor: { shape: [dSae], data: scale } });
    const loaded = await readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': v6({ finetuning_scaling_factor: true }), 'sae_weights.safetensors': weights }));
    const acts = saeReference.encode(loaded, x, tokens);
    // SAELens 5.x SAE.decode: apply_finetuning_scaling_factor(a) @ W_dec + b_dec.
    const expected = saeReference.decode(s, acts.map((v, i) => v * scale[i % dSae]), tokens);
    expect(maxAbsDiff(saeReference.decode(loaded, acts, tokens), expected)).toBeLessThan(1e-5);
    const steer = saeReference.composeSteering(loaded, [{ latent: 7, coefficient: 2 }], []);
    for (let i = 0; i < dIn; i++) expect(steer[i]).toBeCloseTo(2 * scale[7] * s.wDec[7 * dIn + i], 5);
    const refused = await caught(readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': v6({ finetuning_scaling_factor: false }), 'sae_weights.safetensors': weights })));
    expect(refused).toBeInstanceOf(SaeFormatError);
    expect(refused.message).toMatch(/"scaling_factor" vector that is not all ones.*finetuning_scaling_factor = false: expected true/);
    // finetuning_scaling_factor without the tensor decodes unscaled (SAELens sets the flag to false).
    const flagOnly = await readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': v6({ finetuning_scaling_factor: true }), 'sae_weights.safetensors': saeLensWeights(s) }));
    expect(Array.from(flagOnly.wDec)).toEqual(Array.from(s.wDec));
    // An all-ones vector is dropped, as SAELens drops it.
    const ones = saeLensWeights(s, { scaling_factor: { shape: [dSae], data: new Float32Array(dSae).fill(1) } });
    const plain = await readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': v6({}), 'sae_weights.safetensors': ones }));
    expect(Array.from(plain.wDec)).toEqual(Array.from(s.wDec));
  });
});

describe('SAE kinds (issue 10 item 6)', () => {
  it('Gemma Scope 2 resid_post loads at its layer; mlp_out, attn_out, transcoders and embeddings are refused by name', async () => {
    const s = sae('jumprelu', 13);
    const params = gemmaScope2Params(s);
    const config = (hook: string, type = 'sae', extra: Record<string, unknown> = {}) => ({
      hf_hook_point_in: hook,
      hf_hook_point_out: hook,
      width: dSae,
      model_name: 'google/gemma-3-270m-pt',
      architecture: 'jump_relu',
      l0: 20,
      affine_connection: false,
      type,
      ...extra,
    });
    const resid = await readSaeFolder(memoryFolder('hub/google/gemma-scope-2-270m-pt/resolve/main/resid_post/layer_1_width_16k_l0_small/', { 'config.json': config('model.layers.1.output'), 'params.safetensors': params }));
    expect(resid.config).toMatchObject({ format: 'gemma-scope', architecture: 'jumprelu', layer: 1, applyBDecToInput: false, prependBos: true, hookName: 'blocks.1.hook_resid_post' });
    expect(maxAbsDiff(saeReference.encode(resid, x, tokens), saeLensRule(s, x, { applyBDec: false, activation: 'jumprelu' }))).toBeLessThan(1e-5);

    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['mlp_out/layer_1_width_16k_l0_small/', config('model.layers.1.post_feedforward_layernorm.output'), /reads the MLP output \(model\.layers\.1\.post_feedforward_layernorm\.output\)/],
      ['attn_out/layer_1_width_16k_l0_small/', config('model.layers.1.self_attn.o_proj.input'), /reads the attention output \(model\.layers\.1\.self_attn\.o_proj\.input\)/],
      [
        'transcoder_all/layer_1_width_16k_l0_small_affine/',
        config('model.layers.1.pre_feedforward_layernorm.output', 'transcoder', { hf_hook_point_out: 'model.layers.1.post_feedforward_layernorm.output' }),
        /transcoder.*type "transcoder"/,
      ],
    ];
    for (const [folder, cfg, message] of cases) {
      const e = await caught(readSaeFolder(memoryFolder(`hub/google/gemma-scope-2-270m-pt/resolve/main/${folder}`, { 'config.json': cfg, 'params.safetensors': params })));
      expect(e).toBeInstanceOf(UnsupportedSaeKindError);
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/expected a residual-stream SAE/);
    }
  });

  it('Gemma Scope 1 params.npz is read in the page (stored and deflated zips); the repository name gives the kind', async () => {
    const s = sae('jumprelu', 17);
    for (const compressed of [false, true]) {
      const loaded = await readSaeFolder(memoryFolder('hub/google/gemma-scope-2b-pt-res/resolve/main/layer_3/width_16k/average_l0_20/', { 'params.npz': gemmaScopeNpz(s, compressed) }));
      expect(loaded.config).toMatchObject({ format: 'gemma-scope', layer: 3, dIn, dSae, applyBDecToInput: false });
      expect(maxAbsDiff(saeReference.encode(loaded, x, tokens), saeLensRule(s, x, { applyBDec: false, activation: 'jumprelu' }))).toBeLessThan(1e-5);
    }
    const npz = gemmaScopeNpz(s);
    const mlp = await caught(readSaeFolder(memoryFolder('hub/google/gemma-scope-2b-pt-mlp/resolve/main/layer_3/width_16k/average_l0_20/', { 'params.npz': npz })));
    expect(mlp).toBeInstanceOf(UnsupportedSaeKindError);
    expect(mlp.message).toMatch(/MLP output \(blocks\.3\.hook_mlp_out\)/);
    const att = await caught(readSaeFolder(memoryFolder('hub/google/gemma-scope-2b-pt-att/resolve/main/layer_3/width_16k/average_l0_20/', { 'params.npz': npz })));
    expect(att.message).toMatch(/attention output/);
    const embedding = await caught(readSaeFolder(memoryFolder('hub/google/gemma-scope-2b-pt-res/resolve/main/embedding/width_4k/average_l0_6/', { 'params.npz': npz })));
    expect(embedding.message).toMatch(/token embeddings \(hook_embed\)/);
    // Kind words count only where publishers put them: a model folder named "my-mlp-model" holds a residual SAE.
    const local = await readSaeFolder(memoryFolder('http://127.0.0.1:9/models/my-mlp-model/sae/layer_3/', { 'params.npz': npz }));
    expect(local.config).toMatchObject({ layer: 3, hookName: 'blocks.3.hook_resid_post' });
    const broken = await caught(readSaeFolder(memoryFolder('sae/layer_3/', { 'params.npz': npz.subarray(0, 100) })));
    expect(broken.message).toMatch(/params\.npz is not a readable zip archive/);
  });

  it('SAELens and sparsify SAEs on other sites are refused, naming the kind', async () => {
    const s = sae('standard');
    const mlp = await caught(readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': { ...oldCfg, hook_point: 'blocks.3.hook_mlp_out' }, 'sae_weights.safetensors': saeLensWeights(s) })));
    expect(mlp).toBeInstanceOf(UnsupportedSaeKindError);
    expect(mlp.message).toMatch(/MLP output \(blocks\.3\.hook_mlp_out\)/);
    const z = await caught(readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': { ...oldCfg, hook_point: 'blocks.3.attn.hook_z' }, 'sae_weights.safetensors': saeLensWeights(s) })));
    expect(z.message).toMatch(/attention output \(blocks\.3\.attn\.hook_z\)/);
    const mid = await caught(readSaeFolder(memoryFolder('sae/a/', { 'cfg.json': { ...oldCfg, hook_point: 'blocks.3.hook_resid_mid' }, 'sae_weights.safetensors': saeLensWeights(s) })));
    expect(mid.message).toMatch(/residual stream between attention and MLP/);
    const sparsifyCfg = { expansion_factor: 32, normalize_decoder: true, num_latents: dSae, k: 4, multi_topk: false, skip_connection: false, transcode: false };
    const { writeSafetensors } = await import('../../../src/lib/sae/safetensors');
    const sparsifyWeights = writeSafetensors({
      'encoder.weight': { dtype: 'F32', shape: [dSae, dIn], data: new Float32Array(dSae * dIn) },
      'encoder.bias': { dtype: 'F32', shape: [dSae], data: new Float32Array(dSae) },
      W_dec: { dtype: 'F32', shape: [dSae, dIn], data: new Float32Array(dSae * dIn) },
      b_dec: { dtype: 'F32', shape: [dIn], data: new Float32Array(dIn) },
    });
    const sparsifyMlp = await caught(readSaeFolder(memoryFolder('sae/layers.3.mlp/', { 'cfg.json': sparsifyCfg, 'sae.safetensors': sparsifyWeights })));
    expect(sparsifyMlp.message).toMatch(/MLP output \(layers\.3\.mlp\)/);
    const transcoder = await caught(readSaeFolder(memoryFolder('sae/layers.3.mlp/', { 'cfg.json': { ...sparsifyCfg, transcode: true }, 'sae.safetensors': sparsifyWeights })));
    expect(transcoder.message).toMatch(/transcoder/);
    const residual = await readSaeFolder(memoryFolder('sae/layers.3/', { 'cfg.json': sparsifyCfg, 'sae.safetensors': sparsifyWeights }));
    expect(residual.config).toMatchObject({ format: 'sparsify', layer: 3, k: 4 });
  });
});
