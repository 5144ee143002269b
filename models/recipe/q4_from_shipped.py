"""build.sh --q4-from-shipped: the shipped q4 graphs (the base's and every variant folder's that variants.json lists,
plus any variant q4 graphs in <cache>/variants/q4) rebuilt with the int8 token embedding of export.int8_embedding,
without retraining: the base's embedding rows come from the shipped fp32 onnx/model.onnx, a variant's from its own
q4 graph's fp32 table (a variant ships no fp32 graph); the MatMulNBits weights (GPTQ, block and lm_head) are kept
byte for byte. A graph whose embedding is already int8 is checked against the int8 rows of its source table (base)
and left as it is, so a second run changes nothing. Then writes the held-out windows for parity.mjs --q4-only (the
same windows as export.parity_fixtures: the corpus cache's held-out splits encoded by the shipped tokenizer)."""
import onnx
from onnx import numpy_helper
from common import *
from export import int8_embedding, int8_rows, WTE_INT8, WTE_SCALE

WTE = 'transformer.wte.weight'


def convert(path, table=None):
    """Rewrites the q4 graph at `path` with the int8 embedding (rows from `table`, default its own fp32 table).
    Returns 'converted' or 'up to date'. Raises ValueError when an int8 graph does not hold the rows of `table`."""
    m = onnx.load(path)
    inits = {t.name: t for t in m.graph.initializer}
    if WTE + WTE_INT8 in inits:
        if table is not None:
            codes, scale = int8_rows(table)
            if not (np.array_equal(numpy_helper.to_array(inits[WTE + WTE_INT8]), codes)
                    and np.array_equal(numpy_helper.to_array(inits[WTE + WTE_SCALE]), scale)):
                raise ValueError(f'{path}: its int8 embedding is not the int8 rows of the fp32 model.onnx table')
        return 'up to date'
    if table is not None and not np.array_equal(numpy_helper.to_array(inits[WTE]), table):
        raise ValueError(f"{path}: its fp32 embedding differs from model.onnx's")
    saved = int8_embedding(m, WTE, table)
    onnx.checker.check_model(m)
    before = os.path.getsize(path)
    onnx.save(m, path)
    log(f'{os.path.relpath(path, ROOT)}: {before/1e6:.2f} -> {os.path.getsize(path)/1e6:.2f} MB ({saved/1e6:.2f} MB of embedding saved)')
    return 'converted'


def q4_windows(cfg, enc):
    """export.parity_fixtures' held-out windows (same generator, same draws), from the corpus cache's held-out text."""
    d = os.path.join(cfg['cache'], 'corpus')
    rng = np.random.default_rng(SEED)
    W = min(128, cfg['n_ctx'])
    windows = []
    for v in VOICES:
        p = os.path.join(d, f"{v['id']}.val.npy")
        if not os.path.exists(p):
            np.save(p, np.array(enc.encode(open(os.path.join(d, f"{v['id']}.val.txt")).read()), dtype=np.int16 if cfg['vocab_size'] < 32768 else np.int32))
        a = np.load(p).astype(np.int64)
        for j in range(4 if cfg['thresholds'] else 1):
            s = int(rng.integers(0, len(a) - W - 1))
            windows.append(dict(voice=v['id'], ids=a[s:s + W].tolist()))
    return windows


def record(cfg):
    """--record: parity.mjs --q4-only's results into eval.json (onnx.q4, the onnx.q4_top1_agreement threshold row,
    all_passed) and the model card's figures (its parity line and evaluation table row). Raises SystemExit when the
    agreement is under the threshold (full build only, as parity.mjs --thresholds)."""
    out = cfg['out']
    q4 = read_json(os.path.join(cfg['cache'], 'q4_parity_results.json'))
    ev = read_json(os.path.join(out, 'eval.json'))
    ev['onnx']['q4'] = q4
    for t in ev.get('thresholds', []):
        if t['metric'] == 'onnx.q4_top1_agreement':
            t['value'] = q4['top1_agreement']
            t['passed'] = bool(t['value'] >= t['threshold'])
    if 'thresholds' in ev:
        ev['all_passed'] = all(t['passed'] for t in ev['thresholds'])
    write_json(os.path.join(out, 'eval.json'), ev, indent=1)
    card = os.path.join(out, 'README.md')
    if os.path.exists(card):
        import re
        s = open(card).read()
        s = re.sub(r'q4 vs fp32 top-1 agreement [0-9.]+ on(\s+)[0-9]+ held-out positions',
                   lambda mt: f"q4 vs fp32 top-1 agreement {q4['top1_agreement']:.4f} on{mt.group(1)}{q4['positions']} held-out positions", s)
        s = re.sub(r'\| onnx\.q4_top1_agreement \| [0-9.]+ \| >= ([0-9.]+) \| (yes|NO) \|',
                   lambda mt: f"| onnx.q4_top1_agreement | {q4['top1_agreement']:.4g} | >= {mt.group(1)} | "
                              f"{'yes' if q4['top1_agreement'] >= float(mt.group(1)) else 'NO'} |", s)
        open(card, 'w').write(s)
    log(f"q4 top-1 agreement {q4['top1_agreement']:.4f} on {q4['positions']} positions recorded in eval.json and the card")
    if cfg['thresholds'] and q4['top1_agreement'] < 0.95:
        raise SystemExit(f"q4 top-1 agreement {q4['top1_agreement']} < 0.95")


def main():
    cfg = get_cfg()
    if '--record' in sys.argv:
        return record(cfg)
    out = cfg['out']
    fp32 = onnx.load(os.path.join(out, 'onnx', 'model.onnx'))
    table = next(numpy_helper.to_array(t) for t in fp32.graph.initializer if t.name == WTE)
    log(f"base: {convert(os.path.join(out, 'onnx', 'model_q4.onnx'), table)}")
    vj = os.path.join(out, 'variants.json')
    folders = [v['folder'] for v in read_json(vj)['variants'] if v['folder'] != './'] if os.path.exists(vj) else []
    for f in folders:
        log(f"{f}: {convert(os.path.normpath(os.path.join(out, f, 'onnx', 'model_q4.onnx')))}")
    qd = os.path.join(cfg['cache'], 'variants', 'q4')
    for f in sorted(os.listdir(qd)) if os.path.isdir(qd) else []:
        if f.endswith('.onnx') and not f.endswith('.fp32.onnx'):
            log(f"cache {f}: {convert(os.path.join(qd, f))}")
    from bpe import load_encoder
    write_json(os.path.join(cfg['cache'], 'q4_windows.json'), dict(windows=q4_windows(cfg, load_encoder(out))))


if __name__ == '__main__':
    main()
