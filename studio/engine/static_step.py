"""A fixed-shape decode step, for capture in a CUDA graph.

The eager step (``CachedDecoder.forward``) slices its caches with Python integers, so every step has new shapes
and a thousand small kernel launches. Here the position is a device tensor, caches are read whole with masks
built on the device and written with ``index_copy_``, so one step always runs the same kernels on the same
buffers: on a GPU it is captured once per window and replayed; on the CPU it runs eagerly (and is tested there
against the eager step).
"""

from __future__ import annotations

import torch

from .sampling import CachedDecoder
from .transformer import COLUMN, DENSE, ENC_DEC, PREV_BLOCK, PRIME, ROW


class StaticDecoder:
    """Takes over a primed ``CachedDecoder`` (position >= 1) and steps it with fixed shapes."""

    def __init__(self, dec: CachedDecoder):
        if dec.t < 1:
            raise ValueError("prime or step the decoder once before switching to the static step")
        self.dec = dec
        net = dec.prior.prior
        dev = net.x_emb.weight.device
        self.device = dev
        n = dec.caches[0]["k"].shape[0] if "k" in dec.caches[0] else dec.cond.x_cond.shape[0]
        self.n_ctx_total = dec.prior.cfg.n_ctx_total
        self.t = torch.tensor(dec.t, device=dev)  # position of the next step
        self.prev = torch.zeros(n, 1, dtype=torch.long, device=dev)  # token before it
        self.caches = []
        for layer, cache in zip(net.transformer._attn_mods, dec.caches):
            if layer.attn.func == ENC_DEC:
                self.caches.append(cache)
                continue
            k, v = cache["k"], cache["v"]
            if layer.attn.func == PRIME:  # one spare slot takes the writes of positions past the prefix
                k = torch.cat([k, torch.zeros_like(k[:, :1])], 1)
                v = torch.cat([v, torch.zeros_like(v[:, :1])], 1)
            self.caches.append({"k": k.clone(), "v": v.clone()})
        self.logits = None
        self.graph = None

    # -- one step, fixed shapes -------------------------------------------------------------------------------
    def _attn(self, attn, x: torch.Tensor, cache: dict, ekv) -> torch.Tensor:
        t = self.t
        if attn.func == ENC_DEC:
            if "k" not in cache:
                cache["k"], cache["v"] = attn.c_enc_kv(ekv.to(x.dtype)).chunk(2, dim=-1)
            return attn.c_proj(attn._attend(attn.c_attn(x), cache["k"], cache["v"], None))
        q, k, v = attn.c_attn(x).chunk(3, dim=-1)
        kc, vc = cache["k"], cache["v"]
        slots = kc.shape[1]
        bc = attn.block_ctx
        if attn.func == PRIME:
            slot = torch.clamp(t, max=slots - 1)  # positions past the prefix land in the spare slot
        else:
            slot = t % slots
        kc.index_copy_(1, slot.view(1), k)
        vc.index_copy_(1, slot.view(1), v)
        ar = torch.arange(slots, device=t.device)
        if attn.func == ROW:
            valid = ar <= t % bc
            ks, vs = kc, vc
        elif attn.func == PREV_BLOCK:
            start = ((t // bc - 1) % 2) * bc
            valid = (ar >= start) & (ar < start + bc) & (t >= bc)
            ks, vs = kc, vc
        elif attn.func == COLUMN:
            idx = torch.arange(0, slots, bc, device=t.device) + t % bc
            valid = idx <= t
            idx = idx.clamp(max=slots - 1)
            ks, vs = kc.index_select(1, idx), vc.index_select(1, idx)
        elif attn.func == PRIME:
            valid = (ar <= t) & (ar < slots - 1)
            ks, vs = kc, vc
        elif attn.func == DENSE:
            valid = ar <= t
            ks, vs = kc, vc
        else:
            raise ValueError(attn.func)
        return attn.c_proj(attn._attend(q, ks, vs, valid.view(1, -1)))

    def step(self) -> torch.Tensor:
        """Logits (N, V) at position ``t`` given ``prev``; advances ``t``. Fixed shapes throughout."""
        dec, net = self.dec, self.dec.prior.prior
        xc = dec.cond.x_cond
        x_t = xc if xc.shape[1] == 1 else xc.index_select(1, self.t.view(1))
        h = net.x_emb(self.prev) + net.pos_emb.pos_emb.index_select(0, self.t.view(1)) + x_t
        h = h.to(dec.dtype)
        ekv = dec.cond.encoder_kv.to(dec.dtype) if dec.cond.encoder_kv is not None else None
        for layer, cache in zip(net.transformer._attn_mods, self.caches):
            a = self._attn(layer.attn, layer.ln_0(h), cache, ekv)
            h = h + a + layer.mlp(layer.ln_1(h + a))
        out = net.head(h.float() if dec.dtype != torch.float32 else h, x_t)[:, -1]
        self.t.add_(1)
        return out

    # -- CUDA graph ---------------------------------------------------------------------------------------------
    def capture(self) -> None:
        """Record one step in a CUDA graph (after a warm-up on a side stream); later steps replay it."""
        t_before = self.t.clone()
        snapshot = [({k: c[k].clone() for k in ("k", "v")} if "k" in c else None) for c in self.caches]
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream), torch.no_grad():
            self.step()
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph), torch.no_grad():
            self.logits = self.step()
        # warm-up and capture advanced the state: put it back
        self.t.copy_(t_before)
        for c, s in zip(self.caches, snapshot):
            if s is not None:
                c["k"].copy_(s["k"])
                c["v"].copy_(s["v"])

    @torch.no_grad()
    def forward(self, prev: torch.Tensor) -> torch.Tensor:
        """Same contract as ``CachedDecoder.forward`` for one token: prev (N, 1) -> logits (N, 1, V)."""
        self.prev.copy_(prev)
        if self.graph is not None:
            self.graph.replay()
            return self.logits[:, None]
        return self.step()[:, None]
