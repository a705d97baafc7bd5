"""The factorised-attention transformer of the Jukebox priors.

Attention types (``attn_func``), on the joint sequence with ``block_ctx = n_ctx_total // blocks``:
0 dense causal; 1 row: causal within the query's block; 2 column: the same offset in this and earlier blocks;
3 previous block: the whole previous block, unmasked (the first block sees nothing and outputs 0);
6 encoder-decoder: all lyric-encoder states; 7 prime: the first ``prime_len`` positions, causal.

Each layer supports a full teacher-forced pass and a cached pass over a chunk of new positions, so priming a window
is one call and each sampling step is one call; both give the same numbers.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .configs import COLUMN, DENSE, ENC_DEC, PREV_BLOCK, PRIME, ROW, attention_pattern  # noqa: F401


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


class Conv1D(nn.Module):
    """``y = x @ w + b`` with ``w`` stored (n_in, n_out), as the official checkpoints hold it."""

    def __init__(self, n_in: int, n_out: int, init_scale: float = 1.0, fp16: bool = False):
        super().__init__()
        self.n_out = n_out
        self.w = nn.Parameter(torch.empty(n_in, n_out, dtype=torch.float16 if fp16 else torch.float32))
        self.b = nn.Parameter(torch.zeros(n_out))
        if self.w.device.type != "meta":
            nn.init.normal_(self.w, std=0.02 * init_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.w, self.b
        if w.dtype != x.dtype:
            w, b = w.to(x.dtype), b.to(x.dtype)
        out = torch.addmm(b, x.reshape(-1, x.shape[-1]), w)
        return out.view(x.shape[:-1] + (self.n_out,))


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 and cast back to the input dtype."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(),
                            self.eps).to(x.dtype)


class MLP(nn.Module):
    def __init__(self, width: int, n_state: int, init_scale: float, fp16: bool):
        super().__init__()
        self.c_fc = Conv1D(width, n_state, init_scale, fp16)
        self.c_proj = Conv1D(n_state, width, init_scale, fp16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(quick_gelu(self.c_fc(x)))


def _allowed(func: int, qpos: torch.Tensor, kpos: torch.Tensor, block_ctx: int, prime_len: int) -> torch.Tensor:
    """(Tq, Tk) boolean mask of the keys each query may see."""
    q, k = qpos[:, None], kpos[None, :]
    causal = k <= q
    if func == DENSE:
        return causal
    if func == ROW:
        return causal & (k // block_ctx == q // block_ctx)
    if func == COLUMN:
        return causal & (k % block_ctx == q % block_ctx)
    if func == PREV_BLOCK:
        return k // block_ctx == q // block_ctx - 1
    if func == PRIME:
        return causal & (k < prime_len)
    raise ValueError(func)


class FactoredAttention(nn.Module):
    def __init__(self, width: int, n_state: int, heads: int, func: int, block_ctx: int, prime_len: int,
                 init_scale: float, fp16: bool):
        super().__init__()
        self.func, self.heads, self.n_state = func, heads, n_state
        self.block_ctx, self.prime_len = block_ctx, prime_len
        if func == ENC_DEC:
            self.c_attn = Conv1D(width, n_state, init_scale, fp16)
            self.c_enc_kv = Conv1D(width, 2 * n_state, init_scale, fp16)
        else:
            self.c_attn = Conv1D(width, 3 * n_state, init_scale, fp16)
        self.c_proj = Conv1D(n_state, width, init_scale, fp16)
        self.record = False
        self.last_weights: Optional[torch.Tensor] = None

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (N, T, n_state) -> (N, H, T, hd)
        n, t, _ = x.shape
        return x.view(n, t, self.heads, self.n_state // self.heads).transpose(1, 2)

    def _attend(self, q, k, v, mask: Optional[torch.Tensor]) -> torch.Tensor:
        """q (N, Tq, S), k/v (N, Tk, S), mask (Tq, Tk) bool or None -> (N, Tq, S)."""
        qh, kh, vh = self._split(q), self._split(k), self._split(v)
        hd = qh.shape[-1]
        w = torch.matmul(qh, kh.transpose(-1, -2)) / math.sqrt(hd)  # (N, H, Tq, Tk)
        if mask is not None:
            w = w.masked_fill(~mask, -1e9)
        w = torch.softmax(w.float(), dim=-1)
        if mask is not None:
            w = w * mask.any(-1, keepdim=True).to(w.dtype)  # a query with no keys outputs 0
        if self.record:
            self.last_weights = w.detach()
        out = torch.matmul(w.to(vh.dtype), vh)  # (N, H, Tq, hd)
        n, h, t, d = out.shape
        return out.transpose(1, 2).reshape(n, t, h * d)

    def forward(self, x: torch.Tensor, encoder_kv: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Teacher-forced pass over positions 0..T-1: (N, T, W) -> (N, T, W)."""
        if self.func == ENC_DEC:
            q = self.c_attn(x)
            k, v = self.c_enc_kv(encoder_kv.to(x.dtype)).chunk(2, dim=-1)
            return self.c_proj(self._attend(q, k, v, None))
        q, k, v = self.c_attn(x).chunk(3, dim=-1)
        pos = torch.arange(x.shape[1], device=x.device)
        kpos = pos
        if self.func == PRIME:
            k, v, kpos = k[:, : self.prime_len], v[:, : self.prime_len], pos[: self.prime_len]
        mask = _allowed(self.func, pos, kpos, self.block_ctx, self.prime_len)
        return self.c_proj(self._attend(q, k, v, mask))

    def cache_slots(self, n_ctx_total: int) -> int:
        """Positions this layer's KV cache holds (the sparse layout): a row layer needs only the current block, a
        previous-block layer two blocks, a prime layer the lyric prefix; column and dense layers the window."""
        return {ROW: self.block_ctx, PREV_BLOCK: 2 * self.block_ctx,
                PRIME: min(self.prime_len, n_ctx_total)}.get(self.func, n_ctx_total)

    def _store(self, cache: dict, k: torch.Tensor, v: torch.Tensor, t0: int, t1: int) -> None:
        """Write positions t0..t1-1 into the ring of ``slots`` positions (position p at slot p % slots)."""
        slots = cache["k"].shape[1]
        lo, hi = max(t0, t1 - slots), t1
        if self.func == PRIME:
            lo, hi = t0, min(t1, self.prime_len)
        if hi <= lo:
            return
        a, b = lo % slots, (hi - 1) % slots + 1
        if a < b:  # no wrap: a slice
            cache["k"][:, a:b] = k[:, lo - t0:hi - t0]
            cache["v"][:, a:b] = v[:, lo - t0:hi - t0]
        else:
            idx = torch.arange(lo, hi, device=k.device) % slots
            cache["k"][:, idx] = k[:, lo - t0:hi - t0]
            cache["v"][:, idx] = v[:, lo - t0:hi - t0]

    def _gather(self, cache: dict, lo: int, hi: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Cached keys/values of positions lo..hi-1 (all still in the ring)."""
        slots = cache["k"].shape[1]
        if hi <= lo:
            return cache["k"][:, :0], cache["v"][:, :0]
        a = lo % slots
        if a + (hi - lo) <= slots:
            return cache["k"][:, a:a + hi - lo], cache["v"][:, a:a + hi - lo]
        idx = torch.arange(lo, hi, device=cache["k"].device) % slots
        return cache["k"][:, idx], cache["v"][:, idx]

    def forward_cached(self, x: torch.Tensor, t0: int, cache: dict, encoder_kv: Optional[torch.Tensor] = None):
        """Positions t0..t0+L-1 given the keys/values of earlier positions in ``cache``; (N, L, W) -> (N, L, W).

        ``cache`` holds ``k`` and ``v`` ring buffers (N, cache_slots, n_state), filled as positions arrive.
        """
        if self.func == ENC_DEC:
            if "k" not in cache:
                cache["k"], cache["v"] = self.c_enc_kv(encoder_kv.to(x.dtype)).chunk(2, dim=-1)
            return self.c_proj(self._attend(self.c_attn(x), cache["k"], cache["v"], None))
        q, k, v = self.c_attn(x).chunk(3, dim=-1)
        n_new = x.shape[1]
        t1 = t0 + n_new
        bc = self.block_ctx
        if n_new == 1:  # one position: the key range alone is the mask
            self._store(cache, k, v, t0, t1)
            if self.func == COLUMN:  # the same offset in every block so far: a strided slice
                ks, vs = cache["k"][:, t0 % bc:t1:bc], cache["v"][:, t0 % bc:t1:bc]
            elif self.func == ROW:
                ks, vs = self._gather(cache, (t0 // bc) * bc, t1)
            elif self.func == PREV_BLOCK:
                if t0 < bc:  # the first block sees nothing
                    return self.c_proj(torch.zeros_like(q))
                ks, vs = self._gather(cache, (t0 // bc - 1) * bc, (t0 // bc) * bc)
            else:
                ks, vs = self._gather(cache, 0, min(t1, self.prime_len) if self.func == PRIME else t1)
            return self.c_proj(self._attend(q, ks, vs, None))
        lo = {ROW: (t0 // bc) * bc, PREV_BLOCK: max(t0 // bc - 1, 0) * bc}.get(self.func, 0)
        old_hi = min(t0, self.prime_len) if self.func == PRIME else t0
        new_n = max(0, min(t1, self.prime_len) - t0) if self.func == PRIME else n_new
        old_k, old_v = self._gather(cache, lo, old_hi)
        ks, vs = torch.cat([old_k, k[:, :new_n]], 1), torch.cat([old_v, v[:, :new_n]], 1)
        self._store(cache, k, v, t0, t1)
        qpos = torch.arange(t0, t1, device=x.device)
        kpos = torch.arange(lo, lo + ks.shape[1], device=x.device)
        mask = _allowed(self.func, qpos, kpos, bc, self.prime_len)
        return self.c_proj(self._attend(q, ks, vs, mask))


class ResAttnBlock(nn.Module):
    """Pre-LN block: ``a = attn(ln_0(x)); m = mlp(ln_1(x + a)); x + a + m``."""

    def __init__(self, width: int, n_state: int, heads: int, func: int, block_ctx: int, prime_len: int,
                 m_mlp: float, init_scale: float, fp16: bool):
        super().__init__()
        self.attn = FactoredAttention(width, n_state, heads, func, block_ctx, prime_len, init_scale, fp16)
        self.ln_0 = LayerNorm(width)
        self.mlp = MLP(width, int(m_mlp * width), init_scale, fp16)
        self.ln_1 = LayerNorm(width)

    def forward(self, x, encoder_kv=None):
        a = self.attn(self.ln_0(x), encoder_kv)
        return x + a + self.mlp(self.ln_1(x + a))

    def forward_cached(self, x, t0, cache, encoder_kv=None):
        a = self.attn.forward_cached(self.ln_0(x), t0, cache, encoder_kv)
        return x + a + self.mlp(self.ln_1(x + a))


class Transformer(nn.Module):
    def __init__(self, width: int, depth: int, heads: int, attn_order: int, n_ctx_total: int, blocks: int,
                 m_attn: float, m_mlp: float, init_scale: float, prime_len: int = 0, fp16: bool = False):
        super().__init__()
        self.funcs = attention_pattern(attn_order, depth)
        block_ctx = n_ctx_total // blocks
        # the prime layers see the lyric prefix rounded up the way the official model does
        prime_keys = (prime_len // blocks + 1) * blocks if prime_len else 0
        n_state = int(width * m_attn)
        self._attn_mods = nn.ModuleList(
            ResAttnBlock(width, n_state, heads, f, block_ctx, prime_keys, m_mlp, init_scale, fp16) for f in self.funcs
        )

    def forward(self, x: torch.Tensor, encoder_kv: Optional[torch.Tensor] = None) -> torch.Tensor:
        for layer in self._attn_mods:
            x = layer(x, encoder_kv)
        return x


class PositionEmbedding(nn.Module):
    def __init__(self, n_ctx: int, width: int, init_scale: float = 1.0):
        super().__init__()
        self.pos_emb = nn.Parameter(torch.empty(n_ctx, width))
        if self.pos_emb.device.type != "meta":
            nn.init.normal_(self.pos_emb, std=0.01 * init_scale)

    def forward(self) -> torch.Tensor:
        return self.pos_emb


class AutoregressiveTransformer(nn.Module):
    """Token embedding + learned positions + factorised transformer (+ output layer).

    With ``use_start_token`` a learned start token fills position 0; otherwise the caller's ``y_cond`` does.
    ``tied`` shares ``x_out.weight`` with ``x_emb.weight``; ``only_encode`` builds no output layer.
    """

    def __init__(self, bins: int, width: int, depth: int, heads: int, attn_order: int, n_ctx: int, blocks: int,
                 m_attn: float = 0.25, m_mlp: float = 1.0, init_scale: float = 1.0, use_start_token: bool = False,
                 tied: bool = True, only_encode: bool = False, prime_len: int = 0, fp16: bool = False,
                 add_cond_after: bool = True):
        super().__init__()
        self.n_ctx, self.width, self.bins = n_ctx, width, bins
        self.add_cond_after = add_cond_after
        if use_start_token:
            self.start_token = nn.Parameter(torch.empty(1, width))
        self.x_emb = nn.Embedding(bins, width)
        self.pos_emb = PositionEmbedding(n_ctx, width, init_scale)
        self.transformer = Transformer(width, depth, heads, attn_order, n_ctx, blocks, m_attn, m_mlp, init_scale,
                                       prime_len, fp16)
        self.only_encode = only_encode
        if not only_encode:
            self.x_out = nn.Linear(width, bins, bias=False)
            if tied:
                self.x_out.weight = self.x_emb.weight
        if self.x_emb.weight.device.type != "meta":
            nn.init.normal_(self.x_emb.weight, std=0.02 * init_scale)
            if use_start_token:
                nn.init.normal_(self.start_token, std=0.01 * init_scale)
            if not only_encode and not tied:
                nn.init.normal_(self.x_out.weight, std=0.02 * init_scale)

    def embed(self, tokens: torch.Tensor, t0: int, x_cond: torch.Tensor, y_cond: Optional[torch.Tensor]):
        """Inputs of positions t0..t0+L-1: the token before each one, its position and its conditioning.

        ``tokens`` (N, L) are the tokens *at* t0-1..t0+L-2 (the first is ignored when t0 == 0).
        """
        h = self.x_emb(tokens)  # (N, L, W)
        if t0 == 0:
            sos = y_cond if y_cond is not None else self.start_token.expand(h.shape[0], 1, -1)
            h = torch.cat([sos.to(h.dtype).view(h.shape[0], 1, -1), h[:, 1:]], dim=1)
        return h + self.pos_emb.pos_emb[t0:t0 + h.shape[1]] + x_cond

    def head(self, h: torch.Tensor, x_cond: torch.Tensor) -> torch.Tensor:
        if self.add_cond_after:
            h = h + x_cond
        return h if self.only_encode else self.x_out(h.to(self.x_out.weight.dtype))

    def forward(self, z: torch.Tensor, x_cond: Optional[torch.Tensor] = None, y_cond: Optional[torch.Tensor] = None,
                encoder_kv: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Teacher-forced pass: z (N, T) -> logits (N, T, bins) (hidden (N, T, W) when only_encode)."""
        n, t = z.shape
        if x_cond is None:
            x_cond = torch.zeros(n, 1, self.width, device=z.device)
        shifted = torch.roll(z, 1, dims=1)
        h = self.embed(shifted, 0, x_cond, y_cond)
        h = self.transformer(h, encoder_kv)
        return self.head(h, x_cond)
