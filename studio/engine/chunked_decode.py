"""Decode codes of any length in overlapping chunks, one candidate at a time, in memory bounded by a budget.

A level's decoder is a chain of 1-D convolutions (dilated residual stacks and transposed-conv upsamplers), so the
samples of one code depend only on a fixed window of codes around it: the decoder's receptive field.
``decoder_geometry`` derives that window exactly from the kernel sizes, strides, paddings and dilations of the layers
the decoder runs; ``decode_in_chunks`` decodes each chunk with that many codes of context on either side and keeps
only the chunk's own samples, which are then the one-pass decode's samples (to float rounding), the song's first and
last samples included (a chunk that reaches an end of the song sees the same zero padding as the one-pass decode).
Chunks are independent, so on the CPU several decode at once, each on its own thread with the cores shared out
between them: the decoder's convolutions are narrow (16-64 channels), and splitting each one over every core spent
more time in thread hand-offs than in arithmetic, and far more when other programs held the cores.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator, NamedTuple, Optional

import numpy as np
import torch
from torch import nn

from .configs import VQVAEConfig
from .vqvae import VQVAE, Decoder

LIVE_ACTIVATIONS = 6  # why: at its peak a residual block holds its input, the enclosing stack's input and two or
#                       three temporaries of the widest activation: 4.5 of them per code measured on the official
#                       level-0 decoder on CPU (benchmarks/decode_memory.py); 6 leaves room for convolution workspaces
PARALLEL_BYTES = 2**30  # why: chunks decoding side by side (one per core) hold at most this much by default; the
#                        official level-0 chunk alone needs ~670 MiB, so it decodes one at a time on every core
CONTEXT_SHARE = 0.2  # why: by default a chunk spends at most a fifth of its codes on context, so the overlap costs at
#                      most a quarter more decoding than one pass


@dataclass(frozen=True)
class DecoderGeometry:
    """What chunking needs to know about one level's decoder, per code of that level."""

    left: int  # codes before a code that reach its samples
    right: int  # codes after a code that reach its samples
    hop: int  # samples per code
    widest: int  # elements (channels x samples) of the decoder's largest activation per code


def _reach(layer: nn.Module, lo: int, hi: int) -> tuple[int, int]:
    """The input positions [lo', hi'] that output positions [lo, hi] of a 1-D conv or transposed conv read."""
    k, s, p, d = layer.kernel_size[0], layer.stride[0], layer.padding[0], layer.dilation[0]
    if isinstance(layer, nn.ConvTranspose1d):  # y[t] += x[i] * w[j] where i * s - p + j * d == t
        return -((d * (k - 1) - lo - p) // s), (hi + p) // s  # ceil((lo + p - d (k-1)) / s), floor((hi + p) / s)
    return lo * s - p, hi * s - p + d * (k - 1)  # y[t] reads x[t * s - p + j * d]


_GEOMETRIES: dict = {}  # (config, level) -> DecoderGeometry: it depends on nothing else


def decoder_geometry(cfg: VQVAEConfig, level: int) -> DecoderGeometry:
    """Receptive field and widest activation of ``level``'s decoder, from the layers it runs, in the order it runs them.

    The decoder is built from ``cfg`` on the ``meta`` device (no memory, no weights) and run once on one code while
    hooks record each convolution; walking them backwards from one code's ``hop`` samples gives the codes they read.
    Worked out once per config and level (every preview and level decode asks again).
    """
    key = (repr(cfg), level)
    if key not in _GEOMETRIES:
        _GEOMETRIES[key] = _measure_geometry(cfg, level)
    return _GEOMETRIES[key]


def _measure_geometry(cfg: VQVAEConfig, level: int) -> DecoderGeometry:
    with torch.device("meta"):
        decoder = Decoder(cfg, level)
    layers: list[nn.Module] = []
    widest = [cfg.emb_width]

    def record(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        layers.append(layer)
        widest.append(output.shape[1] * output.shape[2])  # (1, C, samples per code)

    convs = [m for m in decoder.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]
    hooks = [m.register_forward_hook(record) for m in convs]
    decoder(torch.empty(1, cfg.emb_width, 1, device="meta"))  # (N, emb, T_L) with T_L = 1
    for h in hooks:
        h.remove()
    hop = cfg.hop_lengths[level]
    lo, hi = 0, hop - 1  # the samples of code 0
    for layer in reversed(layers):
        lo, hi = _reach(layer, lo, hi)
    return DecoderGeometry(left=-lo, right=hi, hop=hop, widest=max(widest))


class Span(NamedTuple):
    """One chunk in codes: decode [start, stop), keep [keep_start, keep_stop)."""

    start: int
    keep_start: int
    keep_stop: int
    stop: int


@dataclass(frozen=True)
class ChunkPlan:
    """How one level is cut: ``step`` codes kept per chunk, with the decoder's receptive field as context."""

    step: int
    geometry: DecoderGeometry

    @property
    def chunk_codes(self) -> int:
        """The most codes one chunk decodes (its own plus context on both sides)."""
        return self.step + self.geometry.left + self.geometry.right

    def spans(self, length: int) -> Iterator[Span]:
        """The chunks of ``length`` codes, in order; the last keeps what is left."""
        g = self.geometry
        for keep_start in range(0, length, self.step):
            keep_stop = min(length, keep_start + self.step)
            yield Span(max(0, keep_start - g.left), keep_start, keep_stop, min(length, keep_stop + g.right))


def bytes_per_code(geometry: DecoderGeometry, element_size: int) -> int:
    """Working memory of decoding one code (of one candidate) in a chunk: the decode memory rule."""
    return LIVE_ACTIVATIONS * geometry.widest * element_size


def plan_chunks(cfg: VQVAEConfig, level: int, max_bytes: Optional[int] = None, element_size: int = 4) -> ChunkPlan:
    """The longest chunk whose decode fits ``max_bytes`` (default: the chunk that spends ``CONTEXT_SHARE`` of its
    codes on context). Raises ValueError when the budget cannot hold one code with its context."""
    g = decoder_geometry(cfg, level)
    per_code = bytes_per_code(g, element_size)
    context = g.left + g.right
    if max_bytes is None:
        max_bytes = int(context / CONTEXT_SHARE + 1) * per_code
    step = max_bytes // per_code - context
    if step < 1:
        raise ValueError(f"a decode budget of {max_bytes} bytes cannot hold one level-{level} code with its "
                         f"{context} codes of context; it needs at least {(context + 1) * per_code} bytes")
    return ChunkPlan(step=step, geometry=g)


@torch.no_grad()
def decode_in_chunks(vqvae: VQVAE, codes: "np.ndarray | torch.Tensor", level: int, max_bytes: Optional[int] = None,
                     out: Optional[np.ndarray] = None, cores: int = 1) -> np.ndarray:
    """Render codes (N, T) int64 of ``level`` to audio (N, T * hop) float32, not clamped, on the VQ-VAE's device.

    Equal to ``vqvae.decode([codes], start_level=level)`` to float rounding, but decoded in chunks of one candidate
    that fit ``max_bytes`` together (see ``plan_chunks``), so the working memory does not grow with ``T`` or ``N``.
    On the CPU, up to ``cores`` chunks decode at once, each on its own thread, the ``cores`` shared out between them
    (see ``_plan_for``); the audio is the same however many decode at once. ``out``, when given, is the
    (N, T * hop) float32 array written into and returned.
    """
    param = next(vqvae.parameters())
    cores = max(1, cores) if param.device.type == "cpu" else 1
    plan, workers = _plan_for(vqvae.cfg, level, max_bytes, param.element_size(), cores)
    codes = torch.as_tensor(codes)  # (N, T), shares a numpy array's memory
    n, length = codes.shape
    hop = plan.geometry.hop
    if out is None:
        out = np.empty((n, length * hop), np.float32)
    elif out.shape != (n, length * hop) or out.dtype != np.float32:
        raise ValueError(f"out must be float32 of shape {(n, length * hop)}, not {out.dtype} {out.shape}")

    def decode(chunk: tuple[int, Span]) -> None:
        i, span = chunk
        z = codes[i:i + 1, span.start:span.stop].to(param.device)  # (1, chunk)
        audio = vqvae.decode([z], start_level=level)  # (1, chunk * hop); no_grad in every thread (decode's own)
        kept = audio[0, (span.keep_start - span.start) * hop:(span.keep_stop - span.start) * hop]
        out[i, span.keep_start * hop:span.keep_stop * hop] = kept.float().cpu().numpy()

    chunks = [(i, span) for i in range(n) for span in plan.spans(length)]
    workers = min(workers, len(chunks))
    before = torch.get_num_threads()
    if param.device.type == "cpu":
        torch.set_num_threads(max(1, cores // workers))  # process-wide: every worker's operations
    try:
        if workers == 1:
            for chunk in chunks:
                decode(chunk)
        else:
            pool = ThreadPoolExecutor(workers, thread_name_prefix="decode")
            try:
                for _ in pool.map(decode, chunks):  # in order; the first error is raised here
                    pass
            finally:
                pool.shutdown(cancel_futures=True)  # after an error (out of memory...) the chunks not begun never start
    finally:
        torch.set_num_threads(before)
    return out


def _plan_for(cfg: VQVAEConfig, level: int, max_bytes: Optional[int], element_size: int,
              cores: int) -> tuple[ChunkPlan, int]:
    """(plan, chunks decoded at once): as many as ``cores`` while they fit together in ``max_bytes`` (each planned
    for its share of it), or by default in ``PARALLEL_BYTES``; one at a time where even two do not fit."""
    for workers in range(cores, 0, -1):
        share = None if max_bytes is None else max_bytes // workers
        try:
            plan = plan_chunks(cfg, level, share, element_size)
        except ValueError:
            if workers == 1:
                raise
            continue
        held = workers * plan.chunk_codes * bytes_per_code(plan.geometry, element_size)
        if workers == 1 or max_bytes is not None or held <= PARALLEL_BYTES:
            return plan, workers
    raise AssertionError("unreachable: one worker always returns or raises")
