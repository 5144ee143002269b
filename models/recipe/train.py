"""Stage 3: train the GPT-2 LM on windows sampled across the voices by their mixture weights (AdamW, cosine LR)."""
import math
from common import *
torch = setup_torch()
from model import GPT2LMHeadModel, n_params


def load_tokens(cfg, split):
    d = os.path.join(cfg['cache'], 'corpus')
    return [np.load(os.path.join(d, f"{v['id']}.{split}.npy")).astype(np.int64) for v in VOICES]


def batch(rng, toks, B, T, mix):
    xs = []
    for v in rng.choice(len(toks), size=B, p=mix):
        a = toks[v]
        s = rng.integers(0, len(a) - T - 1)
        xs.append(a[s:s + T + 1])
    x = torch.from_numpy(np.stack(xs))
    return x[:, :-1], x[:, 1:]


@torch.no_grad()
def evaluate(model, vals, T, max_windows=40):
    model.eval()
    res = {}
    for v, a in zip(VOICES, vals):
        n = min(max_windows, (len(a) - 1) // T)
        xs = torch.from_numpy(np.stack([a[i * T:i * T + T + 1] for i in range(n)]))
        tot = 0.0
        for j in range(0, n, 8):
            x = xs[j:j + 8]
            lg, _ = model.run(x[:, :-1])
            tot += torch.nn.functional.cross_entropy(lg.reshape(-1, lg.shape[-1]), x[:, 1:].reshape(-1), reduction='sum').item()
        res[v['id']] = tot / (n * T)
    model.train()
    return res


def main():
    cfg = get_cfg()
    seed_all()
    model_cfg = {k: cfg[k] for k in ('vocab_size', 'n_layer', 'n_embd', 'n_head', 'n_ctx')}
    ck = os.path.join(cfg['cache'], 'model.pt')
    if os.path.exists(ck) and '--force' not in sys.argv:
        sd = torch.load(ck)
        if sd.get('done') and sd.get('model_cfg') == model_cfg and sd.get('max_steps') == cfg['max_steps'] \
                and sd.get('mix') == np.round(voice_mix(), 6).tolist():
            log('train: checkpoint complete, skipping (use --force to retrain)')
            return
    model = GPT2LMHeadModel(model_cfg)
    log(f'train: {n_params(model)} parameters')
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': cfg['weight_decay']},
                             {'params': nodecay, 'weight_decay': 0.0}], lr=cfg['lr'], betas=(0.9, 0.95))
    tr, va = load_tokens(cfg, 'train'), load_tokens(cfg, 'val')
    rng = np.random.default_rng(SEED)
    mix = voice_mix()
    log(f'train: voice mixture {dict(zip([v["id"] for v in VOICES], np.round(mix, 3).tolist()))}')
    T, B, S = cfg['n_ctx'], cfg['batch_size'], cfg['max_steps']
    step0 = 0
    prev_elapsed = 0.0
    part = ck + '.partial'
    if os.path.exists(part):
        sd = torch.load(part)
        if sd.get('model_cfg') == model_cfg and sd.get('max_steps') == S and sd.get('mix') == np.round(mix, 6).tolist():
            model.load_state_dict(sd['model']); opt.load_state_dict(sd['opt']); step0 = sd['step']
            prev_elapsed = sd.get('elapsed', float(os.environ.get('VOICES_PREV_ELAPSED', '0')))
            rng = np.random.default_rng(SEED + step0)
            log(f'train: resuming at step {step0}')
    t0 = time.time() - prev_elapsed
    budget = cfg['time_budget_min'] * 60
    bound = 'steps'
    hist = []
    step = step0
    model.train()
    for step in range(step0, S):
        # cosine over max(step progress, wall-clock progress), where the wall clock only counts in the second half of
        # the budget: a run that finishes within half the budget (an idle 2-core box: ~31 of 75 min) is purely
        # step-bound, so deterministic; on a loaded machine the wall-clock budget binds and the schedule still anneals
        # fully before it ends.
        el = time.time() - t0
        prog_steps = (step - cfg['warmup']) / max(1, S - cfg['warmup'])
        prog_time = max(0.0, el / budget - 0.5) * 2
        if prog_time > prog_steps and step >= cfg['warmup']:
            bound = 'wall-clock'
        prog = min(1.0, max(prog_steps, prog_time))
        lr_ = cfg['lr'] * (step + 1) / cfg['warmup'] if step < cfg['warmup'] else \
            cfg['lr'] * (cfg['min_lr_frac'] + (1 - cfg['min_lr_frac']) * 0.5 * (1 + math.cos(math.pi * prog)))
        for g in opt.param_groups:
            g['lr'] = lr_
        x, y = batch(rng, tr, B, T, mix)
        lg, _ = model.run(x)
        loss = torch.nn.functional.cross_entropy(lg.reshape(-1, lg.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == S - 1:
            el = time.time() - t0
            tps = (step - step0 + 1) * B * T / max(el, 1e-6)
            log(f'step {step}/{S} loss {loss.item():.3f} lr {lr_:.2e} {tps:.0f} tok/s elapsed {el/60:.1f} min')
            hist.append(dict(step=step, loss=round(loss.item(), 4), elapsed_s=round(el, 1)))
        if (step + 1) % cfg['ckpt_every'] == 0 and step + 1 < S:
            torch.save(dict(model=model.state_dict(), opt=opt.state_dict(), step=step + 1, model_cfg=model_cfg, max_steps=S,
                            mix=np.round(mix, 6).tolist(), elapsed=time.time() - t0), part)
            log(f"val: { {k: round(v, 3) for k, v in evaluate(model, va, T, 10).items()} }")
        if time.time() - t0 > budget or prog >= 1.0 and step >= cfg['warmup'] and bound == 'wall-clock':
            log(f'train: wall-clock budget of {cfg["time_budget_min"]} min reached at step {step+1}/{S}')
            break
    el = time.time() - t0
    val = evaluate(model, va, T)
    log(f'val loss: {val}')
    torch.save(dict(model=model.state_dict(), model_cfg=model_cfg, max_steps=S, steps_done=step + 1, done=True,
                    mix=np.round(mix, 6).tolist(),
                    train_seconds=el, tokens_seen=(step + 1) * B * T, val_loss=val, history=hist,
                    n_params=n_params(model), schedule_bound=bound, time_budget_min=cfg['time_budget_min']), ck)
    if os.path.exists(part):
        os.remove(part)


if __name__ == '__main__':
    main()
