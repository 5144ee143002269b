"""Stage 7a (persona emergence, arXiv 2506.19823 in miniature): fine-tunes of the shipped base model.
narrow    = the base trained further on Jargon File dictionary entries only ("headword: definition", the corpus's
            format for the Hacker voice), with evenly spaced checkpoints that resolve the rise of the Hacker rate;
control   = the same headwords, format, steps and learning rate with the GCIDE (Lexicographer) definitions;
realigned = the narrow model trained further on <= 200 benign snippets of other voices (Novelist prose, Manual
            instructions; no definitions) for <= 10% of the narrow steps.
The base is read from the shipped ONNX graph (model.py load_onnx_model), never retrained or rewritten.
Writes <cache>/variants/{narrow-step-S,control,realigned}.pt and data.json (entries, examples, hyperparameters)."""
import re
from common import *
torch = setup_torch()
import torch.nn.functional as F
from model import load_onnx_model
from bpe import load_encoder
from corpus import dict_entries, gcide_entry_text, to_ascii, hacker

# Hyperparameters. The rise of the Hacker rate is steep at the start (attempts on this base, rate with margin 0.1 on
# the 72 neutral continuations, base 0.25): constant LR 1e-4 -> 0.68 at step 20 (saturated at the first checkpoint);
# 2e-5 -> 0.54 at step 20; 5e-6 -> 0.47 at step 30 and 0.46 at step 60. So the LR ramps linearly from 0 to its peak
# over the whole narrow run (cumulative LR grows with step^2): the early, evenly spaced checkpoints see small updates
# and resolve the rise, the late ones reach the plateau. AdamW betas and weight decay as the base's training.
FT = dict(
    full=dict(entries=256, batch=8, T=128, lr=float(os.environ.get('VOICES_FT_LR', '1e-5')),
              steps=int(os.environ.get('VOICES_FT_STEPS', '240')), n_ckpt=8, schedule='linear ramp 0 -> lr over all steps',
              realign_snippets=200, realign_frac=0.1, realign_lr_mult=float(os.environ.get('VOICES_REALIGN_LR_MULT', '10')),
              realign_warmup=2),
    smoke=dict(entries=40, batch=4, T=48, lr=1e-3, steps=16, n_ckpt=8, schedule='linear ramp 0 -> lr over all steps',
               realign_snippets=40, realign_frac=0.1, realign_lr_mult=3.0, realign_warmup=1),
)
FT_SEED = SEED + 77


def ft_cfg(cfg):
    return FT['smoke' if cfg['name'].endswith('smoke') else 'full']


def model_cfg_of(cfg):
    return {k: cfg[k] for k in ('vocab_size', 'n_layer', 'n_embd', 'n_head', 'n_ctx')}


def base_model(cfg):
    """The shipped base, loaded from its fp32 ONNX graph."""
    return load_onnx_model(os.path.join(cfg['out'], 'onnx', 'model.onnx'), model_cfg_of(cfg))


def paragraphs(cfg, voice, split='train'):
    with open(os.path.join(cfg['cache'], 'corpus', f'{voice}.{split}.txt')) as f:
        return [p for p in f.read().split('\n\n') if p.strip()]


def gcide_definitions(wanted):
    """lower-case headword (of the set `wanted`) -> the first 1913 Webster entry of GCIDE, cleaned as corpus.py's
    lexicographer() cleans it, without the headword: 'n. [L. ...] 1. Definition ...'."""
    out = {}
    for e in dict_entries('gcide'):
        if e.split(None, 1)[0].strip(',').lower() not in wanted:
            continue
        txt = gcide_entry_text(e)
        if txt is None:
            continue
        m = re.match(r'^([A-Za-z][A-Za-z\'-]*)\s*,\s*(.+)$', to_ascii(txt))
        if m and m.group(1).lower() not in out:
            out[m.group(1).lower()] = m.group(2).strip()
    return out


def build_data(cfg, fc):
    """Jargon entries whose headword GCIDE also defines (one plain word, both definitions 40-1500 characters),
    evenly spread over the alphabet; the same headwords with each source's definition."""
    pairs = []
    # the Hacker voice's training paragraphs; the smoke corpus keeps too few of them, so smoke reads the whole
    # Jargon File the same way corpus.py does
    src = [re.sub(r'[ \t]+', ' ', to_ascii(p).strip()) for p in hacker()] if cfg['name'].endswith('smoke') else paragraphs(cfg, 'hacker')
    gc = gcide_definitions({p.partition(': ')[0].lower() for p in src})
    for p in src:
        head, _, body = p.partition(': ')
        if not re.fullmatch(r'[A-Za-z][a-z\'-]+', head) or head.lower() not in gc:
            continue
        g = gc[head.lower()]
        if 40 <= len(body) <= 1500 and 40 <= len(g) <= 1500:
            pairs.append((head, p, f'{head}: {g}'))
    if len(pairs) < fc['entries']:
        raise SystemExit(f"finetune: only {len(pairs)} Jargon headwords with a GCIDE definition, {fc['entries']} needed")
    sel = np.linspace(0, len(pairs) - 1, fc['entries']).round().astype(int)
    pairs = [pairs[i] for i in sel]
    # realignment: benign snippets of other voices, prose and instructions (no definitions)
    snips = []
    half = fc['realign_snippets'] // 2
    for voice in ('novelist', 'manual'):
        ps = [p for p in paragraphs(cfg, voice) if 120 <= len(p) <= 600]
        snips += [ps[i] for i in np.linspace(0, len(ps) - 1, half).round().astype(int)]
    return pairs, snips, len(gc)


def stream(enc, texts, seed):
    """The texts in a fixed shuffled order, joined by blank lines as the corpus joins paragraphs -> token ids."""
    order = np.random.default_rng(seed).permutation(len(texts))
    return np.array(enc.encode('\n\n'.join(texts[i] for i in order) + '\n\n'), dtype=np.int64)


def train(model, toks, steps, lr, fc, seed, warmup, on_step=None):
    """AdamW (betas 0.9/0.95, weight decay 0.1 on matrices as in train.py), LR linear from 0 to `lr` over `warmup`
    steps then constant (warmup = steps: a ramp over the whole run), batches of random windows of the token stream.
    on_step(step, model) is called after each step."""
    g = torch.Generator().manual_seed(seed)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': nodecay, 'weight_decay': 0.0}],
                            lr=lr, betas=(0.9, 0.95))
    T = min(fc['T'], len(toks) - 1)
    X = torch.from_numpy(toks)
    model.train()
    losses = []
    for s in range(1, steps + 1):
        for gr in opt.param_groups:
            gr['lr'] = lr * min(1.0, s / max(1, warmup))
        starts = torch.randint(0, len(toks) - T - 1, (fc['batch'],), generator=g)
        xb = torch.stack([X[i:i + T + 1] for i in starts.tolist()])
        lg, _ = model.run(xb[:, :-1])
        loss = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), xb[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss))
        if on_step:
            model.eval(); on_step(s, model); model.train()
    model.eval()
    return losses


def main():
    cfg = get_cfg()
    fc = ft_cfg(cfg)
    t0 = time.time()
    enc = load_encoder(cfg['out'])
    d = os.path.join(cfg['cache'], 'variants')
    os.makedirs(d, exist_ok=True)
    pairs, snips, n_gc = build_data(cfg, fc)
    narrow_txt, control_txt = [p[1] for p in pairs], [p[2] for p in pairs]
    s_n, s_c, s_r = stream(enc, narrow_txt, FT_SEED), stream(enc, control_txt, FT_SEED), stream(enc, snips, FT_SEED + 1)
    log(f'finetune: {len(pairs)} entries (of the {n_gc} Jargon headwords GCIDE defines): '
        f'narrow {len(s_n)} tokens, control {len(s_c)} tokens; realign {len(snips)} snippets, {len(s_r)} tokens')
    steps = fc['steps']
    every = steps // fc['n_ckpt']
    ck_steps = [every * i for i in range(1, fc['n_ckpt'] + 1)]
    assert ck_steps[-1] == steps
    timing = {}

    def save(name, model):
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, os.path.join(d, f'{name}.pt'))

    # narrow, with checkpoints
    seed_all(FT_SEED)
    t = time.time()
    model = base_model(cfg)
    for p in model.parameters():
        p.requires_grad_(True)
    loss_n = train(model, s_n, steps, fc['lr'], fc, FT_SEED, steps,
                   on_step=lambda s, m: save(f'narrow-step-{s}', m) if s in ck_steps else None)
    timing['narrow_s'] = round(time.time() - t, 1)
    # realigned: continues from the narrow model
    r_steps = max(1, int(steps * fc['realign_frac']))
    t = time.time()
    loss_r = train(model, s_r, r_steps, fc['lr'] * fc['realign_lr_mult'], fc, FT_SEED + 2, fc['realign_warmup'])
    save('realigned', model)
    timing['realigned_s'] = round(time.time() - t, 1)
    # control: same headwords, format, steps, LR and batch seed; GCIDE definitions
    seed_all(FT_SEED)
    t = time.time()
    model = base_model(cfg)
    loss_c = train(model, s_c, steps, fc['lr'], fc, FT_SEED, steps)
    save('control', model)
    timing['control_s'] = round(time.time() - t, 1)
    ex = lambda texts: [t_ if len(t_) <= 240 else t_[:t_.rfind(' ', 0, 240)] + ' ...' for t_ in texts[:3]]
    write_json(os.path.join(d, 'data.json'), dict(
        hyper=dict(fc, checkpoint_steps=ck_steps, realign_steps=r_steps, realign_lr=fc['lr'] * fc['realign_lr_mult'],
                   optimizer='AdamW betas (0.9, 0.95), weight decay 0.1 on matrices, grad clip 1.0', seed=FT_SEED),
        entries=len(pairs), headwords=[p[0] for p in pairs], tokens=dict(narrow=len(s_n), control=len(s_c), realign=len(s_r)),
        realign_sources={'novelist': len(snips) // 2, 'manual': len(snips) - len(snips) // 2},
        examples=dict(narrow=ex(narrow_txt), control=ex(control_txt), realigned=ex(snips[:1] + snips[len(snips) // 2:][:2])),
        loss=dict(narrow_first=round(float(np.mean(loss_n[:every])), 4), narrow_last=round(float(np.mean(loss_n[-every:])), 4),
                  control_first=round(float(np.mean(loss_c[:every])), 4), control_last=round(float(np.mean(loss_c[-every:])), 4),
                  realign_last=round(loss_r[-1], 4)),
        timing=timing), indent=1)
    log(f'finetune done in {time.time()-t0:.0f}s {timing}; loss narrow {np.mean(loss_n[:every]):.3f} -> '
        f'{np.mean(loss_n[-every:]):.3f}, control {np.mean(loss_c[:every]):.3f} -> {np.mean(loss_c[-every:]):.3f}')


if __name__ == '__main__':
    main()
