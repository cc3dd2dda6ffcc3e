"""A LLaMA-shaped decoder in plain torch (RMSNorm, RoPE from position_ids, GQA, SwiGLU, tied embeddings).

The same forward is used for training and for the ONNX export (with past key/values), so the exported graph
is the trained computation.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1e9


@dataclass
class Config:
    vocab_size: int = 512
    hidden_size: int = 128
    intermediate_size: int = 352
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 512
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = True

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads

    def to_dict(self):
        d = asdict(self)
        d["head_dim"] = self.head_dim
        return d


PRESETS = {
    # ~0.8M params, fp32 ONNX ~3.3 MB
    "pocket": Config(hidden_size=128, intermediate_size=352, num_hidden_layers=4, num_attention_heads=4,
                     num_key_value_heads=2),
    # ~3.0M params: grown from the trained pocket model (see grow_from), 12 layers, wider MLP
    "reference": Config(hidden_size=128, intermediate_size=512, num_hidden_layers=12, num_attention_heads=4,
                        num_key_value_heads=2),
}


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.h, self.kv, self.hd = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.h * self.hd, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.kv * self.hd, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.kv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.h * self.hd, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, allowed, past_k=None, past_v=None):
        B, S = x.shape[0], x.shape[1]
        q = self.q_proj(x).reshape(B, S, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(x).reshape(B, S, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(x).reshape(B, S, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        rep = self.h // self.kv
        T = k.shape[2]
        # GQA: group the query heads by kv head instead of repeating k/v
        qg = q.reshape(B, self.kv, rep * S, self.hd)
        scores = torch.matmul(qg, k.transpose(2, 3)) * (1.0 / math.sqrt(self.hd))
        scores = scores.reshape(B, self.h, S, T)
        scores = torch.where(allowed, scores, torch.full_like(scores, NEG))
        p = torch.softmax(scores, dim=-1)
        o = torch.matmul(p.reshape(B, self.kv, rep * S, T), v)  # [B, kv, rep*S, hd]
        o = o.reshape(B, self.h, S, self.hd).transpose(1, 2).reshape(B, S, self.h * self.hd)
        return self.o_proj(o), present


class MLP(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, allowed, past_k=None, past_v=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, allowed, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class LlamaLM(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.config = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Block(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        if not c.tie_word_embeddings:
            self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2).float() / c.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)
        self.apply(self._init)
        for n, p in self.named_parameters():
            if n.endswith("o_proj.weight") or n.endswith("down_proj.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * c.num_hidden_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def num_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        """input_ids [B,S]; attention_mask [B,T] (T = past + S, 1 = attend); position_ids [B,S];
        past: list of (k, v) with k [B, kv, P, hd]. Returns logits [B,S,V], presents."""
        B, S = input_ids.shape[0], input_ids.shape[1]
        if position_ids is None:
            position_ids = torch.arange(S, device=input_ids.device).unsqueeze(0).expand(B, S)
        x = self.embed_tokens(input_ids)
        freqs = position_ids.unsqueeze(-1).float() * self.inv_freq  # [B,S,hd/2]
        emb = torch.cat((freqs, freqs), dim=-1).unsqueeze(1)  # [B,1,S,hd]
        cos, sin = emb.cos(), emb.sin()
        P = past[0][0].shape[2] if past is not None else 0
        T = P + S
        q_pos = torch.arange(S, device=input_ids.device).unsqueeze(1) + (T - S)  # absolute index of each query
        k_pos = torch.arange(T, device=input_ids.device).unsqueeze(0)
        allowed = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0)  # [1,1,S,T]
        if attention_mask is not None:
            allowed = allowed & (attention_mask[:, None, None, :] > 0)
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = (past[i] if past is not None else (None, None))
            x, pres = layer(x, cos, sin, allowed, pk, pv)
            presents.append(pres)
        x = self.norm(x)
        if self.config.tie_word_embeddings:
            logits = F.linear(x, self.embed_tokens.weight)
        else:
            logits = self.lm_head(x)
        return logits, presents


@torch.no_grad()
def greedy_generate(model, prompts, eos_id, pad_id, max_new_tokens=24):
    """Batched greedy decoding with left padding (no cache; recomputes the prefix each step).
    prompts: list of id lists. Returns list of generated id lists (eos included if produced)."""
    model.eval()
    stop = set([eos_id] if isinstance(eos_id, int) else eos_id)
    B = len(prompts)
    L = max(len(p) for p in prompts)
    dev = model.embed_tokens.weight.device
    ids = torch.full((B, L), pad_id, dtype=torch.long)
    mask = torch.zeros((B, L), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p)
        mask[i, L - len(p):] = 1
    ids, mask = ids.to(dev), mask.to(dev)
    out = [[] for _ in range(B)]
    done = [False] * B
    for _ in range(max_new_tokens):
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        logits, _ = model(ids, mask, pos)
        nxt = logits[:, -1].argmax(-1)
        nl = nxt.tolist()
        for i in range(B):
            if not done[i]:
                out[i].append(nl[i])
                if nl[i] in stop:
                    done[i] = True
        if all(done):
            break
        ids = torch.cat([ids, nxt[:, None]], 1)
        mask = torch.cat([mask, torch.ones((B, 1), dtype=torch.long, device=dev)], 1)
    return out


@torch.no_grad()
def grow_from(big: "LlamaLM", small_state: dict, small_cfg: Config):
    """Function-preserving growth of a trained small model into `big` (same hidden size / heads):
    small layer i goes to big layer i * (L_big // L_small); the layers in between are new and start as identity
    (o_proj = down_proj = 0, so their residual contribution is zero); the MLPs are widened with new hidden units whose
    down_proj columns are zero. The grown model computes exactly what the small one did, then keeps training."""
    bc = big.config
    assert bc.hidden_size == small_cfg.hidden_size and bc.num_attention_heads == small_cfg.num_attention_heads
    assert bc.num_key_value_heads == small_cfg.num_key_value_heads and bc.vocab_size == small_cfg.vocab_size
    assert bc.num_hidden_layers % small_cfg.num_hidden_layers == 0 and bc.intermediate_size >= small_cfg.intermediate_size
    stride = bc.num_hidden_layers // small_cfg.num_hidden_layers
    big.embed_tokens.weight.copy_(small_state["embed_tokens.weight"])
    big.norm.weight.copy_(small_state["norm.weight"])
    I = small_cfg.intermediate_size
    for j, layer in enumerate(big.layers):
        if j % stride == 0:
            p = f"layers.{j // stride}."
            for n in ("input_layernorm", "post_attention_layernorm"):
                getattr(layer, n).weight.copy_(small_state[p + n + ".weight"])
            for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
                getattr(layer.self_attn, n).weight.copy_(small_state[p + "self_attn." + n + ".weight"])
            layer.mlp.gate_proj.weight[:I].copy_(small_state[p + "mlp.gate_proj.weight"])
            layer.mlp.up_proj.weight[:I].copy_(small_state[p + "mlp.up_proj.weight"])
            layer.mlp.down_proj.weight.zero_()
            layer.mlp.down_proj.weight[:, :I].copy_(small_state[p + "mlp.down_proj.weight"])
        else:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
