"""Token-level sampling with a KV cache: prime a window's context in block-structured passes, then one position per
step.

Model code knows nothing of sampling policy; the policy lives here as small functions. A step is one fixed-shape
function (``sample_step``): the network at a position tensor, then temperature, top-k/top-p and the draw, all on
the device; the drawn token feeds the next step without leaving it. Randomness is counter-based: the noise of a
candidate's token is a hash of its stream key (seed, level, window, candidate), the position and the class, so a
candidate's tokens do not depend on its batch, on resume or on the machine. Every step checks the cancel flag and
yields its count.
"""

from __future__ import annotations

import weakref
from dataclasses import asdict, dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from . import step_compile
from .attention import StepIndex
from .configs import ENC_DEC
from .prior import JukeboxPrior


class Cancelled(Exception):
    """The caller's cancel flag was set; nothing of the unfinished window is kept."""


@dataclass
class WindowConditioning:
    """What one window of one prior is conditioned on (batch N)."""

    x_cond: torch.Tensor  # (N, n_ctx_total, W) or (N, 1, W)
    y_cond: Optional[torch.Tensor]  # (N, 1, W)
    encoder_kv: Optional[torch.Tensor]  # (N, n_tokens, W) for 5b_lyrics


# -- the draw ---------------------------------------------------------------------------------------------------
_M32 = 0xFFFFFFFF


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (int64 tensors holding values below 2**32; products stay below 2**59)."""
    x = (((x >> 16) ^ x) * 0x45D9F3B) & _M32
    x = (((x >> 16) ^ x) * 0x45D9F3B) & _M32
    return (x >> 16) ^ x


def gumbel_noise(keys: torch.Tensor, t0: int, steps: int, n_classes: int) -> torch.Tensor:
    """Counter-based Gumbel noise (N, steps, V) for positions t0..t0+steps-1 from stream keys (N,) int64.

    The same key, position and class give the same number on any device, in any batch.
    """
    return gumbel_at(keys, torch.arange(t0, t0 + steps, device=keys.device), n_classes)


def gumbel_at(keys: torch.Tensor, pos: torch.Tensor, n_classes: int) -> torch.Tensor:
    """The noise of :func:`gumbel_noise` at positions ``pos`` (S,) long tensor: (N, S, V)."""
    lo, hi = keys & _M32, (keys >> 32) & _M32
    row = _mix32(_mix32(_mix32(lo) ^ hi)[:, None] ^ pos)  # (N, S)
    row2 = _mix32(row ^ 0x5BD1E995)
    cls = torch.arange(n_classes, device=keys.device)
    x = _mix32(_mix32(row[..., None] ^ cls) ^ row2[..., None])  # (N, S, V)
    u = ((x >> 8).to(torch.float32) + 0.5) * (1.0 / 2**24)  # in (0, 1)
    return -torch.log(-torch.log(u))


NOISE_BLOCK = 64  # steps of noise the eager step's loop makes at a time (the compiled step makes its own)


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 0.0) -> torch.Tensor:
    """Keep the top-k logits, or the smallest set whose probability reaches top_p; others -> -inf. (N, V)."""
    if top_k and top_p:
        raise ValueError("use top_k or top_p, not both")
    ninf = torch.tensor(float("-inf"), device=logits.device, dtype=logits.dtype)
    if top_k:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = torch.where(logits < kth, ninf, logits)
    if top_p:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = torch.softmax(sorted_logits.float(), dim=-1).cumsum(-1)
        drop = torch.cat([torch.zeros_like(cum[..., :1], dtype=torch.bool), cum[..., :-1] > top_p], dim=-1)
        remove = torch.zeros_like(drop).scatter(-1, order, drop)  # keep the token that crosses top_p
        logits = torch.where(remove, ninf, logits)
    return logits


def draw(logits: torch.Tensor, gumbel: torch.Tensor, temp: torch.Tensor, top_k: int = 0, top_p: float = 0.0,
         allowed_from: int = 0) -> torch.Tensor:
    """One token per row of (N, V) logits: Gumbel-max with this position's noise (N, V); no host sync.

    ``allowed_from`` > 0 draws only classes from that index on (1b_lyrics: music codes, not lyric tokens).
    """
    scores = logits.float() / temp
    if allowed_from:
        cls = torch.arange(scores.shape[-1], device=scores.device)
        scores = scores.masked_fill(cls < allowed_from, float("-inf"))
    scores = filter_logits(scores, top_k, top_p)
    return torch.argmax(scores + gumbel, dim=-1)


# -- the decoder ------------------------------------------------------------------------------------------------
def activation_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype a sampling dtype computes in: itself, or bf16 for int8 weights (``torch.int8``)."""
    return torch.bfloat16 if dtype == torch.int8 else dtype


class WindowDecoder(nn.Module):
    """A prior's transformer with a KV cache per layer for a window of N sequences, sized once; the conditioning
    of the current window lives in buffers, so one decoder (and one compiled step) serves every window."""

    def __init__(self, prior: JukeboxPrior, n: int, dtype: torch.dtype, x_cond_len: int, enc_len: int = 0):
        super().__init__()
        net = prior.prior
        # the activations' and cache's dtype, and the name of the sampling dtype (torch.int8: int8 weights). A name,
        # not a dtype object: a saved compiled step pickles the decoder's plain attributes as unknown values, and a
        # dtype object among them would blank every tensor of that dtype in the saved guards.
        self.dtype, self.sampling_dtype = activation_dtype(dtype), str(dtype)
        self.net, self.n = net, n
        device = net.x_emb.weight.device
        self.caches = net.transformer.new_caches(n, self.dtype, device, enc_len)
        # what a compiled step of this decoder is specialised on (see step_key)
        self.graph_key = repr((asdict(prior.cfg), n, str(dtype), x_cond_len, enc_len, device.type))
        self.register_buffer("x_cond", torch.zeros(n, x_cond_len, net.width, device=device), persistent=False)
        self.register_buffer("sos", torch.zeros(n, 1, net.width, device=device), persistent=False)
        self.t = 0  # positions already in the cache (the chunked pass)

    @torch.no_grad()
    def start(self, cond: WindowConditioning) -> "WindowDecoder":
        """Take a new window's conditioning; the cache starts empty (slots are only read once written)."""
        self.x_cond.copy_(cond.x_cond.expand_as(self.x_cond))
        self.sos.copy_(self.net.start(self.n, cond.y_cond).float())
        for layer, cache in zip(self.net.transformer.layers, self.caches):
            if cache.func == ENC_DEC:
                k, v = layer.attn.encoder_keys(cond.encoder_kv.to(self.dtype))
                cache.k.copy_(k)
                cache.v.copy_(v)
        self.t = 0
        return self

    def _head(self, h: torch.Tensor, xc: torch.Tensor) -> torch.Tensor:
        return self.net.head(h.float() if self.dtype != torch.float32 else h, xc)

    @torch.no_grad()
    def prime(self, tokens: torch.Tensor, chunk_size: Optional[int] = None) -> None:
        """Push known tokens (N, P) into the cache, in chunks to bound memory (keys and values only: no logits)."""
        if tokens.shape[1] == 0:
            return
        prev = torch.cat([tokens[:, :1], tokens[:, :-1]], dim=1)  # position 0's input is replaced by the start
        chunk = chunk_size or tokens.shape[1]
        for i in range(0, tokens.shape[1], chunk):
            t0, part = self.t, prev[:, i:i + chunk]
            xc = self.x_cond if self.x_cond.shape[1] == 1 else self.x_cond[:, t0:t0 + part.shape[1]]
            self.net.transformer.fill(self.net.embed(part, t0, xc, self.sos).to(self.dtype), t0, self.caches)
            self.t += part.shape[1]

    def step(self, prev: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Logits (N, V) at position ``t`` (0-dim device tensor) given the token before it (N, 1). Fixed shapes."""
        xc = self.x_cond if self.x_cond.shape[1] == 1 else self.x_cond.index_select(1, t.view(1))
        h = self.net.embed(prev, t, xc, self.sos).to(self.dtype)
        h = self.net.transformer(h, None, StepIndex(t, self.caches), self.caches)
        return self._head(h, xc)[:, -1]


_DECODERS: "weakref.WeakKeyDictionary[JukeboxPrior, WindowDecoder]" = weakref.WeakKeyDictionary()


def window_decoder(prior: JukeboxPrior, cond: WindowConditioning, dtype: torch.dtype) -> WindowDecoder:
    """The prior's decoder for this batch and dtype, made once and reused window after window."""
    n = cond.x_cond.shape[0]
    enc_len = cond.encoder_kv.shape[1] if cond.encoder_kv is not None else 0
    dec = _DECODERS.get(prior)
    made_for = (n, str(dtype), cond.x_cond.shape[1], prior.prior)
    if dec is None or (dec.n, dec.sampling_dtype, dec.x_cond.shape[1], dec.net) != made_for \
            or any(c.func == ENC_DEC and c.k.shape[1] != enc_len for c in dec.caches):
        _DECODERS.pop(prior, None)  # free the old caches first
        dec = WindowDecoder(prior, n, dtype, cond.x_cond.shape[1], enc_len)
        _DECODERS[prior] = dec
    return dec.start(cond)


def sample_step(dec: WindowDecoder, prev: torch.Tensor, t: torch.Tensor, gumbel: torch.Tensor, temp: torch.Tensor,
                top_k: int, top_p: float, allowed_from: int):
    """One decode step, fixed shapes: (token (N,), logits (N, V)) at position ``t`` with its noise (N, V)."""
    logits = dec.step(prev, t)
    return draw(logits, gumbel, temp, top_k, top_p, allowed_from), logits


def sample_step_keyed(dec: WindowDecoder, prev: torch.Tensor, t: torch.Tensor, keys: torch.Tensor,
                      temp: torch.Tensor, top_k: int, top_p: float, allowed_from: int):
    """:func:`sample_step` making its own noise from the stream keys (N,): the compiled step, where the hash fuses
    into the draw; eager, the loop makes a block of steps' noise at a time instead (fewer, larger operations)."""
    gumbel = gumbel_at(keys, t.view(1), dec.net.bins)[:, 0]
    return sample_step(dec, prev, t, gumbel, temp, top_k, top_p, allowed_from)


def step_key(dec: WindowDecoder, prev, t, keys, temp, top_k: int, top_p: float, allowed_from: int):
    """What one compiled graph of ``sample_step_keyed`` is specialised on (the tensors' shapes follow from the
    decoder)."""
    return (dec.graph_key, top_k, top_p, allowed_from)


def allowed_classes(cfg) -> Optional[slice]:
    """The classes a prior may draw: its music codes only where lyrics share its vocabulary (``single_enc_dec``,
    codes after the ``n_vocab`` lyric tokens), else all."""
    return slice(cfg.n_vocab, None) if cfg.single_enc_dec else None


def iter_sample_window(prior: JukeboxPrior, context: torch.Tensor, n_new: int, cond: WindowConditioning,
                       seeds: Sequence[int], temp: float = 1.0, top_k: int = 0, top_p: float = 0.0,
                       chunk_size: Optional[int] = None, cancel: Optional[Callable[[], bool]] = None,
                       dtype: torch.dtype = torch.float32, allowed: Optional[slice] = None,
                       record_logits: bool = False, compiled: Optional[bool] = None):
    """Generator: sample ``n_new`` tokens after ``context`` (N, P) of the joint sequence, yielding the step count
    after every token; its return value is (tokens (N, n_new), logits (N, n_new, V) or None).

    ``seeds`` are the candidates' stream keys (one each; see ``windows.seed_for``). ``allowed`` restricts the classes
    drawn (1b_lyrics: music codes only). The logits are the network's outputs before temperature and filtering.
    Raises Cancelled when ``cancel()`` turns true. ``compiled`` runs the compiled step (default: the setting,
    see ``step_compile``); it falls back to the eager step if compiling fails.
    """
    n, device = context.shape[0], context.device
    with torch.no_grad():
        dec = window_decoder(prior, cond, dtype)
        dec.prime(context, chunk_size)
    step_fn = step_compile.step_function(sample_step_keyed, device, compiled, key_of=step_key)
    block_noise = step_fn is sample_step_keyed  # eager: noise a block of steps at a time
    prev = torch.zeros(n, 1, dtype=torch.long, device=device)  # its own strides: a saved step's guards check them
    if context.shape[1]:
        prev.copy_(context[:, -1:])
    t = torch.tensor(context.shape[1], device=device)
    keys = torch.tensor([int(s) for s in seeds], dtype=torch.long, device=device)
    temp_t = torch.tensor(float(temp), device=device)
    allowed_from = int(allowed.start) if allowed is not None else 0
    out = torch.zeros(n, n_new, dtype=torch.long, device=device)
    logs = []
    n_classes = prior.prior.bins
    for step in range(n_new):
        if cancel is not None and cancel():
            raise Cancelled()
        with torch.no_grad():
            if not block_noise:
                tok, logits = step_fn(dec, prev, t, keys, temp_t, int(top_k), float(top_p), allowed_from)
            else:
                if step % NOISE_BLOCK == 0:
                    noise = gumbel_noise(keys, context.shape[1] + step, NOISE_BLOCK, n_classes)
                tok, logits = sample_step(dec, prev, t, noise[:, step % NOISE_BLOCK], temp_t, int(top_k),
                                          float(top_p), allowed_from)
            out[:, step] = tok
            prev.copy_(tok[:, None])
            t += 1
            if record_logits:
                logs.append(logits.float().clone())
        yield step + 1
    return out, (torch.stack(logs, dim=1) if record_logits else None)


def run_window(gen):
    """Drive an ``iter_sample_window`` generator to its end; returns its (tokens, logits)."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


@torch.no_grad()
def teacher_forced_step_logits(prior: JukeboxPrior, tokens: torch.Tensor, cond: WindowConditioning,
                               n_known: int = 0, chunk_size: Optional[int] = None,
                               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Logits the sampler's step produces at each position after ``n_known``, feeding ``tokens`` (N, T) one at a
    time, as if it had drawn them: (N, T - n_known, V). Used to check the cache against the reference."""
    dec = window_decoder(prior, cond, dtype)
    dec.prime(tokens[:, :n_known], chunk_size)
    logs = []
    for t in range(n_known, tokens.shape[1]):
        prev = tokens[:, t - 1:t] if t > 0 else torch.zeros_like(tokens[:, :1])
        logs.append(dec.step(prev, torch.tensor(t, device=tokens.device)))
    return torch.stack(logs, dim=1)


PRIMING_CHUNK = 2048


def priming_chunk(cfg, requested=None) -> int:
    """Tokens pushed through the network per priming pass: large passes are fast, but the attention scores of a
    pass grow with chunk x context, so official 8192-token windows are primed in a few 2048-token passes."""
    return int(requested or min(cfg.n_ctx_total, PRIMING_CHUNK))


def cast_for_sampling(prior, dtype):
    """Put the prior's weights in the sampling dtype before a window is sampled (see
    :meth:`JukeboxPrior.cast_for_sampling`; the prior keeps track of what it was cast to)."""
    prior.cast_for_sampling(dtype)
