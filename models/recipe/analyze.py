"""Stage 6: feature dashboards, personas (SAE latents + difference-of-means vector), voice classifier,
steering evaluation, golden file for the browser runtime, eval.json and the model card."""
import math
from common import *
torch = setup_torch()
import torch.nn.functional as F
from model import load_model, n_params
from sae import load_sae, residuals, sample_windows, hook_name
from bpe import load_encoder
from labels import relabel
from dashboards import write_split, card_section, files_section
from monitor import calibrate, residual_function

NEUTRAL_PROMPTS = [  # modern, register-neutral openings (everyday, technical, descriptive); none occurs in the corpus
    "The weather today is", "To open the door,", "My favourite thing about the city is",
    "The meeting will start at", "She picked up the phone and", "The best way to learn a new skill is",
    "Yesterday I went to the market and", "When the train finally arrived,",
    "The new laptop comes with", "If the battery is low, the", "Click the button to",
    "The website was down because", "Our team uses a spreadsheet to", "The printer in the office",
    "To install the app, first", "The password must contain",
    "A bicycle is a", "The word carpool refers to", "Football is a game in which",
    "A refrigerator keeps food", "The museum is famous for", "Coffee is made from",
    "The traffic light turned", "Plastic bottles can be",
]
CALIB_PROMPTS = [
    "The car stopped in front of the", "Tomorrow we are going to", "The best part of the story is",
    "Nobody knew why the lights", "At the top of the hill there was", "The letter arrived on a Tuesday and",
    "Most people agree that the", "The dog ran across the field and", "I have always wanted to",
    "The shop opens every day at",
]
GOLDEN_PROMPTS = ["The weather today is", "In the beginning", "To open the door,"]
SAMPLING = dict(temperature=0.8, top_k=40)
# Sampled continuations per neutral prompt: one sample per prompt leaves a voice's share with a standard error of
# ~0.09 at 24 prompts (the baseline's largest share moved 0.29 -> 0.42 between two near-identical builds); three
# seeds per prompt measure the same quantity with ~0.05. Steered and unsteered use the same seeds.
EVAL_SEEDS = (5, 6, 7)


def model_cfg_of(cfg):
    return {k: cfg[k] for k in ('vocab_size', 'n_layer', 'n_embd', 'n_head', 'n_ctx')}


# ---------------------------------------------------------------- generation with steering (batched, KV cache)
@torch.no_grad()
def generate(model, prompts, n_new, layer, direction=None, strength=0.0, greedy=False, seed=0):
    """prompts: list of id lists. Left-pads, applies `strength * direction` to the residual after block `layer`
    at every position (prompt and generated). Returns list of new-token id lists."""
    B = len(prompts)
    T = max(len(p) for p in prompts)
    ids = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, p in enumerate(prompts):
        ids[b, T - len(p):] = torch.tensor(p); mask[b, T - len(p):] = 1
    add = None if direction is None or strength == 0 else (strength * direction).float()

    def hook(i, x):
        return x + add if (add is not None and i == layer) else x
    g = torch.Generator().manual_seed(seed)
    past = None
    out = [[] for _ in range(B)]
    cur, cur_mask = ids, mask
    full_mask = mask
    for step in range(n_new):
        pos = (full_mask.cumsum(1) - 1).clamp_min(0)[:, -cur.shape[1]:]
        h, presents = model.transformer(cur, full_mask, pos, past, hook=hook)
        lg = model.logits(h[:, -1:])[:, 0]
        if greedy:
            nxt = lg.argmax(-1)
        else:
            lg = lg / SAMPLING['temperature']
            v, _ = lg.topk(SAMPLING['top_k'], dim=-1)
            lg = lg.masked_fill(lg < v[:, -1:], float('-inf'))
            nxt = torch.multinomial(torch.softmax(lg, -1), 1, generator=g)[:, 0]
        for b in range(B):
            out[b].append(int(nxt[b]))
        past = presents
        cur = nxt.unsqueeze(1)
        full_mask = torch.cat([full_mask, torch.ones(B, 1, dtype=torch.long)], 1)
    return out


@torch.no_grad()
def continuation_nll(model, prompts, conts):
    """mean NLL per token of conts given prompts, under the unsteered model (pooled over all tokens)."""
    tot, n = 0.0, 0
    for p, c in zip(prompts, conts):
        x = torch.tensor([p + c])
        lg, _ = model.run(x)
        lp = F.log_softmax(lg[0, len(p) - 1:-1], -1)
        tot += -lp.gather(1, torch.tensor(c).unsqueeze(1)).sum().item()
        n += len(c)
    return tot / n


# ---------------------------------------------------------------- classifier (multinomial naive Bayes on token counts)
class VoiceClassifier:
    def __init__(self, V, n_classes, alpha=0.5):
        self.V, self.C, self.alpha = V, n_classes, alpha

    def fit(self, token_arrays):
        counts = np.zeros((self.C, self.V))
        for c, a in enumerate(token_arrays):
            counts[c] = np.bincount(a, minlength=self.V)[:self.V]
        self.logp = np.log((counts + self.alpha) / (counts + self.alpha).sum(1, keepdims=True))
        return self

    def predict(self, seqs):
        X = np.zeros((len(seqs), self.V))
        for i, s in enumerate(seqs):
            X[i] = np.bincount(np.asarray(s, dtype=np.int64), minlength=self.V)[:self.V]
        return (X @ self.logp.T).argmax(1)


def main():
    cfg = get_cfg()
    seed_all()
    out = cfg['out']
    L = cfg['sae_layer']
    hn = hook_name(cfg)
    sae_dir = os.path.join(out, 'sae', hn)
    enc = load_encoder(out)
    model = load_model(cfg['cache'], model_cfg_of(cfg))
    ck = torch.load(os.path.join(cfg['cache'], 'model.pt'))
    sae = load_sae(cfg)
    for p in sae.parameters():
        p.requires_grad_(False)
    names = [v['name'] for v in VOICES]
    d = os.path.join(cfg['cache'], 'corpus')
    tr_tok = [np.load(os.path.join(d, f"{v['id']}.train.npy")).astype(np.int64) for v in VOICES]
    va_tok = [np.load(os.path.join(d, f"{v['id']}.val.npy")).astype(np.int64) for v in VOICES]
    t_start = time.time()

    # ------------------------------------------------ classifier
    clf = VoiceClassifier(cfg['vocab_size'], len(VOICES)).fit(tr_tok)
    rng = np.random.default_rng(SEED + 7)
    snips, labels = [], []
    for c, a in enumerate(va_tok):
        for s in rng.integers(0, len(a) - 48, 200):
            snips.append(a[s:s + 48]); labels.append(c)
    clf_acc = float((clf.predict(snips) == np.array(labels)).mean())
    log(f'classifier accuracy on held-out 48-token snippets: {clf_acc:.3f}')

    # ------------------------------------------------ residual statistics at the SAE layer (training text)
    win, wv = sample_windows(cfg, 'train', 40 if cfg['thresholds'] else 4, SEED + 3)
    R = residuals(model, win, L).float().reshape(len(win), cfg['n_ctx'], -1)
    Rn = R[:, 1:]  # skip position 0 (attention-sink-like outlier norm)
    mean_norm = float(Rn.norm(dim=-1).mean())
    voice_means = torch.stack([Rn[torch.from_numpy(wv == c)].reshape(-1, R.shape[-1]).mean(0) for c in range(len(VOICES))])
    diffs = []
    for c in range(len(VOICES)):
        others = Rn[torch.from_numpy(wv != c)].reshape(-1, R.shape[-1]).mean(0)
        diffs.append(voice_means[c] - others)
    # SAE latent statistics per voice on the same training windows
    A = sae.encode(R.reshape(-1, R.shape[-1]))[0].reshape(len(win), cfg['n_ctx'], -1)[:, 1:]
    lat_mean = torch.stack([A[torch.from_numpy(wv == c)].reshape(-1, A.shape[-1]).mean(0) for c in range(len(VOICES))])
    del A, R, Rn
    log(f'mean residual norm at {hn}: {mean_norm:.2f}')

    # ------------------------------------------------ feature dashboards on held-out text
    T = cfg['n_ctx']
    vw, vv = sample_windows(cfg, 'val', 10_000, 0)
    max_w = cfg['feature_scan_tokens'] // T
    if len(vw) > max_w:  # keep windows spread over voices
        sel = np.linspace(0, len(vw) - 1, max_w).round().astype(int)
        vw, vv = vw[sel], vv[sel]
    T = cfg['n_ctx']
    k = cfg['sae_k']

    def scan(windows, wvoices):
        Rv = residuals(model, windows, L)
        top_v = np.zeros((Rv.shape[0], k), np.float32); top_i = np.zeros((Rv.shape[0], k), np.int32)
        for j in range(0, Rv.shape[0], 4096):
            p = sae.pre(Rv[j:j + 4096].float())
            v, i = p.topk(k, dim=-1)
            top_v[j:j + 4096] = F.relu(v).numpy(); top_i[j:j + 4096] = i.numpy()
        del Rv
        n = top_v.shape[0]
        fi, fv = top_i.reshape(-1), top_v.reshape(-1)
        ft = np.repeat(np.arange(n), k)
        nz = fv > 0
        fi, fv, ft = fi[nz], fv[nz], ft[nz]
        order = np.lexsort((-fv, fi))
        fi, fv, ft = fi[order], fv[order], ft[order]
        return dict(top_v=top_v, top_i=top_i, flat_v=fv, flat_t=ft, starts=np.searchsorted(fi, np.arange(cfg['d_sae'] + 1)),
                    windows=windows.numpy(), voices=wvoices, ntok=n)

    def examples_for(li, sc, n_max, split=None):
        a, b = sc['starts'][li], sc['starts'][li + 1]
        examples, used = [], []
        for val, t in zip(sc['flat_v'][a:b], sc['flat_t'][a:b]):
            w, pos = divmod(int(t), T)
            if any(w == uw and abs(pos - up) < S for uw, up in used):
                continue
            used.append((w, pos))
            s0 = max(0, pos - before); s1 = min(T, s0 + S)
            ids = sc['windows'][w, s0:s1]
            acts = np.zeros(s1 - s0)
            rows = sc['top_i'][w * T + s0:w * T + s1] == li
            acts[rows.any(1)] = sc['top_v'][w * T + s0:w * T + s1][rows]
            e = dict(voice=names[sc['voices'][w]], tokens=[tokstr[x] for x in ids],
                     activations=[round(float(x), 2) or 0 for x in acts], max=round(float(val), 2))
            if split:
                e['split'] = split
            examples.append(e)
            if len(examples) >= n_max:
                break
        return examples

    S = cfg['snippet_len']
    before = S - 4
    tokstr = [enc.token_str(i) for i in range(cfg['vocab_size'])]
    held = scan(vw, vv)
    top_v, top_i, ntok = held['top_v'], held['top_i'], held['ntok']
    flat_v, flat_t, starts = held['flat_v'], held['flat_t'], held['starts']
    tok_voice = np.repeat(vv, T)
    voice_tok_count = np.bincount(tok_voice, minlength=len(VOICES)).astype(np.float64)
    nex = cfg['n_features_examples']
    counts = np.diff(starts)
    train_sc = None
    if (counts < nex).any():  # rare latents: top up their examples from training text (marked split "train")
        tw, tv = sample_windows(cfg, 'train', max(1, cfg['feature_scan_tokens'] // T // len(VOICES)), SEED + 4)
        train_sc = scan(tw, tv)
    ln_f_w = model.transformer.ln_f.weight.detach()
    logit_dirs = (sae.W_dec * ln_f_w) @ model.transformer.wte.weight.detach().t()  # [d_sae, vocab]
    latents = []
    density = np.zeros(cfg['d_sae'])
    for li in range(cfg['d_sae']):
        a, b = starts[li], starts[li + 1]
        density[li] = (b - a) / ntok
        vals, toks = flat_v[a:b], flat_t[a:b]
        vd = np.bincount(tok_voice[toks], weights=vals, minlength=len(VOICES)) / voice_tok_count
        vd = vd / vd.sum() if vd.sum() > 0 else np.full(len(VOICES), 1.0 / len(VOICES))
        examples = examples_for(li, held, nex)
        if len(examples) < 5 and train_sc is not None:
            examples += examples_for(li, train_sc, 5 - len(examples), 'train')
        ld = logit_dirs[li]
        pv, pi = ld.topk(8); sv, si = (-ld).topk(8)
        latents.append(dict(id=li, label='', density=round(float(density[li]), 6),
                            max_activation=round(float(vals[0]) if len(vals) else 0.0, 3),
                            voice_distribution=[round(float(x), 4) for x in vd],
                            top_promoted=[dict(token=tokstr[int(i)], id=int(i), logit=round(float(v), 2)) for v, i in zip(pv, pi)],
                            top_suppressed=[dict(token=tokstr[int(i)], id=int(i), logit=round(float(-v), 2)) for v, i in zip(sv, si)],
                            examples=examples))
    feats = dict(hook_name=hn, d_sae=cfg['d_sae'], voices=names, scan_tokens=int(ntok), split='held-out', latents=latents)
    relabel(feats)  # labels in words from the dashboards (labels.py); relabel.py reruns it on an existing build
    limit = 2_950_000
    while True:
        blob = json.dumps(feats, separators=(',', ':'), ensure_ascii=False).encode()
        if len(blob) <= limit or not cfg['thresholds']:
            break
        # too big for the size budget: trim every snippet by one token on the side farther from its peak
        lens = [len(e['tokens']) for l in latents for e in l['examples']]
        if max(lens) <= 8:
            break
        for l in latents:
            for e in l['examples']:
                if len(e['tokens']) <= 8:
                    continue
                pk = int(np.argmax(e['activations']))
                if pk >= len(e['tokens']) - 1 - pk:
                    e['tokens'], e['activations'] = e['tokens'][1:], e['activations'][1:]
                else:
                    e['tokens'], e['activations'] = e['tokens'][:-1], e['activations'][:-1]
    relabel(feats)  # again on the trimmed examples, so that relabel.py on this build gives the same labels
    features_bytes, examples_bytes = write_split(feats, sae_dir)  # features.json + examples/ (loaded per card)
    n_few = sum(1 for l in latents if sum(1 for e in l['examples'] if 'split' not in e) < 5)
    n_few_all = sum(1 for l in latents if len(l['examples']) < 5)
    feat_stats = dict(latents_with_lt5_heldout_examples=n_few, latents_with_lt5_examples=n_few_all,
                      bytes=features_bytes + examples_bytes, features_bytes=features_bytes, examples_bytes=examples_bytes, snippet_tokens=max(len(e['tokens']) for l in latents for e in l['examples']) if ntok else 0)
    log(f'features.json: {features_bytes/1e6:.2f} MB + examples {examples_bytes/1e6:.2f} MB, {n_few} latents with < 5 held-out examples, {n_few_all} with < 5 in all ({time.time()-t_start:.0f}s)')

    # ------------------------------------------------ personas
    enc_p = lambda ps: [enc.encode(p) for p in ps]
    calib, neutral = enc_p(CALIB_PROMPTS if cfg['thresholds'] else CALIB_PROMPTS[:4]), enc_p(NEUTRAL_PROMPTS)
    n_new = cfg['eval_new_tokens']
    base_calib = generate(model, calib, n_new, L, seed=11)
    base_nll_calib = continuation_nll(model, calib, base_calib)

    def rate(conts, c):
        return float((clf.predict(conts) == c).mean())
    personas = []
    calib_log = {}
    alphas = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0] if cfg['thresholds'] else [0.5, 1.0]
    for c, v in enumerate(VOICES):
        raw = diffs[c]
        vec_unit = raw / raw.norm()
        # latents: most voice-specific = mean activation on this voice minus mean on the others, weighted
        spec = lat_mean[c] - torch.cat([lat_mean[:c], lat_mean[c + 1:]]).mean(0)
        top = spec.topk(cfg['n_latents_persona'])
        coef = top.values / top.values.sum()
        lat_dir = (coef.unsqueeze(1) * sae.W_dec[top.indices]).sum(0)
        lat_unit_norm = float(lat_dir.norm())
        best = {}
        for mode, unit in (('vector', vec_unit), ('latents', lat_dir / lat_dir.norm())):
            tried = []
            for a_ in alphas:
                dirn = unit * a_ * mean_norm
                conts = generate(model, calib, n_new, L, dirn, 1.0, seed=11)
                r = rate(conts, c)
                coh = math.exp(continuation_nll(model, calib, conts) - base_nll_calib)
                tried.append(dict(alpha=a_, rate=r, coherence=round(coh, 3)))
                if r >= 0.9 and coh <= 2.5:
                    break
            ok = [t for t in tried if t['coherence'] <= 2.5] or [min(tried, key=lambda t: t['coherence'])]
            pick = next((t for t in ok if t['rate'] >= 0.9), max(ok, key=lambda t: (t['rate'], -t['coherence'])))
            best[mode] = pick
            calib_log[f"{v['id']}.{mode}"] = tried
        default = 'vector' if best['vector']['rate'] >= best['latents']['rate'] else 'latents'
        vec = vec_unit * best['vector']['alpha'] * mean_norm
        lat_scale = best['latents']['alpha'] * mean_norm / lat_unit_norm
        personas.append(dict(
            id=v['id'], name=v['name'], voice=v['name'], description=v['description'],
            latents=[dict(latent=int(i), coefficient=round(float(cf * lat_scale), 4), label=latents[int(i)]['label'])
                     for i, cf in zip(top.indices, coef)],
            vector=[round(float(x), 5) for x in vec],
            default_use=default,
            strength=dict(min=-2.0, max=2.0, recommended=1.0),
            calibration=dict(vector_alpha=best['vector']['alpha'], latents_alpha=best['latents']['alpha'],
                             vector_raw_norm=round(float(raw.norm()), 4), mean_residual_norm=round(mean_norm, 4),
                             calib_rate_vector=best['vector']['rate'], calib_rate_latents=best['latents']['rate'])))
        log(f"persona {v['id']}: vector {best['vector']} latents {best['latents']} -> default {default}")
    # monitor calibration for the app's persona bars, and one held-out prompt per voice for the browser tests
    sae_t = dict(W_enc=sae.W_enc.detach(), b_enc=sae.b_enc.detach(), b_dec=sae.b_dec.detach(), k=cfg['sae_k'])
    voice_prompts, monitor_wins = calibrate(cfg, residual_function(model, L), enc.encode, sae_t, personas)
    log(f'persona monitor: own persona highest on held-out sentences {monitor_wins}')
    write_json(os.path.join(sae_dir, 'personas.json'), dict(
        hook_name=hn, layer=L, d_model=cfg['n_embd'],
        semantics='steering adds strength * direction to the residual after block `layer` at every position; '
                  'direction = vector (default_use "vector") or sum(coefficient_i * W_dec[latent_i]) (default_use "latents"). '
                  'Directions are pre-scaled so strength 1 is the recommended push; negative strength turns the persona down. '
                  'vector = unit(mean residual on the voice - mean on the other voices) * vector_alpha * mean_residual_norm.',
        personas=personas), indent=1)

    def direction(p, mode=None):
        mode = mode or p['default_use']
        if mode == 'vector':
            return torch.tensor(p['vector'])
        return sum(l['coefficient'] * sae.W_dec[l['latent']] for l in p['latents'])

    # ------------------------------------------------ steering evaluation on neutral prompts
    def sample(direction=None, strength=0.0):
        return [c for sd in EVAL_SEEDS for c in generate(model, neutral, n_new, L, direction, strength, seed=sd)]
    neutral_x = neutral * len(EVAL_SEEDS)  # the prompt of every sampled continuation, seed-major
    base = sample()
    base_pred = clf.predict(base)
    base_rates = [float((base_pred == c).mean()) for c in range(len(VOICES))]
    n_p = len(neutral)
    base_max_per_seed = [max(float((base_pred[i * n_p:(i + 1) * n_p] == c).mean()) for c in range(len(VOICES)))
                         for i in range(len(EVAL_SEEDS))]
    base_nll = continuation_nll(model, neutral_x, base)
    per_persona = {}
    st_nll = []
    examples_out = {}
    for c, p in enumerate(personas):
        rec = p['strength']['recommended']
        conts = sample(direction(p), rec)
        r = rate(conts, c)
        nll = continuation_nll(model, neutral_x, conts)
        st_nll.append(nll)
        alt = 'latents' if p['default_use'] == 'vector' else 'vector'
        conts_alt = sample(direction(p, alt), rec)
        per_persona[p['id']] = dict(target_rate=r, coherence_ratio=round(math.exp(nll - base_nll), 3),
                                    default_use=p['default_use'], **{f'target_rate_{alt}': rate(conts_alt, c)})
        examples_out[p['id']] = [NEUTRAL_PROMPTS[j] + enc.decode(conts[j]) for j in range(3)]
        log(f"steer {p['id']}: {per_persona[p['id']]}")
    examples_out['unsteered'] = [NEUTRAL_PROMPTS[j] + enc.decode(base[j]) for j in range(3)]
    target_rate = float(np.mean([x['target_rate'] for x in per_persona.values()]))
    coherence = math.exp(float(np.mean(st_nll)) - base_nll)
    # turn-down: prompts written in the voice (held-out), steered with -recommended
    td = {}
    for c, p in enumerate(personas):
        a = va_tok[c]
        rng2 = np.random.default_rng(SEED + 100 + c)
        pl = 32 if cfg['thresholds'] else 8
        prompts = [a[s:s + pl].tolist() for s in rng2.integers(0, len(a) - pl, 20)]
        b0 = generate(model, prompts, n_new, L, seed=9)
        b1 = generate(model, prompts, n_new, L, direction(p), -p['strength']['recommended'], seed=9)
        r0, r1 = rate(b0, c), rate(b1, c)
        td[p['id']] = dict(rate_unsteered=r0, rate_turned_down=r1, reduction=(1 - r1 / r0) if r0 > 0 else 0.0)
        log(f"turn down {p['id']}: {td[p['id']]}")
    turn_down = float(np.mean([x['reduction'] for x in td.values()]))
    ppl = {v['id']: round(math.exp(x), 3) for v, x in zip(VOICES, [ck['val_loss'][v['id']] for v in VOICES])}
    sm = read_json(os.path.join(cfg['cache'], 'sae_metrics.json'))
    # dead latents: never active on the whole held-out scan (the SAE stage's subset is too small for rare latents)
    sm['dead_fraction_subset'], sm['dead_subset_tokens'] = sm['dead_fraction'], sm['eval_tokens']
    sm['dead_fraction'] = float((density == 0).mean())
    sm['dead_tokens'] = int(ntok)
    par = read_json(os.path.join(cfg['cache'], 'parity_results.json'))
    ev = dict(
        model=dict(n_params=n_params(model), n_layer=cfg['n_layer'], n_embd=cfg['n_embd'], n_head=cfg['n_head'],
                   n_ctx=cfg['n_ctx'], vocab_size=cfg['vocab_size'], train_seconds=round(ck['train_seconds'], 1),
                   train_steps=ck['steps_done'], tokens_seen=ck['tokens_seen'], val_loss=ck['val_loss'],
                   schedule_bound=ck.get('schedule_bound', 'steps'), time_budget_min=ck.get('time_budget_min')),
        perplexity=ppl,
        classifier_accuracy=clf_acc,
        steering=dict(target_rate=target_rate, baseline_max_rate=max(base_rates), coherence_ratio=round(coherence, 3),
                      turn_down_reduction=turn_down, baseline_rates=dict(zip([v['id'] for v in VOICES], base_rates)),
                      baseline_max_rate_per_seed=base_max_per_seed,
                      per_persona=per_persona, turn_down=td, n_prompts=len(NEUTRAL_PROMPTS), new_tokens=n_new,
                      samples_per_prompt=len(EVAL_SEEDS),
                      sampling=dict(SAMPLING, seeds=list(EVAL_SEEDS), note='same seeds for steered and unsteered'),
                      calibration=calib_log, examples=examples_out),
        features=feat_stats,
        persona_monitor=monitor_wins,
        sae=dict(hook_name=hn, d_sae=cfg['d_sae'], k=cfg['sae_k'], fve=sm['fve'], l0=sm['l0'],
                 dead_fraction=sm['dead_fraction'], dead_tokens=sm['dead_tokens'],
                 dead_fraction_subset=sm['dead_fraction_subset'], dead_subset_tokens=sm['dead_subset_tokens'],
                 loss_recovered=sm['loss_recovered'], ce_clean=sm['ce_clean'],
                 ce_splice=sm['ce_splice'], ce_zero=sm['ce_zero'], eval_tokens=sm['eval_tokens'],
                 train_tokens=sm['train_tokens'], train_seconds=sm['train_seconds'], weights_dtype='float16'),
        onnx=par,
    )
    TH = [('steering.target_rate', target_rate, '>=', 0.8), ('steering.baseline_max_rate', max(base_rates), '<=', 0.4),
          ('steering.coherence_ratio', coherence, '<=', 3.0), ('steering.turn_down_reduction', turn_down, '>=', 0.5),
          ('sae.fve', sm['fve'], '>=', 0.85), ('sae.l0', sm['l0'], '<=', 64), ('sae.dead_fraction', sm['dead_fraction'], '<=', 0.05),
          ('sae.loss_recovered', sm['loss_recovered'], '>=', 0.9), ('classifier_accuracy', clf_acc, '>=', 0.9),
          ('onnx.q4_top1_agreement', par['q4']['top1_agreement'], '>=', 0.95),
          ('onnx.fp32_max_abs_diff', max(par['fp32'][k] for k in ('prefill_max_abs_diff', 'decode_max_abs_diff', 'padded_batch_max_abs_diff')), '<=', 1e-3)]
    ev['thresholds'] = [dict(metric=m, value=x, op=o, threshold=t, passed=bool(x >= t if o == '>=' else x <= t)) for m, x, o, t in TH]
    ev['all_passed'] = all(t['passed'] for t in ev['thresholds'])
    write_json(os.path.join(out, 'eval.json'), ev, indent=1)
    table = ['| metric | value | threshold | pass |', '|---|---|---|---|']
    for t in ev['thresholds']:
        table.append(f"| {t['metric']} | {t['value']:.4g} | {t['op']} {t['threshold']} | {'yes' if t['passed'] else 'NO'} |")
    for k_, x in ppl.items():
        table.append(f'| perplexity.{k_} | {x:.2f} | (report) | |')
    print('\n'.join(table), flush=True)

    # ------------------------------------------------ golden file
    golden = dict(hook_name=hn, layer=L, note='fp32 PyTorch weights; SAE from the F16 weights as shipped; steering at all positions',
                  prompts=[])
    for gi, text in enumerate(GOLDEN_PROMPTS):
        ids = enc.encode(text)
        caps = {}
        def hook(i, x):
            caps[i] = x[0].clone(); return x
        with torch.no_grad():
            lg, _ = model.run(torch.tensor([ids]), hook=hook)
            a, _ = sae.encode(caps[L])
        tv, ti = a.topk(8, dim=-1)
        last = len(ids) - 1
        entry = dict(text=text, ids=ids, positions=[0, last],
                     residual={str(i): {str(p): [round(float(x), 6) for x in caps[i][p]] for p in (0, last)} for i in range(cfg['n_layer'])},
                     sae_top=[dict(indices=[int(x) for x in ti[t]], values=[round(float(x), 5) for x in tv[t]]) for t in range(len(ids))],
                     greedy=dict(unsteered=generate(model, [ids], 32, L, greedy=True)[0]),
                     steered={})
        for p in personas:
            entry['steered'][p['id']] = dict(strength=p['strength']['recommended'], use=p['default_use'],
                                             ids=generate(model, [ids], 32, L, direction(p), p['strength']['recommended'], greedy=True)[0])
        if gi == 0:
            entry['last_logits_first16'] = [round(float(x), 6) for x in lg[0, last, :16]]
        entry['greedy_text'] = enc.decode(entry['greedy']['unsteered'])
        golden['prompts'].append(entry)
    golden['tokenizer'] = read_json(os.path.join(cfg['cache'], 'tokenizer_fixtures.json'))
    golden['voice_prompts'] = voice_prompts
    write_json(os.path.join(out, 'golden.json'), golden)
    write_card(cfg, ev, table, personas, examples_out,
               card_section(feats, dict(personas=personas), monitor_wins, features_bytes, examples_bytes))
    log(f'analyze done in {time.time()-t_start:.0f}s; all thresholds passed: {ev["all_passed"]}')
    if cfg['thresholds'] and not ev['all_passed'] and '--no-fail' not in sys.argv:
        print('WARNING: some thresholds are not met (see eval.json)', flush=True)


def write_card(cfg, ev, table, personas, examples, dashboards_section):
    import shutil
    # first, so that the card's list of files includes it
    shutil.copy(os.path.join(cfg['cache'], 'corpus', 'manifest.json'), os.path.join(cfg['out'], 'manifest.json'))
    man = read_json(os.path.join(cfg['cache'], 'corpus', 'manifest.json'))
    m = ev['model']
    ck_bound = ev['model'].get('schedule_bound', 'steps')
    src = '\n'.join(f"| {v['name']} | {v['source']} | {', '.join(p['name'] + ' ' + str(p['version']) for p in v['packages'])} | "
                    f"{v['licence']} | {v['bytes']/1e6:.2f} MB | `{v['sha256'][:16]}…` |" for v in man['voices'])
    pers = '\n'.join(f"| {p['name']} | {p['default_use']} | {p['calibration']['vector_alpha']} | {p['calibration']['latents_alpha']} | "
                     f"{', '.join(str(l['latent']) for l in p['latents'])} |" for p in personas)
    fails = [t for t in ev['thresholds'] if not t['passed']]
    unmet = 'All thresholds are met.' if not fails else '\n'.join(
        f"- `{t['metric']}` = {t['value']:.4g} (needs {t['op']} {t['threshold']})" for t in fails) + (
        ("\n\nThis build's LM got only {0} of the planned {1} steps (the wall-clock budget bound on a loaded "
         "machine): rebuild on an idle one.".format(m['train_steps'], cfg['max_steps']) if m['train_steps'] < cfg['max_steps'] else ''))
    ex = '\n'.join(f"- **{k}**: {json.dumps(v[0])}" for k, v in examples.items())
    mix_text = ', '.join(f"{v['name']} {p:.0%}" for v, p in zip(VOICES, voice_mix()))
    card = f"""# Voices — the playground's built-in model

A small GPT-2-architecture language model trained from scratch on five unmistakable *voices* taken from Debian
packages, plus a TopK sparse autoencoder on its middle residual stream, feature dashboards and steerable
personas. Everything here is rebuilt by `npm run models:build` (`models/recipe/`) from fixed seeds; the smoke
variant (`npm run models:smoke`) writes the same layout to `models/voices-smoke/`.

## Sources and licences

| voice | text | Debian package(s) | licence | bytes | sha256 |
|---|---|---|---|---|---|
{src}

Each voice is extracted to plain ASCII text (paragraphs separated by blank lines), capped at
{cfg['max_bytes_per_voice']/1e6:g} MB with evenly spread paragraphs; the last {cfg['val_frac']*100:.0f}% of each
voice's paragraphs is the held-out split used by every evaluation below. Full sha256 values (whole voice, train and
held-out splits), byte counts and package versions are in `manifest.json`.

## Architecture

GPT-2 (`model_type: "gpt2"`, Hugging Face module names `transformer.wte/wpe/h.{{i}}.ln_1/attn.c_attn/...`, Conv1D
weight layout, `gelu_new`, LayerNorm eps 1e-5, tied `lm_head` = `wte`): {m['n_layer']} layers, d_model {m['n_embd']},
{m['n_head']} heads, context {m['n_ctx']}, byte-level BPE vocabulary {m['vocab_size']} (trained by the recipe;
`<|endoftext|>` = {m['vocab_size']-1}), **{m['n_params']:,} parameters**. The size is bounded by the 30 MB budget for
this folder (fp32 ONNX + q4 ONNX + SAE + dashboards); there is no PyTorch/safetensors checkpoint of the LM here —
the ONNX files are the model.

- `onnx/model.onnx` — fp32, one graph (no `If`), KV cache: inputs `input_ids`, `attention_mask` [batch, past+seq],
  `position_ids`, `past_key_values.{{i}}.key|value` [batch, {m['n_head']}, past, {m['n_embd']//m['n_head']}]; outputs
  `logits`, `present.{{i}}.key|value`. Prefill with past length 0. Residual stream tensors:
  `/transformer/Add_output_0` (embeddings), `/transformer/h.{{i}}/Add_output_0` (after attention),
  `/transformer/h.{{i}}/Add_1_output_0` (end of block i = `blocks.{{i}}.hook_resid_post`).
- `onnx/model_q4.onnx` — the block MatMuls and the tied lm_head as `com.microsoft.MatMulNBits` (bits 4, asymmetric
  with uint8 zero points, per-block range chosen by a small min-squared-error search; block_size 32 for the block
  weights and 16 for the lm_head, which dominates the top-1 error); the token embedding as int8 rows with one fp32
  scale per row (symmetric, max |row| / 127: Gather of the codes, Cast, times the Gather of the scales; the fp32 table
  was 4.2 MB of a 7.4 MB graph).
- Parity (onnxruntime-node, CPU): fp32 prefill max |Δlogit| {ev['onnx']['fp32']['prefill_max_abs_diff']:.2e}, KV-cache decode
  {ev['onnx']['fp32']['decode_max_abs_diff']:.2e}, padded batch {ev['onnx']['fp32']['padded_batch_max_abs_diff']:.2e}, residual taps
  {ev['onnx']['fp32']['residual_max_abs_diff']:.2e}; q4 vs fp32 top-1 agreement {ev['onnx']['q4']['top1_agreement']:.4f} on
  {ev['onnx']['q4']['positions']} held-out positions.

## Training budget

AdamW (β 0.9/0.95, weight decay {cfg['weight_decay']}), peak LR {cfg['lr']}, {cfg['warmup']} warm-up steps then cosine
to {cfg['min_lr_frac']}×, batches of {cfg['batch_size']} windows × {cfg['n_ctx']} tokens drawn from the five voices by the
training mixture ({mix_text}: the Bible's "and … the LORD" chaining is the strongest attractor for prompts in no
voice's register, so scripture gets fewer windows; every voice still sees millions of tokens),
{m['train_steps']} steps = {m['tokens_seen']:,} tokens in **{m['train_seconds']/60:.1f} minutes on 2 CPU cores** (Debian
python3-torch 1.13 + OpenBLAS). The cosine schedule runs over max(step progress, wall-clock progress) with a step
cap of {cfg['max_steps']} and a wall-clock budget of {cfg['time_budget_min']:g} min (`VOICES_TRAIN_MINUTES`) that only
counts in its second half: on an idle 2-core machine the step cap binds (~31 min, fully deterministic); for this build
the {'step' if ck_bound == 'steps' else 'wall-clock'} bound applied ({m['train_steps']} of {cfg['max_steps']} steps). Held-out loss per voice: {', '.join(f'{k} {v:.3f}' for k, v in m['val_loss'].items())}.

SAE: TopK (k = {cfg['sae_k']}), d_sae = {cfg['d_sae']} ({cfg['d_sae']//cfg['n_embd']}× d_model) on `{ev['sae']['hook_name']}`,
trained on {ev['sae']['train_tokens']:,} residuals of training text in {ev['sae']['train_seconds']/60:.1f} min (Adam, AuxK
loss for dead latents plus resampling of latents silent for 100k tokens at 15/30/45/60% of training, unit-norm decoder rows). SAELens v6 layout in `sae/{ev['sae']['hook_name']}/`; weights are stored as
**F16** (`cfg.json` dtype `float16`) and every number below was computed from the F16-rounded weights.
Encode: `relu(topk((x - b_dec) @ W_enc + b_enc))`, decode `a @ W_dec + b_dec`. FVE, L0 and loss recovered
(clean vs reconstruction spliced in vs zero-ablation of the residual, next-token CE) use {ev['sae']['eval_tokens']:,}
held-out tokens; the dead fraction counts latents that never fire on all {ev['sae'].get('dead_tokens', 0):,} held-out tokens
scanned for the dashboards (on the smaller {ev['sae'].get('dead_subset_tokens', 0):,}-token subset:
{ev['sae'].get('dead_fraction_subset', 0):.3f}, since many latents are rarer than 1 in 40k tokens).

## Evaluation (`eval.json`)

{chr(10).join(table)}

- Voice classifier: multinomial naive Bayes on token counts, trained on the training text; accuracy on 1000
  held-out snippets of 48 tokens.
- Steering: {ev['steering']['n_prompts']} neutral prompts (in no voice's text), {ev['steering']['new_tokens']} new tokens,
  sampling temperature {SAMPLING['temperature']}, top-k {SAMPLING['top_k']}, {len(EVAL_SEEDS)} samples per prompt (seeds
  {', '.join(map(str, EVAL_SEEDS))}; the same seeds steered and unsteered; rates are over all samples — largest unsteered share
  per seed: {', '.join(f'{x:.2f}' for x in ev['steering']['baseline_max_rate_per_seed'])});
  each persona at its recommended strength (1.0) with its default direction. Coherence = perplexity of the steered
  continuations under the unsteered model ÷ that of the unsteered continuations. Turn-down: 20 held-out prompts of
  32 tokens per voice, steered at strength −1.
- Per persona: {json.dumps(ev['steering']['per_persona'])}
- Unsteered share per voice: {json.dumps(ev['steering']['baseline_rates'])}
- Turn-down: {json.dumps(ev['steering']['turn_down'])}

## Personas (`sae/{ev['sae']['hook_name']}/personas.json`)

Steering adds `strength × direction` to the residual after block {cfg['sae_layer']} at every position (prompt and generated).
`vector` is the voice's difference of means (mean residual on that voice's tokens − mean on the other voices'
tokens, training text), **stored pre-scaled**: unit direction × α × mean residual norm
({personas[0]['calibration']['mean_residual_norm']:.2f}), so strength 1 is the recommended push; the raw norm is kept in
`calibration.vector_raw_norm`. `latents` are the {cfg['n_latents_persona']} SAE latents most specific to the voice (mean
activation on the voice − mean over the others) with coefficients proportional to that specificity, scaled the same
way (α chosen separately). α was calibrated on {len(CALIB_PROMPTS)} prompts distinct from the evaluation prompts: the
smallest α in {{0.25, 0.5, 0.75, 1, 1.5, 2}} reaching a 90% target rate with perplexity ratio ≤ 2.5.

| persona | default | α vector | α latents | latents |
|---|---|---|---|---|
{pers}

Examples (first neutral prompt, sampled):

{ex}

{dashboards_section}
## Golden file

`golden.json`: for 3 prompts, token ids, the residual at every block output for positions 0 and last, the top-8
SAE latents per token, greedy continuations (32 tokens) unsteered and steered with each persona (recommended
strength, default direction, steering at all positions), the first 16 fp32 logits of prompt 0's last position, and
tokenizer fixtures (ids from the recipe's Python encoder).

{files_section(cfg['out'])}
## Unmet thresholds

{unmet}

## Known limits

- A 4-layer, {m['n_params']/1e6:.1f}M-parameter model trained for {m['train_seconds']/60:.0f} minutes on CPU: continuations are locally
  fluent in each register but wander; it knows nothing outside these five texts (no modern vocabulary, no facts).
- Neutral prompts are modern English that no voice contains, so unsteered continuations mix registers.
- The voice classifier is a bag-of-tokens naive Bayes: it measures register (vocabulary), not fluency; coherence is
  measured separately by perplexity.
- Man pages are reduced from roff by a small stripper (tables and complex macros lose structure).
- Strengths far beyond the recommended range (|s| > 2) push the residual off-distribution and produce repetition.
"""
    with open(os.path.join(cfg['out'], 'README.md'), 'w') as f:
        f.write(card)


if __name__ == '__main__':
    main()
