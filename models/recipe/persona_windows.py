"""The texts behind personas.json's difference-of-means vectors, for the persona lab's browser test.

analyze.py computes each voice's vector from `sample_windows(cfg, 'train', 40, SEED + 3)` (40 windows of n_ctx
tokens per voice, position 0 skipped). This script rebuilds those windows from the Debian-packaged corpus
(corpus.py, about 10 s; checked against the shipped manifest's sha256) encoded with the shipped tokenizer, decodes
each window to text and writes them as JSON:
    {"windows_seed": 1237, "n_ctx": 256, "voices": [{"id": "preacher", "texts": [...40 strings]}, ...],
     "reencoded_exact": <windows whose text re-encodes to the same ids>}
    python3 persona_windows.py [out.json]   (default: models/.cache/persona-windows.json, an ignored path)
"""
from common import *
from bpe import load_encoder


def main():
    out_path = next((a for a in sys.argv[1:] if not a.startswith('--')), os.path.join(CACHE, 'persona-windows.json'))
    cfg = dict(FULL)
    shipped = read_json(os.path.join(cfg['out'], 'manifest.json'))
    corpus = os.path.join(cfg['cache'], 'corpus')
    if not all(os.path.exists(os.path.join(corpus, f"{v['id']}.train.txt")) for v in VOICES):
        import subprocess
        subprocess.run([sys.executable, 'corpus.py'], cwd=os.path.dirname(os.path.abspath(__file__)), check=True)
    enc = load_encoder(cfg['out'])
    T = cfg['n_ctx']
    # sample_windows (sae.py): one generator for all voices, in VOICES order
    rng = np.random.default_rng(SEED + 3)
    voices, exact = [], 0
    for v, m in zip(VOICES, shipped['voices']):
        text = open(os.path.join(corpus, f"{v['id']}.train.txt")).read()
        if sha256_bytes(text.encode()) != m['sha256_train']:
            raise SystemExit(f"{v['id']}: rebuilt corpus differs from the shipped manifest (sha256_train); packages changed?")
        t0 = time.time()
        a = np.array(enc.encode(text), dtype=np.int64)
        starts = rng.integers(0, len(a) - T - 1, 40).tolist()
        texts = []
        for s in starts:
            ids = a[s:s + T].tolist()
            t = enc.decode(ids)
            exact += enc.encode(t) == ids
            texts.append(t)
        voices.append(dict(id=v['id'], texts=texts))
        log(f"{v['id']}: {len(a)} tokens, 40 windows ({time.time() - t0:.0f}s)")
    write_json(out_path, dict(windows_seed=SEED + 3, n_ctx=T, voices=voices, reencoded_exact=exact))
    log(f'{out_path}: {exact}/{40 * len(VOICES)} windows re-encode to the same ids')


if __name__ == '__main__':
    main()
