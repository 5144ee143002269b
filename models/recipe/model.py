"""GPT-2 in plain PyTorch 1.13 with Hugging Face module names and Conv1D ([in, out]) weight layout.
The forward pass is written so that torch.onnx.export produces Optimum-style node names:
/transformer/Add (embeddings), /transformer/h.{i}/Add (after attention), /transformer/h.{i}/Add_1 (end of block)."""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv1D(nn.Module):
    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf).normal_(0, 0.02))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.n_head, self.d = n_head, d
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)

    def forward(self, x, allowed, past_k=None, past_v=None):
        B, T, C = x.shape
        hd = C // self.n_head
        q, k, v = self.c_attn(x).split(self.d, dim=2)
        q = q.view(B, T, self.n_head, hd).transpose(1, 2)
        k = k.view(B, T, self.n_head, hd).transpose(1, 2)
        v = v.view(B, T, self.n_head, hd).transpose(1, 2)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        att = torch.where(allowed, att, torch.tensor(torch.finfo(att.dtype).min, dtype=att.dtype))
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y), k, v


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = Conv1D(4 * d, d)
        self.c_proj = Conv1D(d, 4 * d)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, d, n_head, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, n_head)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = MLP(d)

    def forward(self, x, allowed, past_k=None, past_v=None):
        a, k, v = self.attn(self.ln_1(x), allowed, past_k, past_v)
        x = x + a            # /transformer/h.i/Add
        x = x + self.mlp(self.ln_2(x))  # /transformer/h.i/Add_1
        return x, k, v


class Transformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg['n_embd']
        self.wte = nn.Embedding(cfg['vocab_size'], d)
        self.wpe = nn.Embedding(cfg['n_ctx'], d)
        self.h = nn.ModuleList([Block(d, cfg['n_head'], 1e-5) for _ in range(cfg['n_layer'])])
        self.ln_f = nn.LayerNorm(d, eps=1e-5)

    def forward(self, input_ids, attention_mask, position_ids, past, hook=None):
        """past: list of (k, v) or None. hook(layer, resid) -> resid is applied to the output of each block
        (used for steering / splicing / capture; never used during export)."""
        x = self.wte(input_ids) + self.wpe(position_ids)   # /transformer/Add
        T = input_ids.shape[1]
        P = attention_mask.shape[1]  # past + T
        kpos = torch.arange(P, device=input_ids.device)
        qpos = torch.arange(T, device=input_ids.device) + (P - T)
        causal = kpos.unsqueeze(0) <= qpos.unsqueeze(1)              # [T, P]
        allowed = causal.unsqueeze(0).unsqueeze(0) & (attention_mask.unsqueeze(1).unsqueeze(2) > 0)  # [B,1,T,P]
        presents = []
        for i, blk in enumerate(self.h):
            pk, pv = past[i] if past is not None else (None, None)
            x, k, v = blk(x, allowed, pk, pv)
            if hook is not None:
                x = hook(i, x)
            presents.append((k, v))
        return self.ln_f(x), presents


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.transformer = Transformer(cfg)
        self.apply(self._init)
        for n, p in self.named_parameters():
            if n.endswith('c_proj.weight'):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg['n_layer']))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    lm_head_weight = None  # set only by load_onnx_model on a q4 graph: its lm_head is quantised, its embedding is not

    def logits(self, h):
        B, T, C = h.shape
        # 2-D Gemm with transB on the tied wte (keeps one copy of the embedding in the ONNX file)
        w = self.transformer.wte.weight if self.lm_head_weight is None else self.lm_head_weight
        return F.linear(h.reshape(B * T, C), w).reshape(B, T, -1)

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        """ONNX signature: flat past (k0, v0, k1, v1, ...) -> logits, flat presents."""
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)] if past_flat else None
        h, presents = self.transformer(input_ids, attention_mask, position_ids, past)
        out = [self.logits(h)]
        for k, v in presents:
            out += [k, v]
        return tuple(out)

    def run(self, input_ids, hook=None, past=None, attention_mask=None):
        """Convenience forward for training / analysis (no padding)."""
        B, T = input_ids.shape
        P0 = past[0][0].shape[2] if past is not None else 0
        if attention_mask is None:
            attention_mask = torch.ones(B, P0 + T, dtype=torch.long)
        pos = (torch.arange(T) + P0).unsqueeze(0).expand(B, T)
        h, presents = self.transformer(input_ids, attention_mask, pos, past, hook=hook)
        return self.logits(h), presents


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def load_model(cache_dir, cfg):
    m = GPT2LMHeadModel(cfg)
    sd = torch.load(os.path.join(cache_dir, 'model.pt'), map_location='cpu')
    m.load_state_dict(sd['model'])
    m.eval()
    return m


def dequantize_matmulnbits(packed, scales, zp, N, K, block):
    """com.microsoft MatMulNBits (bits 4) initializers -> the fp32 weight [N, K] it multiplies by (transposed).
    packed uint8 [N, K/block, block/2] (low nibble = even k), scales float [N*nb], zero points uint8 packed two per
    byte along the blocks (low nibble first, rows padded to an even block count). W[n, k] = (code - zp) * scale."""
    import numpy as np
    nb = K // block
    code = np.zeros((N, nb, block), np.float32)
    code[:, :, 0::2] = packed & 0x0F
    code[:, :, 1::2] = packed >> 4
    zpr = zp.reshape(N, -1)
    z = np.zeros((N, zpr.shape[1] * 2), np.float32)
    z[:, 0::2] = zpr & 0x0F
    z[:, 1::2] = zpr >> 4
    z = z[:, :nb]
    sc = scales.reshape(N, nb).astype(np.float32)
    return ((code - z[:, :, None]) * sc[:, :, None]).reshape(N, K)


def load_onnx_model(path, cfg):
    """The recipe's GPT from an exported graph's initializers (export.py names them after the state dict).
    fp32 graph: the weights exactly. q4 graph: every MatMulNBits weight dequantised to the fp32 values onnxruntime
    multiplies by, the embedding Gather's table as stored (fp32, or int8 rows times their scales), and the quantised tied lm_head set as `lm_head_weight`
    (so the page's q4 run is reproduced up to float summation order). Raises KeyError when a weight is missing."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    g = onnx.load(path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    m = GPT2LMHeadModel(cfg)
    sd = {}
    lm_head = None
    for n in g.node:
        if n.op_type != 'MatMulNBits':
            continue
        at = {a.name: a.i for a in n.attribute}
        w = dequantize_matmulnbits(inits[n.input[1]], inits[n.input[2]], inits[n.input[3]], at['N'], at['K'], at['block_size'])
        name = n.input[1][:-len('_Q4')]
        if name == 'lm_head.weight':
            lm_head = w
        else:
            sd[name] = w.T  # Conv1D layout [in, out]
    for k in m.state_dict():
        if k not in sd and k + '_int8' in inits:  # int8 embedding rows (export.int8_embedding): code * row scale
            sd[k] = inits[k + '_int8'].astype(np.float32) * inits[k + '_scale']
        elif k not in sd:
            sd[k] = inits[k]
    m.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in sd.items()})
    if lm_head is not None:
        m.lm_head_weight = torch.from_numpy(lm_head)
    m.eval()
    return m

import os
