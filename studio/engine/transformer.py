"""The factorised-attention transformer of the Jukebox priors (attention itself: ``attention.py``).

Every layer runs a pass over positions ``t0..t0+L-1`` (the teacher-forced pass, or priming a window in chunks,
with the earlier positions' keys in a :class:`KVCache`) and the one-position decode step at a device tensor; both
give the same numbers.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
from torch import nn

from .attention import FactoredAttention, KVCache, StepIndex
from .configs import COLUMN, DENSE, ENC_DEC, PREV_BLOCK, PRIME, ROW, attention_pattern, prime_key_count  # noqa: F401
from .layers import MLP, Conv1D, LayerNorm  # noqa: F401

Pos = Union[int, StepIndex]


class ResAttnBlock(nn.Module):
    """Pre-LN block: ``a = attn(ln_0(x)); m = mlp(ln_1(x + a)); x + a + m``."""

    def __init__(self, width: int, n_state: int, heads: int, func: int, block_ctx: int, prime_len: int,
                 m_mlp: float, init_scale: float, fp16: bool):
        super().__init__()
        self.attn = FactoredAttention(width, n_state, heads, func, block_ctx, prime_len, init_scale, fp16)
        self.ln_0 = LayerNorm(width)
        self.mlp = MLP(width, int(m_mlp * width), init_scale, fp16)
        self.ln_1 = LayerNorm(width)

    def forward(self, x, pos: Pos = 0, cache: Optional[KVCache] = None, encoder_kv=None, queries_from: int = 0,
                queries_to: Optional[int] = None, rows: Optional[list[tuple[int, int]]] = None):
        """(N, L, W) at positions ``pos..`` -> the outputs of ``x[:, queries_from:queries_to]`` (see
        :meth:`FactoredAttention.forward`), or of the spans ``rows`` of those alone, one after the other (the MLP
        runs on these rows only)."""
        part = x[:, queries_from:queries_to] if queries_from or queries_to is not None else x
        h = part + self.attn(self.ln_0(x), pos, cache, encoder_kv, queries_from, queries_to)
        if rows is not None and rows != [(0, h.shape[1])]:
            h = torch.cat([h[:, lo:hi] for lo, hi in rows], 1)
        m = self.mlp(self.ln_1(h))
        return h + m if torch.is_grad_enabled() else h.add_(m)  # (x + a) + m either way; in place when no
        #                                                          backward pass needs h


class Transformer(nn.Module):
    def __init__(self, width: int, depth: int, heads: int, attn_order: int, n_ctx_total: int, blocks: int,
                 m_attn: float, m_mlp: float, init_scale: float, prime_len: int = 0, fp16: bool = False):
        super().__init__()
        self.funcs = attention_pattern(attn_order, depth)
        self.n_ctx_total = n_ctx_total
        block_ctx = n_ctx_total // blocks
        # the prime layers see the lyric prefix rounded up the way the official model does
        prime_keys = prime_key_count(prime_len, blocks)
        n_state = int(width * m_attn)
        # the official checkpoints' name for the blocks (state-dict keys ``_attn_mods.N...``); use ``layers``
        self._attn_mods = nn.ModuleList(
            ResAttnBlock(width, n_state, heads, f, block_ctx, prime_keys, m_mlp, init_scale, fp16) for f in self.funcs
        )

    @property
    def layers(self) -> Sequence[ResAttnBlock]:
        """The residual attention blocks, first to last."""
        return self._attn_mods

    def new_caches(self, n: int, dtype: torch.dtype, device, enc_len: int = 0) -> nn.ModuleList:
        """One KV cache per layer for a window of ``n`` sequences."""
        return nn.ModuleList(layer.attn.new_cache(n, self.n_ctx_total, dtype, device, enc_len)
                             for layer in self.layers)

    def forward(self, x: torch.Tensor, encoder_kv: Optional[torch.Tensor] = None, pos: Pos = 0,
                caches: Optional[Sequence[KVCache]] = None) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x, pos, caches[i] if caches is not None else None, encoder_kv)
        return x

    def fill(self, x: torch.Tensor, pos: int, caches: Sequence[KVCache]) -> None:
        """Priming: the pass over positions ``pos..`` for the keys and values later passes and steps read, and
        nothing else. Working down from the top, each layer computes only the spans of positions whose keys and
        values it keeps or whose outputs the layers above it read (:meth:`FactoredAttention.needed`), so the head
        and the last layer's MLP are never run, a top previous-block layer (the official upsamplers' pattern)
        keeps two blocks, whose inputs alone the layer below computes outputs for, and under a top prime layer
        (the demo's) the layer below runs the lyric prefix and only stores the keys of its last two blocks."""
        t1 = pos + x.shape[1]
        spans: list[list[tuple[int, int]]] = [[]]  # spans[i]: where layer i's input is needed (the last: none)
        for layer in reversed(self.layers):
            spans.insert(0, layer.attn.needed(pos, t1, spans[0]))
        if spans[0] != [(pos, t1)]:
            x = torch.cat([x[:, lo - pos:hi - pos] for lo, hi in spans[0]], 1)
        for i, (layer, cache) in enumerate(zip(self.layers, caches)):
            outs, parts, at = spans[i + 1], [], 0
            for lo, hi in spans[i]:  # x holds these spans one after the other
                part, at = x[:, at:at + hi - lo], at + hi - lo
                inner = [(a, b) for a, b in outs if lo <= a and b <= hi]  # (each output span lies in one)
                if not inner:  # nothing above reads these outputs: their keys and values alone
                    layer.attn.store(layer.ln_0(part), lo, cache)
                    continue
                q_lo, q_hi = inner[0][0], inner[-1][1]
                parts.append(layer(part, lo, cache, None, q_lo - lo, q_hi - lo,
                                   [(a - q_lo, b - q_lo) for a, b in inner]))
            if not outs:
                return
            x = torch.cat(parts, 1) if len(parts) > 1 else parts[0]


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

    def start(self, n: int, y_cond: Optional[torch.Tensor]) -> torch.Tensor:
        """The input of position 0 (N, 1, W): the label embedding, or the learned start token."""
        sos = y_cond if y_cond is not None else self.start_token.expand(n, 1, -1)
        return sos.reshape(n, 1, -1)

    def embed(self, tokens: torch.Tensor, t0: Pos, x_cond: torch.Tensor, y_cond: Optional[torch.Tensor]):
        """Inputs of positions t0..t0+L-1: the token before each one, its position and its conditioning.

        ``tokens`` (N, L) are the tokens *at* t0-1..t0+L-2 (the first is ignored when t0 == 0); ``x_cond`` is the
        conditioning of these positions (N, L or 1, W). ``t0`` a 0-dim device tensor: one position, fixed shapes.
        """
        h = self.x_emb(tokens)  # (N, L, W)
        sos = self.start(h.shape[0], y_cond).to(h.dtype)
        if isinstance(t0, torch.Tensor):
            h = torch.where(t0 == 0, sos, h)
            return h + self.pos_emb.pos_emb.index_select(0, t0.view(1)) + x_cond
        if t0 == 0:
            h = torch.cat([sos, h[:, 1:]], dim=1)
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
