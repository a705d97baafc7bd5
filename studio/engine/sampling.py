"""Token-level sampling with a KV cache: prime a window's context in one pass, then one position per step.

Model code knows nothing of sampling policy; the policy lives here as small functions. Every step checks the
cancel flag and reports progress through a callback. Randomness comes from one generator per candidate, seeded by
the caller, so a candidate's tokens do not depend on which other candidates share its batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch

from .prior import JukeboxPrior
from .transformer import Conv1D


class Cancelled(Exception):
    """The caller's cancel flag was set; nothing of the unfinished window is kept."""


@dataclass
class WindowConditioning:
    """What one window of one prior is conditioned on (batch N)."""

    x_cond: torch.Tensor  # (N, n_ctx_total, W) or (N, 1, W)
    y_cond: Optional[torch.Tensor]  # (N, 1, W)
    encoder_kv: Optional[torch.Tensor]  # (N, n_tokens, W) for 5b_lyrics


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 0.0) -> torch.Tensor:
    """Keep the top-k logits, or the smallest set whose probability reaches top_p; others -> -inf. (N, V)."""
    if top_k and top_p:
        raise ValueError("use top_k or top_p, not both")
    logits = logits.clone()
    if top_k:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits[logits < kth] = float("-inf")
    if top_p:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = torch.softmax(sorted_logits.float(), dim=-1).cumsum(-1)
        drop = cum > top_p
        drop[..., 1:] = drop[..., :-1].clone()  # keep the token that crosses top_p
        drop[..., 0] = False
        remove = torch.zeros_like(drop).scatter(-1, order, drop)
        logits[remove] = float("-inf")
    return logits


def draw(logits: torch.Tensor, generators: Sequence[torch.Generator], temp: float, top_k: int = 0,
         top_p: float = 0.0) -> torch.Tensor:
    """One token per row of (N, V) logits, row i drawn with ``generators[i]`` (Gumbel-max, no host sync)."""
    scores = filter_logits(logits.float() / temp, top_k, top_p)
    noise = torch.stack([torch.rand(scores.shape[-1], generator=g, device=scores.device) for g in generators])
    gumbel = -torch.log(-torch.log(noise.clamp_(1e-20, 1.0 - 1e-7)))
    return torch.argmax(scores + gumbel, dim=-1)


class CachedDecoder:
    """A prior's transformer with a static per-layer KV cache sized once for a window of ``n_ctx_total``."""

    def __init__(self, prior: JukeboxPrior, n: int, cond: WindowConditioning, dtype: torch.dtype = torch.float32):
        self.prior, self.cond, self.dtype = prior, cond, dtype
        net = prior.prior
        device = net.x_emb.weight.device
        cfg = prior.cfg
        self.caches = []
        for layer in net.transformer._attn_mods:
            if layer.attn.func == 6:
                self.caches.append({})
            else:
                shape = (n, layer.attn.cache_slots(cfg.n_ctx_total), layer.attn.n_state)
                self.caches.append({"k": torch.zeros(shape, dtype=dtype, device=device),
                                    "v": torch.zeros(shape, dtype=dtype, device=device)})
        self.t = 0  # positions already in the cache

    def _x_cond(self, t0: int, length: int) -> torch.Tensor:
        xc = self.cond.x_cond
        return xc if xc.shape[1] == 1 else xc[:, t0:t0 + length]

    @torch.no_grad()
    def forward(self, prev_tokens: torch.Tensor) -> torch.Tensor:
        """Positions t..t+L-1 given the tokens before each (N, L); returns logits (N, L, V) and advances t."""
        net = self.prior.prior
        t0, length = self.t, prev_tokens.shape[1]
        xc = self._x_cond(t0, length)
        h = net.embed(prev_tokens, t0, xc, self.cond.y_cond).to(self.dtype)
        ekv = self.cond.encoder_kv.to(self.dtype) if self.cond.encoder_kv is not None else None
        for layer, cache in zip(net.transformer._attn_mods, self.caches):
            h = layer.forward_cached(h, t0, cache, ekv)
        self.t += length
        return net.head(h.float() if self.dtype != torch.float32 else h, xc)

    def prime(self, tokens: torch.Tensor, chunk_size: Optional[int] = None) -> Optional[torch.Tensor]:
        """Push known tokens (N, P) into the cache (in chunks to bound memory); returns the last logits."""
        if tokens.shape[1] == 0:
            return None
        prev = torch.cat([tokens[:, :1], tokens[:, :-1]], dim=1)  # position 0's input is replaced by the start
        chunk = chunk_size or tokens.shape[1]
        out = None
        for i in range(0, tokens.shape[1], chunk):
            out = self.forward(prev[:, i:i + chunk])
        return out


def iter_sample_window(prior: JukeboxPrior, context: torch.Tensor, n_new: int, cond: WindowConditioning,
                       generators: Sequence[torch.Generator], temp: float = 1.0, top_k: int = 0, top_p: float = 0.0,
                       chunk_size: Optional[int] = None, cancel: Optional[Callable[[], bool]] = None,
                       dtype: torch.dtype = torch.float32, allowed: Optional[slice] = None,
                       record_logits: bool = False, static: Optional[bool] = None):
    """Generator: sample ``n_new`` tokens after ``context`` (N, P) of the joint sequence, yielding the step count
    after every token; its return value is (tokens (N, n_new), logits (N, n_new, V) or None).

    ``allowed`` restricts the classes drawn (1b_lyrics: music codes only). The logits are the network's outputs
    before temperature and filtering. Raises Cancelled when ``cancel()`` turns true. ``static`` (default: on a
    GPU) steps with fixed shapes, captured in a CUDA graph on a GPU; it falls back to the eager step if capture
    fails.
    """
    n = context.shape[0]
    with torch.no_grad():
        dec = CachedDecoder(prior, n, cond, dtype)
        dec.prime(context, chunk_size)
    prev = context[:, -1:] if context.shape[1] else torch.zeros(n, 1, dtype=torch.long, device=context.device)
    out, logs = [], []
    on_gpu = context.device.type == "cuda"
    static = on_gpu if static is None else static
    stepper = dec
    for step in range(n_new):
        if cancel is not None and cancel():
            raise Cancelled()
        if static and stepper is dec and dec.t >= 1:
            stepper = _static_stepper(dec, capture=on_gpu)
            static = stepper is not dec
        with torch.no_grad():
            logits = stepper.forward(prev)[:, -1]  # (N, V)
            if record_logits:
                logs.append(logits.float().cpu())
            scores = logits
            if allowed is not None:
                scores = torch.full_like(logits, float("-inf"))
                scores[:, allowed] = logits[:, allowed]
            tok = draw(scores, generators, temp, top_k, top_p)
        out.append(tok)
        prev = tok[:, None]
        yield step + 1
    tokens = torch.stack(out, dim=1) if out else context.new_zeros(n, 0)
    return tokens, (torch.stack(logs, dim=1) if record_logits else None)


def _static_stepper(dec: CachedDecoder, capture: bool):
    from .static_step import StaticDecoder

    try:
        stepper = StaticDecoder(dec)
        if capture:
            stepper.capture()
        return stepper
    except (RuntimeError, ValueError):  # capture unsupported here: keep the eager step
        return dec


@torch.no_grad()
def teacher_forced_step_logits(prior: JukeboxPrior, tokens: torch.Tensor, cond: WindowConditioning,
                               n_known: int = 0, chunk_size: Optional[int] = None,
                               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Logits the cached sampler produces at each position after ``n_known``, feeding ``tokens`` (N, T) one at a
    time, as if it had drawn them: (N, T - n_known, V). Used to check the cache against the reference."""
    dec = CachedDecoder(prior, tokens.shape[0], cond, dtype)
    dec.prime(tokens[:, :n_known], chunk_size)
    logs = []
    for t in range(n_known, tokens.shape[1]):
        prev = tokens[:, t - 1:t] if t > 0 else torch.zeros_like(tokens[:, :1])
        logs.append(dec.forward(prev)[:, -1])
    return torch.stack(logs, dim=1)


PRIMING_CHUNK = 2048


def priming_chunk(cfg, requested=None) -> int:
    """Tokens pushed through the network per priming pass: large passes are fast, but the attention scores of a
    pass grow with chunk x context, so official 8192-token windows are primed in a few 2048-token passes."""
    return int(requested or min(cfg.n_ctx_total, PRIMING_CHUNK))


def cast_for_sampling(prior, dtype):
    """Cast the transformer's projection weights to the sampling dtype once, not on every call (fp16-stored
    official weights become exact fp32 on CPU, bf16 on GPU)."""
    if getattr(prior, "_sampling_dtype", None) == dtype:
        return
    for m in prior.prior.modules():
        if isinstance(m, Conv1D):
            m.to(dtype)
    prior._sampling_dtype = dtype
