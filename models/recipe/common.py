"""Shared configuration and helpers for the Voices recipe."""
import json, os, sys, time, hashlib, random
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # models/
CACHE = os.path.join(ROOT, '.cache')

VOICES = [
    # name, id, package(s), licence
    dict(id='preacher', name='Preacher', source='King James Bible (Authorized Version, 1611)',
         packages=['bible-kjv-text', 'bible-kjv'], licence='Public domain (text); Debian package GPL-2+ tools',
         description='Early-modern English scripture: thee, thou, hath, begat, the LORD.',
         # share of training windows relative to the others: scripture's "and ... the LORD" chaining is the strongest
         # attractor for register-less prompts, so it gets fewer windows (see the model card, "Training mixture")
         mix=0.6),
    dict(id='manual', name='Manual', source='Linux man-pages project, sections 2, 3, 4, 5, 7 (roff stripped to plain text)',
         packages=['manpages', 'manpages-dev'], licence='Linux-man-pages-copyleft and other free licences (see /usr/share/doc/manpages/copyright)',
         description='Terse technical reference prose: functions, flags, return values, errno.'),
    dict(id='lexicographer', name='Lexicographer', source="GCIDE (Webster's Revised Unabridged Dictionary, 1913)",
         packages=['dict-gcide'], licence='GPL-3+ (GCIDE); Webster 1913 text public domain',
         description='Dictionary definitions: headwords, parts of speech, etymologies, senses.'),
    dict(id='novelist', name='Novelist', source='Jane Austen, the six completed novels (janeaustenr)',
         packages=['r-cran-janeaustenr'], licence='Public domain (text); package MIT',
         description='Regency-era narrative prose: manners, marriage, Mr. Darcy and Miss Bennet.'),
    dict(id='hacker', name='Hacker', source='The Jargon File 4.4.7',
         packages=['dict-jargon'], licence='Public domain',
         description='Hacker slang lexicon: Unix, kludges, flames, bogosity.'),
]
APT_PACKAGES = ['bible-kjv-text', 'bible-kjv', 'manpages', 'manpages-dev', 'dict-gcide', 'dict-jargon',
                'r-cran-janeaustenr', 'python3-regex', 'python3-onnx', 'python3-torch', 'python3-numpy',
                'libopenblas0-pthread']

FULL = dict(
    name='voices', out=os.path.join(ROOT, 'voices'), cache=os.path.join(CACHE, 'full'),
    max_bytes_per_voice=4_000_000, val_frac=0.05,
    vocab_size=4096, n_layer=4, n_embd=256, n_head=4, n_ctx=256,
    batch_size=16, lr=2e-3, min_lr_frac=0.1, warmup=100, weight_decay=0.1, max_steps=1300,
    time_budget_min=float(os.environ.get('VOICES_TRAIN_MINUTES', '75')), ckpt_every=50,
    sae_layer=1, d_sae=2048, sae_k=32, sae_tokens=2_500_000, sae_batch=1024, sae_lr=1e-3, sae_epochs=1,
    n_features_examples=5, snippet_len=12, n_latents_persona=8,
    eval_new_tokens=48, thresholds=True, feature_scan_tokens=400_000,
)
SMOKE = dict(
    name='voices-smoke', out=os.path.join(ROOT, 'voices-smoke'), cache=os.path.join(CACHE, 'smoke'),
    max_bytes_per_voice=40_000, val_frac=0.1,
    vocab_size=512, n_layer=1, n_embd=32, n_head=2, n_ctx=64,
    batch_size=8, lr=3e-3, min_lr_frac=0.1, warmup=5, weight_decay=0.1, max_steps=30,
    time_budget_min=1.0, ckpt_every=20,
    sae_layer=0, d_sae=64, sae_k=8, sae_tokens=20_000, sae_batch=256, sae_lr=1e-3, sae_epochs=1,
    n_features_examples=5, snippet_len=8, n_latents_persona=4,
    eval_new_tokens=8, thresholds=False, feature_scan_tokens=10_000,
)
# developer check of the later stages on a partial checkpoint (full architecture, small SAE / scan budgets)
DEV = dict(FULL, name='voices-dev', out=os.path.join(CACHE, 'dev', 'out'), cache=os.path.join(CACHE, 'dev'),
           sae_tokens=40_000, feature_scan_tokens=400_000, thresholds=True)
SEED = 1234
EOT = '<|endoftext|>'


def voice_mix():
    """Sampling probability of each voice's training windows (VOICES order)."""
    w = np.array([v.get('mix', 1.0) for v in VOICES], dtype=np.float64)
    return w / w.sum()


def get_cfg(argv=None):
    argv = sys.argv if argv is None else argv
    cfg = dict(SMOKE if '--smoke' in argv else DEV if '--dev' in argv else FULL)
    os.makedirs(cfg['out'], exist_ok=True)
    os.makedirs(cfg['cache'], exist_ok=True)
    return cfg


def log(*a):
    print(time.strftime('[%H:%M:%S]'), *a, flush=True)


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def write_json(path, obj, indent=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write('\n')


def read_json(path):
    with open(path) as f:
        return json.load(f)


def seed_all(seed=SEED):
    import torch
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)


def setup_torch():
    import torch
    torch.set_num_threads(int(os.environ.get('VOICES_THREADS', '2')))
    return torch


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> numpy array (float32 / float16 / int64)."""
    dt = {np.dtype('float32'): 'F32', np.dtype('float16'): 'F16', np.dtype('int64'): 'I64', np.dtype('int32'): 'I32'}
    header = {}
    off = 0
    blobs = []
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        b = a.tobytes()
        header[k] = dict(dtype=dt[a.dtype], shape=list(a.shape), data_offsets=[off, off + len(b)])
        off += len(b)
        blobs.append(b)
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(len(h).to_bytes(8, 'little'))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    npdt = {'F32': np.float32, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32}
    with open(path, 'rb') as f:
        data = f.read()
    n = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        s, e = v['data_offsets']
        out[k] = np.frombuffer(data[8 + n + s:8 + n + e], dtype=npdt[v['dtype']]).reshape(v['shape'])
    return out
