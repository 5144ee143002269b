"""Stage 7b: the q4 graph of every fine-tuned model (each narrow checkpoint, control, realigned) through export.py's
own path (fp32 export, tied lm_head Gemm, residual-node check, GPTQ 4-bit MatMulNBits with the same block sizes and
calibration text as the base's q4 graph), into <cache>/variants/q4/<name>.onnx. emergence.py reads them back (the
dequantised weights the page runs) and publishes the ones variants.json ships."""
from common import *
torch = setup_torch()
import onnx
from model import GPT2LMHeadModel
from export import export_fp32, fix_lm_head, check_graph, quantize_q4, calibration_hessians
from finetune import model_cfg_of


def variant_names(d):
    """Every fine-tuned model in the cache, chain order first (narrow-step-S by S), then control, realigned."""
    steps = sorted(int(f[len('narrow-step-'):-3]) for f in os.listdir(d) if f.startswith('narrow-step-') and f.endswith('.pt'))
    return [f'narrow-step-{s}' for s in steps] + [n for n in ('control', 'realigned') if os.path.exists(os.path.join(d, f'{n}.pt'))]


def load_variant(d, name, cfg):
    m = GPT2LMHeadModel(model_cfg_of(cfg))
    m.load_state_dict(torch.load(os.path.join(d, f'{name}.pt')))
    m.eval()
    return m


def main():
    cfg = get_cfg()
    d = os.path.join(cfg['cache'], 'variants')
    qd = os.path.join(d, 'q4')
    os.makedirs(qd, exist_ok=True)
    t0 = time.time()
    for name in variant_names(d):
        t = time.time()
        qp, pt = os.path.join(qd, f'{name}.onnx'), os.path.join(d, f'{name}.pt')
        if os.path.exists(qp) and os.path.getmtime(qp) > os.path.getmtime(pt):
            log(f'q4 {name}: up to date')
            continue
        model = load_variant(d, name, cfg)
        with torch.no_grad():
            m, wte_name = export_fp32(model, cfg, os.path.join(qd, f'{name}.fp32.onnx'))
        fix_lm_head(m, cfg, wte_name)
        check_graph(m, cfg)
        mq = quantize_q4(m, cfg, wte_name, hessians=calibration_hessians(model, cfg))
        onnx.checker.check_model(mq)
        onnx.save(mq, os.path.join(qd, f'{name}.onnx'))
        log(f'q4 {name}: {os.path.getsize(os.path.join(qd, name + ".onnx"))/1e6:.2f} MB in {time.time()-t:.0f}s')
    log(f'variants_export done in {time.time()-t0:.0f}s')


if __name__ == '__main__':
    main()
