"""Stage 5: TopK SAE on blocks.{L}.hook_resid_post (the output of block L), SAELens v6 layout, F16 weights.
Quality metrics (FVE, L0, dead fraction, loss recovered) are computed on held-out text with the F16-rounded
weights that are shipped."""
from common import *
torch = setup_torch()
import torch.nn.functional as F
from model import load_model


class Stop(Exception):
    pass


def hook_name(cfg):
    return f"blocks.{cfg['sae_layer']}.hook_resid_post"


@torch.no_grad()
def residuals(model, windows, layer, bs=16):
    """windows: LongTensor [N, T] -> float16 [N*T, d] residual after block `layer` (forward stops there)."""
    out = []
    def hook(i, x):
        if i == layer:
            out.append(x.reshape(-1, x.shape[-1]).half())
            raise Stop
        return x
    for j in range(0, len(windows), bs):
        try:
            model.run(windows[j:j + bs], hook=hook)
        except Stop:
            pass
    return torch.cat(out)


def sample_windows(cfg, split, n_per_voice, seed):
    rng = np.random.default_rng(seed)
    d = os.path.join(cfg['cache'], 'corpus')
    T = cfg['n_ctx']
    ws, vs = [], []
    for vi, v in enumerate(VOICES):
        a = np.load(os.path.join(d, f"{v['id']}.{split}.npy")).astype(np.int64)
        if split == 'val':  # non-overlapping windows in order
            n = min(n_per_voice, (len(a) - 1) // T)
            starts = (np.arange(n) * T).tolist()
        else:
            starts = rng.integers(0, len(a) - T - 1, n_per_voice).tolist()
        for s in starts:
            ws.append(a[s:s + T]); vs.append(vi)
    return torch.from_numpy(np.stack(ws)), np.array(vs)


class TopKSAE(torch.nn.Module):
    def __init__(self, d_in, d_sae, k):
        super().__init__()
        self.k = k
        W = torch.randn(d_sae, d_in)
        W = W / W.norm(dim=1, keepdim=True)
        self.W_dec = torch.nn.Parameter(W.clone())
        self.W_enc = torch.nn.Parameter(W.t().clone())
        self.b_enc = torch.nn.Parameter(torch.zeros(d_sae))
        self.b_dec = torch.nn.Parameter(torch.zeros(d_in))

    def pre(self, x):
        return (x - self.b_dec) @ self.W_enc + self.b_enc

    def encode(self, x):
        p = self.pre(x)
        v, i = p.topk(self.k, dim=-1)
        a = torch.zeros_like(p).scatter_(-1, i, F.relu(v))
        return a, p

    def decode(self, a):
        return a @ self.W_dec + self.b_dec

    def forward(self, x):
        a, p = self.encode(x)
        return self.decode(a), a, p


def train_sae(cfg, acts):
    """Trains on x / c (c = mean norm / sqrt(d_in)) and folds c back into b_enc and b_dec afterwards, so the
    saved SAE takes raw residuals (normalize_activations "none") and keeps unit-norm decoder rows."""
    seed_all(SEED + 5)
    d_in = acts.shape[1]
    c = float(acts[:100_000].float().norm(dim=1).mean() / d_in ** 0.5)
    sae = TopKSAE(d_in, cfg['d_sae'], cfg['sae_k'])
    with torch.no_grad():
        sae.b_dec.copy_(acts[:100_000].float().mean(0) / c)
    opt = torch.optim.Adam(sae.parameters(), lr=cfg['sae_lr'], betas=(0.9, 0.999))
    N = acts.shape[0]
    g = torch.Generator().manual_seed(SEED)
    perm = torch.randperm(N, generator=g)
    bs = cfg['sae_batch']
    steps = cfg['sae_epochs'] * (N // bs)
    last_fired = torch.zeros(cfg['d_sae'], dtype=torch.long)
    dead_after = max(1, (100_000 if cfg['thresholds'] else 2_000) // bs)  # steps without firing -> dead
    k_aux = min(256, cfg['d_sae'] // 2)
    var_total = (acts[:50_000].float() / c).var(0).sum()
    resample_at = {int(steps * f) for f in (0.15, 0.3, 0.45, 0.6)} if cfg['thresholds'] else {steps // 2}
    resampled = 0
    t0 = time.time()
    for s in range(steps):
        lr = cfg['sae_lr'] * min(1.0, (s + 1) / 100) * (1.0 if s < 0.8 * steps else max(0.0, (steps - s) / (0.2 * steps)))
        for gr in opt.param_groups:
            gr['lr'] = lr
        idx = perm[(s * bs) % (N - bs + 1):(s * bs) % (N - bs + 1) + bs]
        x = acts[idx].float() / c
        xh, a, p = sae(x)
        err = x - xh
        mse = err.pow(2).sum(-1).mean()
        fired = (a > 0).any(0)
        last_fired[fired] = s
        dead = (s - last_fired) > dead_after
        loss = mse
        aux = torch.tensor(0.0)
        if dead.any() and s > dead_after:
            pd = p.masked_fill(~dead.unsqueeze(0), float('-inf'))
            kk = min(k_aux, int(dead.sum()))
            v, i = pd.topk(kk, dim=-1)
            aa = torch.zeros_like(p).scatter_(-1, i, F.relu(v))
            e_hat = aa @ sae.W_dec
            aux = (e_hat - err.detach()).pow(2).sum(-1).mean()
            loss = loss + aux / 32.0
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            sae.W_dec.div_(sae.W_dec.norm(dim=1, keepdim=True).clamp_min(1e-8))
            if s in resample_at and dead.any():
                resampled += resample_dead(sae, opt, dead, err.detach(), s)
                last_fired[dead] = s
        if s % 200 == 0 or s == steps - 1:
            fve = 1 - (err.pow(2).sum(-1).mean() / var_total).item()
            log(f'sae step {s}/{steps} mse {mse.item():.3f} fve~{fve:.3f} dead {int(dead.sum())} aux {aux.item():.3f} ({time.time()-t0:.0f}s)')
    log(f'sae: resampled {resampled} dead latents in total')
    with torch.no_grad():
        sae.b_enc.mul_(c); sae.b_dec.mul_(c)
    return sae


def resample_dead(sae, opt, dead, err, step):
    """Anthropic-style resampling (Towards Monosemanticity): a latent that has not fired for `dead_after` steps gets a
    decoder row pointing at a badly reconstructed input of this batch (chosen with probability ~ error^2), an encoder
    column along it at 0.2 x the mean live encoder norm, zero bias, and fresh Adam moments."""
    idx = dead.nonzero().squeeze(1)
    g = torch.Generator().manual_seed(SEED + step)
    w = err.pow(2).sum(-1)
    pick = torch.multinomial(w / w.sum(), len(idx), replacement=len(idx) > len(w), generator=g)
    dirs = err[pick] / err[pick].norm(dim=1, keepdim=True).clamp_min(1e-8)
    enc_norm = sae.W_enc[:, ~dead].norm(dim=0).mean() if (~dead).any() else 1.0
    sae.W_dec[idx] = dirs
    sae.W_enc[:, idx] = dirs.t() * 0.2 * enc_norm
    sae.b_enc[idx] = 0.0
    for p, sl in ((sae.W_dec, (idx,)), (sae.W_enc, (slice(None), idx)), (sae.b_enc, (idx,))):
        st = opt.state.get(p)
        if st:
            st['exp_avg'][sl] = 0.0
            st['exp_avg_sq'][sl] = 0.0
    log(f'sae step {step}: resampled {len(idx)} dead latents')
    return len(idx)


def f16_round(sae):
    with torch.no_grad():
        for p in sae.parameters():
            p.copy_(p.half().float())
    return sae


@torch.no_grad()
def sae_metrics(model, sae, cfg, val_windows):
    L = cfg['sae_layer']
    acts = residuals(model, val_windows, L).float()
    xh, a, _ = sae(acts)
    fve = 1 - ((acts - xh).pow(2).sum() / (acts - acts.mean(0)).pow(2).sum()).item()
    l0 = (a > 0).sum(-1).float().mean().item()
    fired = (a > 0).any(0)
    dead = 1 - fired.float().mean().item()
    # loss recovered: clean vs splice(reconstruction) vs zero-ablation of the residual at layer L
    ce = {'clean': 0.0, 'splice': 0.0, 'zero': 0.0}
    n = 0
    for j in range(0, len(val_windows), 8):
        x = val_windows[j:j + 8]
        for mode in ce:
            def hook(i, r, mode=mode):
                if i != L or mode == 'clean':
                    return r
                if mode == 'zero':
                    return torch.zeros_like(r)
                return sae(r)[0]
            lg, _ = model.run(x, hook=hook)
            ce[mode] += F.cross_entropy(lg[:, :-1].reshape(-1, lg.shape[-1]), x[:, 1:].reshape(-1), reduction='sum').item()
        n += x[:, 1:].numel()
    ce = {k: v / n for k, v in ce.items()}
    lr_ = (ce['zero'] - ce['splice']) / (ce['zero'] - ce['clean'])
    return dict(fve=fve, l0=l0, dead_fraction=dead, loss_recovered=lr_, ce_clean=ce['clean'], ce_splice=ce['splice'],
                ce_zero=ce['zero'], eval_tokens=int(acts.shape[0]), density=(a > 0).float().mean(0))


def save_sae(cfg, sae):
    hn = hook_name(cfg)
    d = os.path.join(cfg['out'], 'sae', hn)
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, 'cfg.json'), {
        'architecture': 'topk', 'd_in': cfg['n_embd'], 'd_sae': cfg['d_sae'], 'k': cfg['sae_k'], 'dtype': 'float16',
        'device': 'cpu', 'apply_b_dec_to_input': True, 'normalize_activations': 'none',
        'rescale_acts_by_decoder_norm': False, 'reshape_activations': 'none',
        'metadata': {'model_name': cfg['name'], 'hook_name': hn, 'hook_head_index': None, 'context_size': cfg['n_ctx'],
                     'prepend_bos': False, 'dataset_path': 'models/recipe (five Debian voices)',
                     'sae_lens_version': '6.0.0', 'neuronpedia_id': None},
    }, indent=2)
    write_safetensors(os.path.join(d, 'sae_weights.safetensors'), {
        'W_enc': sae.W_enc.detach().numpy().astype(np.float16), 'W_dec': sae.W_dec.detach().numpy().astype(np.float16),
        'b_enc': sae.b_enc.detach().numpy().astype(np.float16), 'b_dec': sae.b_dec.detach().numpy().astype(np.float16)})
    return d


def load_sae(cfg):
    d = os.path.join(cfg['out'], 'sae', hook_name(cfg))
    w = read_safetensors(os.path.join(d, 'sae_weights.safetensors'))
    sae = TopKSAE(cfg['n_embd'], cfg['d_sae'], cfg['sae_k'])
    with torch.no_grad():
        for k in ('W_enc', 'W_dec', 'b_enc', 'b_dec'):
            getattr(sae, k).copy_(torch.from_numpy(w[k].astype(np.float32)))
    return sae


def main():
    cfg = get_cfg()
    seed_all()
    model_cfg = {k: cfg[k] for k in ('vocab_size', 'n_layer', 'n_embd', 'n_head', 'n_ctx')}
    model = load_model(cfg['cache'], model_cfg)
    t0 = time.time()
    n_w = cfg['sae_tokens'] // cfg['n_ctx'] // len(VOICES) + 1
    win, _ = sample_windows(cfg, 'train', n_w, SEED + 1)
    acts = residuals(model, win, cfg['sae_layer'])
    log(f'sae: cached {acts.shape[0]} activations in {time.time()-t0:.0f}s; mean norm {acts.float()[:20000].norm(dim=1).mean():.2f}')
    sae = train_sae(cfg, acts)
    del acts
    f16_round(sae)
    save_sae(cfg, sae)
    val, _ = sample_windows(cfg, 'val', 30 if cfg['thresholds'] else 4, SEED + 2)
    m = sae_metrics(model, sae, cfg, val)
    m.pop('density')
    m['train_seconds'] = round(time.time() - t0, 1)
    m['train_tokens'] = int(n_w * len(VOICES) * cfg['n_ctx'])
    write_json(os.path.join(cfg['cache'], 'sae_metrics.json'), m, indent=1)
    log(f'sae metrics: {m}')


if __name__ == '__main__':
    main()
