"""Stage 4: config.json + ONNX export (fp32, single graph, KV cache, Optimum naming) + q4 (MatMulNBits) +
parity fixtures for parity.mjs (onnxruntime-node)."""
import onnx
from onnx import helper, numpy_helper, TensorProto
from common import *
torch = setup_torch()
from model import GPT2LMHeadModel, load_model, n_params


def config_json(cfg, eot_id):
    return {
        'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2',
        'vocab_size': cfg['vocab_size'], 'n_positions': cfg['n_ctx'], 'n_ctx': cfg['n_ctx'],
        'n_embd': cfg['n_embd'], 'n_layer': cfg['n_layer'], 'n_head': cfg['n_head'], 'n_inner': None,
        'activation_function': 'gelu_new', 'layer_norm_epsilon': 1e-5, 'initializer_range': 0.02,
        'resid_pdrop': 0.0, 'embd_pdrop': 0.0, 'attn_pdrop': 0.0, 'scale_attn_weights': True,
        'use_cache': True, 'bos_token_id': eot_id, 'eos_token_id': eot_id, 'tie_word_embeddings': True,
        'torch_dtype': 'float32',
        'transformers.js_config': {'use_external_data_format': False, 'dtype': 'fp32',
                                   'kv_cache_dtype': {'fp32': 'float32', 'q4': 'float32'}},
        'voices': {'sae_hook': f"blocks.{cfg['sae_layer']}.hook_resid_post",
                   'residual_tensors': {f'blocks.{i}.hook_resid_post': f'/transformer/h.{i}/Add_1_output_0'
                                        for i in range(cfg['n_layer'])}},
    }


def export_fp32(model, cfg, path):
    L, H, D = cfg['n_layer'], cfg['n_head'], cfg['n_embd'] // cfg['n_head']
    B, T, P = 1, 3, 2
    ids = torch.randint(0, cfg['vocab_size'], (B, T))
    mask = torch.ones(B, P + T, dtype=torch.long)
    pos = torch.arange(P, P + T).unsqueeze(0)
    past = []
    in_names = ['input_ids', 'attention_mask', 'position_ids']
    out_names = ['logits']
    dyn = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
           'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
           'position_ids': {0: 'batch_size', 1: 'sequence_length'},
           'logits': {0: 'batch_size', 1: 'sequence_length'}}
    for i in range(L):
        for kv in ('key', 'value'):
            past.append(torch.randn(B, H, P, D))
            n = f'past_key_values.{i}.{kv}'; in_names.append(n); dyn[n] = {0: 'batch_size', 2: 'past_sequence_length'}
            n = f'present.{i}.{kv}'; out_names.append(n); dyn[n] = {0: 'batch_size', 2: 'total_sequence_length'}
    tmp = path + '.tmp'
    torch.onnx.export(model, (ids, mask, pos, *past), tmp, input_names=in_names, output_names=out_names,
                      dynamic_axes=dyn, opset_version=17, do_constant_folding=True)
    m = onnx.load(tmp)
    os.remove(tmp)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    wte_name = None
    for n in g.node:
        if n.op_type == 'Gather' and n.input[0] in inits and numpy_helper.to_array(inits[n.input[0]]).shape == (cfg['vocab_size'], cfg['n_embd']):
            wte_name = n.input[0]
    assert wte_name, 'wte Gather not found'
    return m, wte_name


def fix_lm_head(m, cfg, wte_name):
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    wte = numpy_helper.to_array(inits[wte_name])
    for n in g.node:
        if n.op_type == 'Gemm' and wte_name in n.input:
            return
        if n.op_type in ('MatMul', 'Gemm') and len(n.input) >= 2 and n.input[1] in inits and n.input[1] != wte_name:
            w = numpy_helper.to_array(inits[n.input[1]])
            if w.shape == (cfg['n_embd'], cfg['vocab_size']) and np.array_equal(w, wte.T):
                a = n.input[0]
                dead = n.input[1]
                new = helper.make_node('Gemm', [a, wte_name], list(n.output), name='/lm_head/Gemm', transB=1)
                idx = list(g.node).index(n)
                g.node.remove(n); g.node.insert(idx, new)
                used = any(dead in x.input for x in g.node)
                if not used:
                    g.initializer.remove(inits[dead])
                return
    raise RuntimeError('lm_head MatMul on transposed wte not found')


def check_graph(m, cfg):
    names = {n.name for n in m.graph.node}
    outs = {o for n in m.graph.node for o in n.output}
    need = ['/transformer/Add'] + [f'/transformer/h.{i}/Add' for i in range(cfg['n_layer'])] + \
           [f'/transformer/h.{i}/Add_1' for i in range(cfg['n_layer'])]
    missing = [n for n in need if n not in names or n + '_output_0' not in outs]
    assert not missing, f'missing residual nodes: {missing}'
    assert not any(n.op_type in ('If', 'Loop') for n in m.graph.node)
    # the residual Adds must be the 3-D residual chain: block i's Add_1 consumes block i's Add
    byname = {n.name: n for n in m.graph.node}
    for i in range(cfg['n_layer']):
        prev = '/transformer/Add_output_0' if i == 0 else f'/transformer/h.{i-1}/Add_1_output_0'
        assert prev in byname[f'/transformer/h.{i}/Add'].input, f'residual chain broken at block {i}'
        assert f'/transformer/h.{i}/Add_output_0' in byname[f'/transformer/h.{i}/Add_1'].input
    return need


def quantize_q4(m, cfg, wte_name, block=32, lm_block=16, hessians=None):
    """Replace the MatMul weights of the blocks and the lm_head Gemm with com.microsoft MatMulNBits (4-bit,
    asymmetric with uint8 zero points; block_size 32 for the blocks, 16 for the tied lm_head, which dominates the
    top-1 error). The embedding Gather then reads int8 rows (int8_embedding)."""
    m = onnx.ModelProto.FromString(m.SerializeToString())
    g = m.graph
    inits = {t.name: t for t in g.initializer}

    def group_params(wg):
        """asymmetric 4-bit range for each row of wg [N, g]: min-squared-error search over shrunk [min, max]."""
        mn, mx = np.minimum(wg.min(1, keepdims=True), 0), np.maximum(wg.max(1, keepdims=True), 0)
        best_err = np.full((wg.shape[0], 1), np.inf)
        bs_, bz = None, None
        for shrink in np.linspace(0.6, 1.0, 17):
            lo, hi = mn * shrink, mx * shrink
            scale = np.where(hi - lo > 0, (hi - lo) / 15.0, 1.0)
            zp = np.clip(np.round(-lo / scale), 0, 15)
            code = np.clip(np.round(wg / scale) + zp, 0, 15)
            err = (((code - zp) * scale - wg) ** 2).sum(1, keepdims=True)
            better = err < best_err
            best_err = np.where(better, err, best_err)
            bs_ = scale if bs_ is None else np.where(better, scale, bs_)
            bz = zp if bz is None else np.where(better, zp, bz)
        return bs_, bz

    def q(w_nk, name, block=block, H=None):
        """4-bit, asymmetric, per block of `block` along K. With H (= X^T X of the layer input on calibration
        text) the codes are chosen by GPTQ (error feedback through the inverse Hessian); otherwise round to nearest."""
        N, K = w_nk.shape
        assert K % block == 0
        nb = K // block
        W = w_nk.astype(np.float64).copy()
        codes = np.zeros((N, K), np.uint8)
        scales = np.zeros((N, nb)); zps = np.zeros((N, nb))
        if H is not None:
            H = H.astype(np.float64).copy()
            dead = np.diag(H) == 0
            H[dead, dead] = 1
            H += np.eye(K) * 0.01 * np.mean(np.diag(H))
            U = np.linalg.cholesky(np.linalg.inv(H)).T  # upper
        for i in range(K):
            if i % block == 0:
                sc, zp = group_params(W[:, i:i + block])
                scales[:, i // block] = sc[:, 0]; zps[:, i // block] = zp[:, 0]
            sc, zp = scales[:, i // block], zps[:, i // block]
            c = np.clip(np.round(W[:, i] / sc) + zp, 0, 15)
            codes[:, i] = c
            if H is not None:
                err = (W[:, i] - (c - zp) * sc) / U[i, i]
                W[:, i + 1:] -= np.outer(err, U[i, i + 1:])
        code = codes.reshape(N, nb, block)
        packed = (code[:, :, 0::2] | (code[:, :, 1::2] << 4)).astype(np.uint8)
        zpf = zps.astype(np.uint8)
        if nb % 2:
            zpf = np.concatenate([zpf, np.zeros((N, 1), np.uint8)], 1)
        zpp = (zpf[:, 0::2] | (zpf[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
        return (numpy_helper.from_array(packed, name + '_Q4'),
                numpy_helper.from_array(scales.reshape(-1).astype(np.float32), name + '_scales'),
                numpy_helper.from_array(zpp, name + '_zp'))
    new_nodes = []
    n_q = 0
    for n in g.node:
        if n.op_type == 'MatMul' and n.input[1] in inits and n.name.startswith('/transformer/h.'):
            w = numpy_helper.to_array(inits[n.input[1]])  # [K, N]
            K, N = w.shape
            B, S, Z = q(w.T.copy(), n.input[1], H=(hessians or {}).get(n.input[1]))
            g.initializer.extend([B, S, Z])
            new_nodes.append(helper.make_node('MatMulNBits', [n.input[0], B.name, S.name, Z.name], list(n.output),
                                              name=n.name + '_Q4', domain='com.microsoft', K=K, N=N, bits=4,
                                              block_size=block))
            n_q += 1
        elif n.op_type == 'Gemm' and wte_name in n.input:
            w = numpy_helper.to_array(inits[wte_name])  # [N=vocab, K=d]
            N, K = w.shape
            B, S, Z = q(w, 'lm_head.weight', lm_block, H=(hessians or {}).get('lm_head'))
            g.initializer.extend([B, S, Z])
            new_nodes.append(helper.make_node('MatMulNBits', [n.input[0], B.name, S.name, Z.name], list(n.output),
                                              name='/lm_head/MatMul_Q4', domain='com.microsoft', K=K, N=N, bits=4,
                                              block_size=lm_block))
            n_q += 1
        else:
            new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    used = {i for n in g.node for i in n.input}
    for t in list(g.initializer):
        if t.name not in used:
            g.initializer.remove(t)
    if not any(o.domain == 'com.microsoft' for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid('com.microsoft', 1))
    assert n_q == 4 * cfg['n_layer'] + 1, n_q
    int8_embedding(m, wte_name)
    return m


WTE_INT8, WTE_SCALE = '_int8', '_scale'


def int8_rows(w):
    """Symmetric int8 codes of w [V, d] with one fp32 scale per row: scale = max|row| / 127 (1 for an all-zero row),
    code = round(w / scale) in [-127, 127]. Returns (codes int8 [V, d], scales float32 [V, 1]); the values onnxruntime
    computes are float32(code) * scale."""
    w = np.asarray(w, np.float32)
    amax = np.abs(w).max(1, keepdims=True)
    scale = np.where(amax > 0, amax / np.float32(127), np.float32(1)).astype(np.float32)
    codes = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return codes, scale


def int8_embedding(m, wte_name, table=None):
    """In place: the token embedding Gather of a q4 graph (whose tied lm_head is already its own MatMulNBits, so the
    fp32 table only feeds this Gather) reads int8 codes with one fp32 scale per vocabulary row (int8_rows), in
    standard ONNX ops both onnxruntime-web execution providers run: Gather(codes) -> Cast(float) and
    Gather(scales [V, 1]), multiplied, into the original Gather's output tensor (so the residual taps and their
    element type are unchanged). `table` overrides the fp32 table (default: the graph's own initializer `wte_name`).
    Returns the number of bytes saved. Raises ValueError when the table feeds anything but one Gather."""
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    users = [n for n in g.node if wte_name in n.input]
    if len(users) != 1 or users[0].op_type != 'Gather' or users[0].input[0] != wte_name:
        raise ValueError(f'{wte_name} feeds {[(n.op_type, n.name) for n in users]}, not one embedding Gather')
    gather = users[0]
    w = numpy_helper.to_array(inits[wte_name]) if table is None else np.asarray(table, np.float32)
    codes, scale = int8_rows(w)
    ids, out, base = gather.input[1], gather.output[0], gather.name
    q_out, s_out, c_out = out + WTE_INT8, out + WTE_SCALE, base + '/Cast_output_0'
    nodes = [
        helper.make_node('Gather', [wte_name + WTE_INT8, ids], [q_out], name=base, axis=0),
        helper.make_node('Cast', [q_out], [c_out], name=base + '/Cast', to=TensorProto.FLOAT),
        helper.make_node('Gather', [wte_name + WTE_SCALE, ids], [s_out], name=base + '_scale', axis=0),
        # input 0 is the Cast, so the output's element type is found by following input 0 (src/lib/graph/dtype.ts)
        helper.make_node('Mul', [c_out, s_out], [out], name=base + '/Mul'),
    ]
    idx = list(g.node).index(gather)
    g.node.remove(gather)
    for k, n in enumerate(nodes):
        g.node.insert(idx + k, n)
    before = inits[wte_name].ByteSize()
    g.initializer.remove(inits[wte_name])
    g.initializer.extend([numpy_helper.from_array(codes, wte_name + WTE_INT8),
                          numpy_helper.from_array(scale, wte_name + WTE_SCALE)])
    return before - codes.nbytes - scale.nbytes


@torch.no_grad()
def calibration_hessians(model, cfg, n_windows=48):
    """X^T X of the input of every Conv1D weight and of the lm_head, on training windows (GPTQ calibration)."""
    from model import Conv1D
    rng = np.random.default_rng(SEED + 9)
    d = os.path.join(cfg['cache'], 'corpus')
    T = cfg['n_ctx']
    ws = []
    for v in VOICES:
        a = np.load(os.path.join(d, f"{v['id']}.train.npy")).astype(np.int64)
        for s in rng.integers(0, len(a) - T - 1, max(1, n_windows // len(VOICES))):
            ws.append(a[s:s + T])
    X = torch.from_numpy(np.stack(ws))
    Hs = {}
    hooks = []
    for name, mod in model.named_modules():
        if isinstance(mod, Conv1D):
            def fh(m, inp, out, key=name + '.weight'):
                x = inp[0].reshape(-1, inp[0].shape[-1]).double()
                Hs[key] = Hs.get(key, 0) + (x.t() @ x).numpy()
            hooks.append(mod.register_forward_hook(fh))
    for j in range(0, len(X), 8):
        h, _ = model.transformer(X[j:j + 8], torch.ones_like(X[j:j + 8]), torch.arange(T).expand(len(X[j:j + 8]), T), None)
        x = h.reshape(-1, h.shape[-1]).double()
        Hs['lm_head'] = Hs.get('lm_head', 0) + (x.t() @ x).numpy()
    for hk in hooks:
        hk.remove()
    return Hs


def parity_fixtures(model, cfg, enc, path):
    d = os.path.join(cfg['cache'], 'corpus')
    L = cfg['n_layer']
    cases = []
    rng = np.random.default_rng(SEED)
    text = open(os.path.join(d, 'novelist.val.txt')).read()[:2000]
    ids = enc.encode(text)
    with torch.no_grad():
        # case 1: prefill (past 0) of 24 tokens, then 4 decode steps one token at a time with the KV cache
        T0 = min(24, cfg['n_ctx'] // 2)
        seq = ids[:T0 + 4]
        full_logits, _ = model.run(torch.tensor([seq]))
        cases.append(dict(name='prefill+decode', ids=seq, prefill=T0,
                          logits=full_logits[0].numpy().round(6).tolist()))
        # case 2: batch of 2 with left padding in row 0 (attention_mask 0), explicit position ids
        a, b = ids[40:40 + 10], ids[60:60 + 14]
        pad = len(b) - len(a)
        la, _ = model.run(torch.tensor([a]))
        lb, _ = model.run(torch.tensor([b]))
        cases.append(dict(name='padded-batch', rows=[[0] * pad + a, b], masks=[[0] * pad + [1] * len(a), [1] * len(b)],
                          positions=[[0] * pad + list(range(len(a))), list(range(len(b)))],
                          logits_rows=[la[0].numpy().round(6).tolist(), lb[0].numpy().round(6).tolist()], pad=pad))
    # held-out windows for q4 vs fp32 top-1 agreement
    windows = []
    W = min(128, cfg['n_ctx'])
    for v in VOICES:
        a = np.load(os.path.join(d, f"{v['id']}.val.npy")).astype(np.int64)
        for j in range(4 if cfg['thresholds'] else 1):
            s = int(rng.integers(0, len(a) - W - 1))
            windows.append(dict(voice=v['id'], ids=a[s:s + W].tolist()))
    fx = dict(n_layer=L, n_head=cfg['n_head'], head_dim=cfg['n_embd'] // cfg['n_head'], cases=cases,
              windows=windows, residual_tensors=[f'/transformer/h.{i}/Add_1_output_0' for i in range(L)])
    # residual at the SAE layer for case 1 (checks the tapped tensor name)
    caps = {}
    def hook(i, x):
        caps[i] = x.detach().clone(); return x
    with torch.no_grad():
        model.run(torch.tensor([cases[0]['ids'][:T0]]), hook=hook)
    fx['resid_case0'] = {str(i): caps[i][0].numpy().round(6).tolist() for i in range(L)}
    tok = read_json(os.path.join(cfg['cache'], 'tokenizer_fixtures.json'))
    fx['tokenizer'] = tok
    write_json(path, fx)


def main():
    cfg = get_cfg()
    from bpe import load_encoder
    enc = load_encoder(cfg['out'])
    model_cfg = {k: cfg[k] for k in ('vocab_size', 'n_layer', 'n_embd', 'n_head', 'n_ctx')}
    model = load_model(cfg['cache'], model_cfg)
    write_json(os.path.join(cfg['out'], 'config.json'), config_json(cfg, enc.eot_id), indent=2)
    write_json(os.path.join(cfg['out'], 'generation_config.json'),
               {'bos_token_id': enc.eot_id, 'eos_token_id': enc.eot_id, 'max_length': cfg['n_ctx']}, indent=2)
    od = os.path.join(cfg['out'], 'onnx')
    os.makedirs(od, exist_ok=True)
    m, wte_name = export_fp32(model, cfg, os.path.join(od, 'model.onnx'))
    fix_lm_head(m, cfg, wte_name)
    need = check_graph(m, cfg)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(od, 'model.onnx'))
    # a copy with the residual tensors exposed as outputs, for the parity check only (not shipped)
    mt = onnx.ModelProto.FromString(m.SerializeToString())
    for i in range(cfg['n_layer']):
        mt.graph.output.append(helper.make_tensor_value_info(f'/transformer/h.{i}/Add_1_output_0', TensorProto.FLOAT,
                                                             ['batch_size', 'sequence_length', cfg['n_embd']]))
    onnx.save(mt, os.path.join(cfg['cache'], 'model_taps.onnx'))
    t0 = time.time()
    mq = quantize_q4(m, cfg, wte_name, hessians=calibration_hessians(model, cfg))
    log(f'q4 (GPTQ) in {time.time()-t0:.0f}s')
    onnx.save(mq, os.path.join(od, 'model_q4.onnx'))
    log(f"export: model.onnx {os.path.getsize(os.path.join(od, 'model.onnx'))/1e6:.2f} MB, "
        f"model_q4.onnx {os.path.getsize(os.path.join(od, 'model_q4.onnx'))/1e6:.2f} MB; residual nodes ok: {need}")
    parity_fixtures(model, cfg, enc, os.path.join(cfg['cache'], 'parity_fixtures.json'))


if __name__ == '__main__':
    main()
