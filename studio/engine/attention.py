"""Factorised attention of the Jukebox priors: one implementation for the full pass, priming and the decode step.

Attention types (``func``) on the joint sequence, with ``bc = n_ctx_total // blocks`` positions a block:
DENSE causal; ROW causal within the query's block; COLUMN the same offset in this and earlier blocks; PREV_BLOCK
the whole previous block, unmasked (the first block sees nothing and outputs 0); ENC_DEC all lyric-encoder states;
PRIME the first ``prime_len`` positions, causal.

A pass over positions ``t0..t0+L-1`` (``pos`` a Python int: the teacher-forced pass, or priming a window in chunks)
reshapes the sequence into blocks, so row, column and previous-block layers never build a T x T mask. One
position at a device tensor ``pos`` (the decode step) reads its layer's :class:`KVCache` whole, with a mask built
on the device, so every step runs the same kernels on the same buffers (compiled, or captured in a CUDA graph).
Both write the cache at a position tensor, and both end in ``scaled_dot_product_attention``.
"""

from __future__ import annotations

import math
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from .configs import COLUMN, DENSE, ENC_DEC, PREV_BLOCK, PRIME, ROW
from .layers import Conv1D
from .memory import cache_slots


class KVCache(nn.Module):
    """Keys and values of one attention layer for one window of N sequences, in the layer's sparse layout.

    Sized once: position ``p`` lives at ``slot(p)``. Row layers keep the current block (``p % bc``), previous-block
    layers two blocks (``p % 2bc``), column layers the window offset-major (``(p % bc) * n_blocks + p // bc``, so a
    step reads one offset's keys as one contiguous slice), dense layers the window (``p``), prime layers the prefix
    (``min(p, prime_len)``: one spare slot takes the writes of positions past it). Encoder-decoder layers hold the
    keys/values of the lyric encoder's states, set once per window.
    """

    def __init__(self, func: int, n: int, n_ctx: int, block_ctx: int, prime_len: int, n_state: int,
                 dtype: torch.dtype, device, enc_len: int = 0):
        super().__init__()
        self.func, self.bc, self.prime_len = func, block_ctx, prime_len
        self.n_blocks = -(-n_ctx // block_ctx)
        slots = cache_slots(func, n_ctx, block_ctx, prime_len, enc_len)
        self.register_buffer("k", torch.zeros(n, slots, n_state, dtype=dtype, device=device), persistent=False)
        self.register_buffer("v", torch.zeros(n, slots, n_state, dtype=dtype, device=device), persistent=False)

    def slot(self, pos: Union[int, torch.Tensor]) -> Union[int, torch.Tensor]:
        """Slot of each position in ``pos`` (long tensor), or of one position (int)."""
        bc = self.bc
        if self.func == ROW:
            return pos % bc
        if self.func == PREV_BLOCK:
            return pos % (2 * bc)
        if self.func == COLUMN:
            return (pos % bc) * self.n_blocks + pos // bc
        if self.func == PRIME:
            last = self.k.shape[1] - 1
            return pos.clamp(max=last) if isinstance(pos, torch.Tensor) else min(pos, last)
        return pos

    def write_span(self, t0: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store the positions of a pass over ``t0..t0+L-1`` that later passes and steps can still read, as slice
        copies (at most three)."""
        t1 = t0 + k.shape[1]
        lo, hi = t0, t1
        if self.func in (ROW, PREV_BLOCK):
            lo = max(t0, first_key(self.func, self.bc, t1))
        elif self.func == PRIME:
            hi = min(t1, self.prime_len)
        if hi <= lo:
            return
        k, v = k[:, lo - t0:hi - t0], v[:, lo - t0:hi - t0]
        for buf, new in ((self.k, k), (self.v, v)):
            if self.func == COLUMN:
                self._write_column(buf, lo, hi, new)
            elif self.func in (ROW, PREV_BLOCK):  # a ring: the span may wrap round once
                s0 = lo % buf.shape[1]
                first = min(hi - lo, buf.shape[1] - s0)
                buf[:, s0:s0 + first] = new[:, :first]
                if first < hi - lo:
                    buf[:, :hi - lo - first] = new[:, first:]
            else:
                buf[:, lo:hi] = new

    def _write_column(self, buf: torch.Tensor, lo: int, hi: int, new: torch.Tensor) -> None:
        """A column layer's positions ``lo..hi-1`` (offset-major slots): the part block before the first whole
        block, the whole blocks, and the part block after them."""
        bc, nb = self.bc, self.n_blocks
        n, s = buf.shape[0], buf.shape[2]
        grid = buf.view(n, bc, nb, s)  # [offset, block]
        mid_lo, mid_hi = min(-(-lo // bc) * bc, hi), max(hi // bc * bc, lo)
        if mid_lo < mid_hi:
            whole = new[:, mid_lo - lo:mid_hi - lo].reshape(n, -1, bc, s)
            grid[:, :, mid_lo // bc:mid_hi // bc] = whole.transpose(1, 2)
        for a, b in ((lo, mid_lo), (max(mid_hi, mid_lo), hi)):
            if a < b:
                grid[:, a % bc:a % bc + b - a, a // bc] = new[:, a - lo:b - lo]

    def read(self, lo: int, hi: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys/values (N, hi - lo, S) of positions lo..hi-1, all still held."""
        if hi <= lo:
            return self.k[:, :0], self.v[:, :0]
        s = self.slot(torch.arange(lo, hi, device=self.k.device))
        return self.k[:, s], self.v[:, s]

    def step_mask(self, t: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """For one query at position ``t`` (0-dim long tensor): the mask of the keys it sees, in slot order (for
        a column layer, over the blocks of its offset), and whether it sees any (only a previous-block layer's
        first block sees none: it then attends to anything and outputs 0)."""
        bc = self.bc
        ar = torch.arange(self.k.shape[1], device=self.k.device)
        if self.func == ROW:
            return ar <= t % bc, None
        if self.func == PREV_BLOCK:
            seen = t >= bc
            return (ar // bc == (t // bc - 1) % 2) | ~seen, seen
        if self.func == COLUMN:
            return torch.arange(self.n_blocks, device=ar.device) <= t // bc, None
        if self.func == PRIME:
            return (ar <= t) & (ar < self.prime_len), None
        if self.func == DENSE:
            return ar <= t, None
        raise ValueError(self.func)

    def step_keys(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values (N, Tk, S) a query at ``t`` reads: the whole buffer, or a column layer's one offset."""
        if self.func != COLUMN:
            return self.k, self.v
        off = (t % self.bc).view(1)
        n, nb = self.k.shape[0], self.n_blocks
        return (self.k.view(n, self.bc, nb, -1).index_select(1, off).squeeze(1),
                self.v.view(n, self.bc, nb, -1).index_select(1, off).squeeze(1))


class StepIndex:
    """Position ``t`` of a decode step with the masks of every attention type in the network, built once a step
    rather than once a layer."""

    def __init__(self, t: torch.Tensor, caches):
        self.t = t
        self.masks, self.slots = {}, {}
        for c in caches:
            if c.func != ENC_DEC and c.func not in self.masks:
                mask, seen = c.step_mask(t)  # as an additive (1, Tk) mask: the attention kernel takes it as is
                self.masks[c.func] = (torch.zeros(mask.shape, dtype=c.k.dtype, device=t.device)
                                      .masked_fill(~mask, float("-inf")).view(1, -1), seen)
                self.slots[c.func] = c.slot(t.view(1))


def first_key(func: int, bc: int, t0: int) -> int:
    """The earliest position a query at ``t0`` or later can see (the keys a row or previous-block cache
    keeps for the positions from ``t0`` on)."""
    if func == ROW:
        return t0 // bc * bc
    if func == PREV_BLOCK:
        return max(t0 // bc - 1, 0) * bc
    return 0


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(N, T, S) -> (N, H, T, S/H)."""
    n, t, s = x.shape
    return x.view(n, t, heads, s // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(N, H, T, hd) -> (N, T, H*hd)."""
    n, h, t, d = x.shape
    return x.transpose(1, 2).reshape(n, t, h * d)


def _masked(w: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """Attention scores with ``mask`` applied as the SDPA kernel applies it: a bool mask keeps the keys it marks, a
    float mask is added."""
    if mask is None:
        return w
    return w.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else w + mask


def _one_query(q, k, v, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """The attention of one query (N, H, 1, hd) as two reductions, for the compiled step on the CPU: inductor fuses
    them into a loop or two, where the SDPA kernel's fixed cost per call outweighs a decode step's work. The same
    arithmetic as the kernel (fp32 softmax); ``mask`` as in ``_attend``."""
    w = (q * k).sum(-1) * (q.shape[-1] ** -0.5)  # (N, H, Tk)
    w = _masked(w, mask)
    w = torch.softmax(w.float(), dim=-1).to(v.dtype)
    return (w.unsqueeze(-1) * v).sum(-2, keepdim=True)


def _pad_time(x: torch.Tensor, front: int, back: int) -> torch.Tensor:
    """Zero-pad (N, T, S) along T."""
    return F.pad(x, (0, 0, front, back)) if front or back else x


def _sdpa_blocks(q, k, v, mask=None, is_causal=False) -> torch.Tensor:
    """Attention within groups: q (N, G, Tq, H, hd), k/v (N, G, Tk, H, hd) -> (N, G, Tq, H, hd), as one 4-D call
    (the fused CPU and GPU kernels take 4-D inputs)."""
    n, g, tq, h, d = q.shape
    q4, k4, v4 = (x.reshape(n * g, x.shape[2], h, d).transpose(1, 2) for x in (q, k, v))  # (N*G, H, T, hd)
    out = F.scaled_dot_product_attention(q4, k4, v4, attn_mask=mask, is_causal=is_causal)
    return out.transpose(1, 2).reshape(n, g, tq, h, d)


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
        self.record = False  # keep the attention weights of the next pass (dense, prime and encoder-decoder)
        self.last_weights: Optional[torch.Tensor] = None

    def new_cache(self, n: int, n_ctx: int, dtype: torch.dtype, device, enc_len: int = 0) -> KVCache:
        return KVCache(self.func, n, n_ctx, self.block_ctx, self.prime_len, self.n_state, dtype, device, enc_len)

    def encoder_keys(self, encoder_kv: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder-decoder layers: keys and values (N, n_tokens, S) of the lyric encoder's states, computed in
        their dtype."""
        k, v = self.c_enc_kv(encoder_kv).chunk(2, dim=-1)
        return k, v

    def forward(self, x: torch.Tensor, pos: Union[int, StepIndex] = 0, cache: Optional[KVCache] = None,
                encoder_kv: Optional[torch.Tensor] = None, queries_from: int = 0,
                queries_to: Optional[int] = None) -> torch.Tensor:
        """Positions ``pos..pos+L-1`` (N, L, W) -> (N, queries_to - queries_from, W), given earlier positions' keys
        in ``cache``.

        ``pos`` an int: a pass over L positions (no cache: the teacher-forced pass from 0); all of them give keys
        and values, and the outputs of ``x[:, queries_from:queries_to]`` are computed (priming: the positions a
        later layer still reads). ``pos`` a :class:`StepIndex`: one position at a device tensor, fixed shapes,
        reading and writing ``cache``.
        """
        if self.func == ENC_DEC:
            q = self.c_attn(x[:, queries_from:queries_to] if queries_from or queries_to is not None else x)
            k, v = (cache.k, cache.v) if cache is not None else self.encoder_keys(encoder_kv.to(x.dtype))
            return self.c_proj(self._attend(q, k, v))
        q, k, v = self.c_attn(x).chunk(3, dim=-1)
        if isinstance(pos, StepIndex):
            cache.k.index_copy_(1, pos.slots[self.func], k)
            cache.v.index_copy_(1, pos.slots[self.func], v)
            ks, vs = cache.step_keys(pos.t)
            mask, seen = pos.masks[self.func]
            out = self._attend(q, ks, vs, mask)
            if seen is not None:
                out = torch.where(seen, out, torch.zeros_like(out))
            return self.c_proj(out)
        t1, q0 = pos + x.shape[1], pos + queries_from
        q1 = t1 if queries_to is None else pos + queries_to
        lo = first_key(self.func, self.block_ctx, q0)  # the first key the queries read
        if lo < pos and cache is None:
            raise ValueError("a pass that does not start at 0 needs the cache of the positions before it")
        old_k, old_v = cache.read(lo, min(pos, self.prime_len) if self.func == PRIME else pos) if lo < pos \
            else (None, None)  # (read before the write: a ring cache reuses the slots)
        if cache is not None:
            cache.write_span(pos, k, v)
        if old_k is not None and old_k.shape[1]:
            k, v = torch.cat([old_k, k], 1), torch.cat([old_v, v], 1)
        elif lo > pos:
            k, v = k[:, lo - pos:], v[:, lo - pos:]
        last = max(0, (min(q1, self.prime_len) if self.func == PRIME else q1) - lo)  # no query reads a later key
        if last < k.shape[1]:
            k, v = k[:, :last], v[:, :last]
        if queries_from or q1 < t1:
            q = q[:, queries_from:q1 - pos]
        return self.c_proj(self._blocks(q, k, v, q0, lo))

    def store(self, x: torch.Tensor, pos: int, cache: KVCache) -> None:
        """Only write the keys/values of positions ``pos..pos+L-1`` (N, L, W) to ``cache``: priming the last layer,
        whose outputs nothing reads."""
        if self.func != ENC_DEC:  # (an encoder-decoder layer's keys are the lyrics', set once per window)
            k, v = self.c_attn(x, first_out=self.n_state).chunk(2, dim=-1)  # the queries are not needed
            cache.write_span(pos, k, v)

    def needed(self, t0: int, t1: int, outputs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Priming positions ``t0..t1-1`` with this layer's outputs needed at the spans ``outputs`` (``(lo, hi)``,
        in order): the spans of positions whose inputs the pass must have, for the keys and values that later
        passes and steps read from the cache, and for those queries and the keys they read. Row layers keep only
        the block ``t1`` falls in, previous-block layers also the block before it, prime layers the prefix,
        encoder-decoder layers none (their keys are the lyrics'); column and dense layers every position."""
        spans = []
        if self.func == PRIME and t0 < self.prime_len:
            spans.append((t0, min(t1, self.prime_len)))
        elif self.func in (ROW, PREV_BLOCK):
            spans.append((first_key(self.func, self.block_ctx, t1), t1))
        elif self.func in (COLUMN, DENSE):
            spans.append((t0, t1))
        spans += [(lo if self.func == ENC_DEC else first_key(self.func, self.block_ctx, lo), hi) for lo, hi in outputs]
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted((max(t0, lo), hi) for lo, hi in spans if max(t0, lo) < hi):
            if merged and lo <= merged[-1][1]:  # overlapping or touching: one span
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return merged

    def _blocks(self, q, k, v, q0: int, k0: int) -> torch.Tensor:
        """Queries (N, Lq, S) at q0.., keys/values (N, Lk, S) at k0.. -> (N, Lq, S), block by block."""
        func, bc, h = self.func, self.block_ctx, self.heads
        n, lq, s = q.shape
        if func in (DENSE, PRIME):
            if q0 == 0 and k.shape[1] == lq and func == DENSE and not self.record:
                return self._attend(q, k, v, causal=True)
            mask = torch.arange(k.shape[1], device=q.device) <= torch.arange(q0, q0 + lq, device=q.device)[:, None]
            return self._attend(q, k, v, mask)
        qa = q0 // bc * bc  # queries are padded to whole blocks, from the start of the first one
        front = q0 - qa
        nbq = -(-(front + lq) // bc)
        qb = _pad_time(q, front, nbq * bc - front - lq).view(n, nbq, bc, h, s // h)  # (N, nbq, bc, H, hd)
        if func == ROW:  # keys start at the first query block: causal within each block
            kb, vb = (_pad_time(x, 0, nbq * bc - x.shape[1]).view(n, nbq, bc, h, s // h) for x in (k, v))
            out = _sdpa_blocks(qb, kb, vb, is_causal=True)
        elif func == PREV_BLOCK:  # query block j reads all of key block j - 1 (a zero block before the first)
            first = qa == 0
            kb, vb = (_pad_time(x, bc if first else 0, 0)[:, :nbq * bc] for x in (k, v))
            kb, vb = (_pad_time(x, 0, nbq * bc - x.shape[1]).view(n, nbq, bc, h, s // h) for x in (kb, vb))
            out = _sdpa_blocks(qb, kb, vb)
            if first:
                out = torch.cat([torch.zeros_like(out[:, :1]), out[:, 1:]], 1)
        elif func == COLUMN:  # every offset attends over the blocks so far: causal over block index
            nbk = -(-k.shape[1] // bc)
            kb, vb = (_pad_time(x, 0, nbk * bc - x.shape[1]).view(n, nbk, bc, h, s // h) for x in (k, v))
            qc, kc, vc = (x.transpose(1, 2) for x in (qb, kb, vb))  # (N, bc, blocks, H, hd): offsets as batch
            if qa == 0:
                oc = _sdpa_blocks(qc, kc, vc, is_causal=True)
            else:
                mask = torch.arange(nbk, device=q.device) <= torch.arange(qa // bc, nbk, device=q.device)[:, None]
                oc = _sdpa_blocks(qc, kc, vc, mask=mask)
            out = oc.transpose(1, 2)
        else:
            raise ValueError(func)
        return out.reshape(n, nbq * bc, s)[:, front:front + lq]

    def _attend(self, q, k, v, mask: Optional[torch.Tensor] = None, causal: bool = False) -> torch.Tensor:
        """q (N, Tq, S), k/v (N, Tk, S), mask (Tq, Tk): bool, the keys each query sees, or additive -> (N, Tq, S)."""
        qh, kh, vh = (split_heads(x, self.heads) for x in (q, k, v))
        if self.record:
            return merge_heads(self._attend_recorded(qh, kh, vh, mask))
        if qh.shape[2] == 1 and not causal and qh.device.type == "cpu" and torch.compiler.is_compiling():
            return merge_heads(_one_query(qh, kh, vh, mask))
        return merge_heads(F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask, is_causal=causal))

    def _attend_recorded(self, qh, kh, vh, mask):
        """The same attention with its weights kept in ``last_weights`` (N, H, Tq, Tk), for the lyric alignment."""
        w = torch.matmul(qh, kh.transpose(-1, -2)) / math.sqrt(qh.shape[-1])
        w = _masked(w, mask)
        w = torch.softmax(w.float(), dim=-1)
        self.last_weights = w.detach()
        return torch.matmul(w.to(vh.dtype), vh)
