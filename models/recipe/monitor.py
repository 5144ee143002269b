"""Persona monitor calibration and voice prompts, from held-out sentences of each voice.

The playground reads each persona's monitor on a text (the mean over its tokens of the engine's per-token reading:
vector personas `residual · unit(vector)`, latent personas `Σ c_i·a_i / Σ|c_i|`, as src/lib/engine/saeBackend.ts
computes them). Raw readings of different personas sit on different scales and offsets, so the recipe records,
per persona, its mean reading on sentences of its own voice and on sentences of the other voices; the app draws
`level = (reading − others_mean) / (own_mean − others_mean)`: 0 reads like the other voices, 1 like its own voice.
Calibration sentences come from the first half of each voice's held-out paragraphs; the voice prompts that the
browser tests use (one per voice) from the second half, so the two never overlap.
"""
import os, re
import numpy as np
from common import VOICES, read_json

SENTENCE_WORDS = (8, 30)
CALIBRATION_SENTENCES = 60


def heldout_sentences(cfg, voice_id):
    """(paragraph index, sentence, number of paragraphs) for every sentence of 8-30 words in the voice's held-out
    text (models/.cache/<build>/corpus/<voice>.val.txt, written by corpus.py)."""
    path = os.path.join(cfg['cache'], 'corpus', f'{voice_id}.val.txt')
    paras = [p for p in open(path).read().split('\n\n') if p.strip()]
    out = []
    for pi, p in enumerate(paras):
        for s in re.split(r'(?<=[.!?])\s+(?=[A-Z"])', p.strip()):
            if SENTENCE_WORDS[0] <= len(s.split()) <= SENTENCE_WORDS[1]:
                out.append((pi, s))
    return out, len(paras)


def monitor_readings(residual_fn, encode, sae, personas, text):
    """Mean over the text's tokens of each persona's monitor reading. residual_fn(ids) -> [T, d] float tensor at
    the SAE's hook; sae: dict of float32 torch tensors W_enc, b_enc, b_dec (TopK with k = sae_k)."""
    import torch
    x = residual_fn(encode(text))
    pre = (x - sae['b_dec']) @ sae['W_enc'] + sae['b_enc']
    v, i = pre.topk(sae['k'], dim=-1)
    acts = torch.zeros_like(pre).scatter_(-1, i, torch.relu(v))
    out = {}
    for p in personas:
        if p['default_use'] == 'vector':
            u = torch.tensor(p['vector'])
            out[p['id']] = float((x @ (u / u.norm())).mean())
        else:
            s = sum(abs(l['coefficient']) for l in p['latents']) or 1.0
            out[p['id']] = float((sum(l['coefficient'] * acts[:, l['latent']] for l in p['latents']) / s).mean())
    return out


def calibrate(cfg, residual_fn, encode, sae, personas):
    """Adds `monitor` calibration to each persona (in place) and returns the voice prompts for the browser tests:
    per voice the first eligible sentence of the second half of its held-out paragraphs, with where it came from."""
    by_voice, prompts = {}, []
    fits = lambda s: len(encode(s)) <= cfg['n_ctx']  # the smoke model's context is shorter than some sentences
    for v in VOICES:
        sents, n_paras = heldout_sentences(cfg, v['id'])
        sents = [(pi, s) for pi, s in sents if fits(s)]
        half = n_paras // 2
        first = [s for pi, s in sents if pi < half][:CALIBRATION_SENTENCES]
        by_voice[v['id']] = [monitor_readings(residual_fn, encode, sae, personas, s) for s in first]
        pi, s = next((pi, s) for pi, s in sents if pi >= half)
        prompts.append(dict(voice=v['name'], persona=v['id'], text=s,
                            source=dict(file=f"corpus/{v['id']}.val.txt", split='held-out', paragraph=pi)))
    for p in personas:
        own = [r[p['id']] for r in by_voice.get(p['id'], [])]
        others = [r[p['id']] for vid, rs in by_voice.items() if vid != p['id'] for r in rs]
        if not own or not others:
            continue
        p['monitor'] = dict(own_mean=round(float(np.mean(own)), 4), others_mean=round(float(np.mean(others)), 4),
                            own_sentences=len(own), others_sentences=len(others),
                            text='mean reading over the tokens of held-out sentences (8-30 words) of the persona\'s own '
                                 'voice and of the other voices (first half of each voice\'s held-out paragraphs)')
    # how often a voice's own persona has the highest level on held-out sentences it was not calibrated on
    wins = {}
    for v in VOICES:
        sents, n_paras = heldout_sentences(cfg, v['id'])
        sents = [(pi, s) for pi, s in sents if fits(s)]
        test = [s for pi, s in sents if pi >= n_paras // 2][:CALIBRATION_SENTENCES]
        hit = 0
        for s in test:
            r = monitor_readings(residual_fn, encode, sae, personas, s)
            lv = {p['id']: level(p, r[p['id']]) for p in personas if 'monitor' in p}
            hit += int(max(lv, key=lv.get) == v['id']) if lv else 0
        wins[v['id']] = dict(sentences=len(test), own_persona_highest=round(hit / max(1, len(test)), 3))
    return prompts, wins


def level(persona, reading):
    """The persona bar's level for a raw mean reading (see the module docstring)."""
    m = persona['monitor']
    span = m['own_mean'] - m['others_mean']
    return (reading - m['others_mean']) / span if span else 0.0


def load_model_from_onnx(out, cfg):
    """The recipe's GPT-2 with the weights of the shipped fp32 ONNX file (its initializers carry the PyTorch names),
    for stages that run after the training cache is gone."""
    import onnx, torch
    from onnx import numpy_helper
    from model import GPT2LMHeadModel
    m = onnx.load(os.path.join(out, 'onnx', 'model.onnx'))
    sd = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    model = GPT2LMHeadModel({k: cfg[k] for k in ('vocab_size', 'n_layer', 'n_embd', 'n_head', 'n_ctx')})
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model


def residual_function(model, layer):
    """ids -> residual after block `layer`, [T, d] (hook_resid_post), no padding."""
    import torch

    def fn(ids):
        caps = {}

        def hook(i, x):
            if i == layer:
                caps[i] = x[0].clone()
            return x
        with torch.no_grad():
            model.run(torch.tensor([ids]), hook=hook)
        return caps[layer]
    return fn


def sae_tensors(sae_dir, k):
    """The shipped SAE (F16 rounded, as the browser reads it) as float32 torch tensors plus k."""
    import torch
    from common import read_safetensors
    w = read_safetensors(os.path.join(sae_dir, 'sae_weights.safetensors'))
    t = {key: torch.from_numpy(val.astype(np.float32)) for key, val in w.items()}
    t['k'] = k
    return t
