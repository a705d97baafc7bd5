"""Memory arithmetic on the networks' configs, and the memory a device offers; no torch, no model built.

What a config needs: its parameters (counted as the official module layout builds them, see docs/MODELS.md, "How the
estimates are made"), its KV cache in the sparse layout the sampler allocates (:class:`studio.engine.attention.KVCache`)
and its activations while a window is sampled. What a device offers: a GPU's free memory from NVIDIA's management
library (the driver's, so asking never loads torch), else the CPU's ``MemAvailable``. The model store's hardware check
and the sampler's batch limit both size with these functions, and nothing else sizes.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Optional

from .configs import (COLUMN, DENSE, ENC_DEC, OFFICIAL_VQVAE, PREV_BLOCK, PRIME, ROW, LyricEncoderConfig,
                      PriorConfig, VQVAEConfig, attention_pattern, prime_key_count)

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}
USABLE_FRACTION = 0.9  # of the available memory: room for allocator fragmentation and library workspaces


def element_bytes(dtype) -> int:
    """Bytes of one element: ``dtype`` a name in :data:`DTYPE_BYTES`, or a torch or numpy dtype (its itemsize)."""
    return DTYPE_BYTES[dtype] if isinstance(dtype, str) else int(dtype.itemsize)


# --- parameters ------------------------------------------------------------------------------------------------


def _layer_numel(width: int, n_state: int, mlp: int) -> tuple[int, int]:
    """(Conv1D weights, everything else) of one transformer block; an encoder-decoder block has the same count
    (q: width x n_state plus k,v: width x 2 n_state)."""
    weights = width * 3 * n_state + n_state * width + 2 * width * mlp
    other = 3 * n_state + width + mlp + width + 4 * width  # biases of c_attn, c_proj, c_fc, c_proj; 2 LayerNorms
    return weights, other


def _add(acc: dict, dtype: str, n: int) -> None:
    acc[dtype] = acc.get(dtype, 0) + int(n)


def _transformer_numel(acc: dict, width: int, n_state: int, mlp: int, depth: int, fp16: bool) -> None:
    w, o = _layer_numel(width, n_state, mlp)
    _add(acc, "float16" if fp16 else "float32", w * depth)
    _add(acc, "float32", o * depth)


def _lyric_encoder_numel(acc: dict, enc: LyricEncoderConfig, cfg: PriorConfig) -> None:
    lw = enc.width
    _transformer_numel(acc, lw, int(lw * enc.m_attn), int(lw * enc.m_mlp), enc.depth, cfg.fp16_params)
    _add(acc, "float32", lw + cfg.n_vocab * lw + cfg.n_tokens * lw)  # start token, x_emb, pos_emb (encode only)
    _add(acc, "float16" if cfg.fp16_params else "float32", lw * cfg.width)  # prime_state_proj.w
    _add(acc, "float32", cfg.width + 2 * cfg.width + cfg.n_vocab * cfg.width)  # its bias, prime_state_ln, prime_x_out


def _conditioner_numel(cfg: PriorConfig) -> int:
    """The upsampler's conditioner: code embedding, conv in, per downsampling a Resnet1D and a ConvTranspose1d, LN."""
    w, cw = cfg.width, cfg.cond_width
    ns = int(cw * cfg.cond_m_conv)
    n = cfg.bins * w + (w * cw * 3 + cw)
    steps = cfg.downs_t[cfg.level + 1]
    kernel = cfg.strides_t[cfg.level + 1] * 2
    for i in range(steps):
        n += cfg.cond_depth * (cw * ns * 3 + ns + ns * cw + cw)
        out = w if i == steps - 1 else cw
        n += cw * out * kernel + out
    return n + 2 * w


def state_numel_by_dtype(cfg) -> dict:
    """Elements of the state dict by stored dtype, as the reference builds it (``{"float32": n, "float16": m}``).

    Tied ``x_out`` weights are counted twice (both keys are in the state dict) and the VQ-VAE codebooks are included,
    as in ``models.summary.json``'s ``numel_by_dtype``.
    """
    if isinstance(cfg, VQVAEConfig):
        return {"float32": vqvae_n_params(cfg) + cfg.levels * cfg.l_bins * cfg.emb_width}
    acc: dict = {}
    w = cfg.width
    _transformer_numel(acc, w, cfg.n_state, int(w * cfg.m_mlp), cfg.depth, cfg.fp16_params)
    emb = cfg.total_bins * w * 2 + cfg.n_ctx_total * w  # x_emb, x_out (tied or not, the key exists), pos_emb
    if cfg.labels:
        emb += (cfg.y_bins[0] + cfg.y_bins[1]) * w
        if cfg.is_top:
            emb += 3 * cfg.t_bins * w  # total length, absolute and relative position
    else:
        emb += w  # learned start token
    if not cfg.is_top:
        emb += _conditioner_numel(cfg)
    _add(acc, "float32", emb)
    if cfg.lyric_encoder is not None:
        _lyric_encoder_numel(acc, cfg.lyric_encoder, cfg)
    return acc


def n_params(cfg) -> int:
    """Unique parameters (a tied ``x_out`` counted once, VQ-VAE codebooks excluded: they are buffers)."""
    if isinstance(cfg, VQVAEConfig):
        return vqvae_n_params(cfg)
    total = sum(state_numel_by_dtype(cfg).values())
    return total - (0 if cfg.merged_decoder else cfg.total_bins * cfg.width)


def vqvae_n_params(cfg: VQVAEConfig) -> int:
    """Parameters of the VQ-VAE: an encoder and a decoder per level, each a stack of conv blocks per downsampling."""
    e, n = cfg.emb_width, 0

    def resnet(width: int, depth: int) -> int:
        ns = int(cfg.m_conv * width)
        return depth * (width * ns * 3 + ns + ns * width + width)

    for level in range(cfg.levels):
        width, depth = cfg.width * cfg.multipliers[level], cfg.depth * cfg.multipliers[level]
        for i in range(level + 1):
            k = cfg.strides_t[i] * 2
            for j in range(cfg.downs_t[i]):  # encoder: strided conv, then residual stack
                c_in = (1 if i == 0 else e) if j == 0 else width
                n += c_in * width * k + width + resnet(width, depth)
            n += width * e * 3 + e
            n += e * width * 3 + width  # decoder: conv in, then residual stack and transposed conv
            for j in range(cfg.downs_t[i]):
                out = e if j == cfg.downs_t[i] - 1 else width
                n += resnet(width, depth) + width * out * k + out
        n += e * 3 + 1  # decoder output conv to one channel
    return n


def param_bytes(cfg, dtype: str) -> int:
    """Parameter memory with every parameter held in ``dtype`` ("fp32", "fp16" or "bf16")."""
    return n_params(cfg) * element_bytes(dtype)


def released_param_bytes(cfg) -> int:
    """Parameter memory as the reference holds it (fp16 Conv1D weights for the 5b tops, the rest fp32), unique."""
    by = state_numel_by_dtype(cfg)
    total = by.get("float32", 0) * 4 + by.get("float16", 0) * 2
    if isinstance(cfg, PriorConfig) and not cfg.merged_decoder:
        total -= cfg.total_bins * cfg.width * 4
    elif isinstance(cfg, VQVAEConfig):
        total -= cfg.levels * cfg.l_bins * cfg.emb_width * 4
    return total


# --- sampling ----------------------------------------------------------------------------------------------------


def cache_slots(func: int, n_ctx: int, block_ctx: int, prime_keys: int, enc_len: int) -> int:
    """Positions the KV cache of one layer holds for one sequence of ``n_ctx`` positions, by attention type: row
    layers one block, previous-block layers two, column layers every block, dense layers the window, prime layers
    the ``prime_keys`` lyric positions plus a spare slot that takes the writes past them, encoder-decoder layers the
    ``enc_len`` lyric-encoder states."""
    return {ROW: block_ctx, PREV_BLOCK: 2 * block_ctx, COLUMN: -(-n_ctx // block_ctx) * block_ctx, DENSE: n_ctx,
            PRIME: min(prime_keys, n_ctx) + 1, ENC_DEC: enc_len}[func]


def kv_cache_slots(cfg: PriorConfig) -> int:
    """Cache positions of a prior summed over its layers, for one sample (each holds a key and a value of
    ``n_state`` channels); encoder-decoder layers hold the ``n_tokens`` states of the separate lyric encoder."""
    n = cfg.n_ctx_total
    enc_len = cfg.n_tokens if cfg.lyric_encoder is not None else 0
    keys = prime_key_count(cfg.prefix_len, cfg.blocks)
    return sum(cache_slots(f, n, n // cfg.blocks, keys, enc_len) for f in attention_pattern(cfg.attn_order, cfg.depth))


def kv_cache_bytes(cfg: PriorConfig, dtype="fp16", batch: int = 1) -> int:
    """KV cache of a level as the sampler allocates it: ``batch x kv_cache_slots x 2 (k, v) x n_state x bytes``;
    ``dtype`` as :func:`element_bytes` takes it."""
    return batch * kv_cache_slots(cfg) * 2 * cfg.n_state * element_bytes(dtype)


def activation_bytes(cfg: PriorConfig, dtype: str = "fp16", chunk_size: int = 32) -> int:
    """Peak activations of one sample while sampling a window (conservative), in bytes.

    Persistent for the window: the conditioning ``x_cond`` (n_ctx x width, fp32) and, for 5b_lyrics, the projected
    lyric states (n_tokens x width). Transient, the larger of: one chunk of ``chunk_size`` tokens through a block
    (residual, LayerNorm, q/k/v, attention output, MLP hidden and activation), fp32 attention scores and
    probabilities against the whole context, fp32 logits and probabilities; or the upsampler conditioner's conv
    stack over the window (three cond_width x n_ctx fp32 maps plus two width x n_ctx maps).
    """
    a = element_bytes(dtype)
    w, ns, m, c = cfg.width, cfg.n_state, int(cfg.width * cfg.m_mlp), chunk_size
    persistent = cfg.n_ctx * w * 4
    if cfg.lyric_encoder is not None:
        persistent += cfg.n_tokens * w * a
    stream = c * (2 * w + 3 * ns + ns + 2 * m) * a
    scores = 2 * cfg.heads * c * cfg.n_ctx_total * 4
    logits = 2 * c * cfg.total_bins * 4
    transient = stream + scores + logits
    if not cfg.is_top:
        transient = max(transient, (3 * cfg.cond_width + 2 * w) * cfg.n_ctx * 4)
    if cfg.lyric_encoder is not None:
        enc = cfg.lyric_encoder
        lt = cfg.n_tokens
        enc_peak = lt * (2 * enc.width + 4 * int(enc.width * enc.m_attn) + 2 * int(enc.width * enc.m_mlp)) * a
        transient = max(transient, enc_peak + 2 * enc.heads * lt * lt * 4)
    return persistent + transient


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak memory of sampling one level at ``batch`` samples in ``dtype`` (bytes)."""

    level: int
    batch: int
    dtype: str
    params: int  # the prior in dtype plus the VQ-VAE in fp32
    kv_cache: int  # all samples
    activations: int  # all samples

    @property
    def total(self) -> int:
        return self.params + self.kv_cache + self.activations


def estimate(cfg: PriorConfig, batch: int = 1, dtype: str = "fp16", chunk_size: int = 32,
             vqvae: Optional[VQVAEConfig] = OFFICIAL_VQVAE) -> MemoryEstimate:
    """Peak memory of sampling ``batch`` samples of one level; activations and cache in ``dtype`` too."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype {dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
    params = param_bytes(cfg, dtype) + (param_bytes(vqvae, "fp32") if vqvae is not None else 0)
    return MemoryEstimate(
        level=cfg.level, batch=batch, dtype=dtype, params=params,
        kv_cache=kv_cache_bytes(cfg, dtype, batch), activations=batch * activation_bytes(cfg, dtype, chunk_size),
    )


# --- what a device offers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceMemory:
    """Memory a model may use on one device."""

    device: str  # "cuda:0" or "cpu"
    name: str  # e.g. "NVIDIA H100 80GB HBM3" or "CPU RAM"
    available: int  # bytes free now
    total: int  # bytes in all

    @property
    def is_gpu(self) -> bool:
        return self.device.startswith("cuda")


class _NvmlMemory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


def _gpu_memory(index: int) -> Optional[DeviceMemory]:
    """GPU ``index`` as CUDA numbers the GPUs this process may use (``CUDA_VISIBLE_DEVICES``, by index or UUID),
    read through the driver's NVML; None where there is no such GPU or no NVIDIA driver. NVML numbers GPUs in PCI
    order, as CUDA does with ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` (and on any machine whose GPUs are all alike)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    key = str(index)
    if visible is not None:
        ids = [v.strip() for v in visible.split(",")]
        if index >= len(ids) or not ids[index]:
            return None
        key = ids[index]
    try:
        nvml = ctypes.CDLL("nvml.dll" if os.name == "nt" else "libnvidia-ml.so.1")
    except OSError:
        return None
    if nvml.nvmlInit_v2() != 0:
        return None
    try:
        handle, mem, name = ctypes.c_void_p(), _NvmlMemory(), ctypes.create_string_buffer(96)
        found = (nvml.nvmlDeviceGetHandleByIndex_v2(ctypes.c_uint(int(key)), ctypes.byref(handle)) if key.isdigit()
                 else nvml.nvmlDeviceGetHandleByUUID(key.encode(), ctypes.byref(handle)))
        if found != 0 or nvml.nvmlDeviceGetMemoryInfo(handle, ctypes.byref(mem)) != 0 \
                or nvml.nvmlDeviceGetName(handle, name, ctypes.c_uint(len(name))) != 0:
            return None
        return DeviceMemory(f"cuda:{index}", name.value.decode(errors="replace"), int(mem.free), int(mem.total))
    finally:
        nvml.nvmlShutdown()


def _meminfo_available() -> tuple[int, int]:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f if line.split()[1:]}
        return info.get("MemAvailable", info.get("MemFree", 0)), info.get("MemTotal", 0)
    except OSError:  # not Linux: fall back to what sysconf knows
        try:
            pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return 0, 0
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES")
        except (ValueError, OSError):
            avail = pages // 2  # unknown: assume half is free
        return avail * size, pages * size


def available_memory(device: Optional[str] = None) -> DeviceMemory:
    """Memory free on ``device`` ("cuda", "cuda:N" or "cpu"); None: the first GPU if there is one, else the CPU.

    Raises:
        ValueError: a GPU was asked for and there is none (naming the fix).
    """
    if device is None or device.startswith("cuda"):
        gpu = _gpu_memory(int(device.split(":")[1]) if device and ":" in device else 0)
        if gpu is not None:
            return gpu
        if device is not None:
            raise ValueError(f"device {device!r} was asked for but no NVIDIA GPU is usable here; install its driver, "
                             f"or choose the CPU")
    free, total = _meminfo_available()
    return DeviceMemory("cpu", "CPU RAM", int(free), int(total))


__all__ = [
    "DTYPE_BYTES", "USABLE_FRACTION", "element_bytes", "state_numel_by_dtype", "n_params", "vqvae_n_params",
    "param_bytes", "released_param_bytes", "cache_slots", "kv_cache_slots", "kv_cache_bytes", "activation_bytes",
    "MemoryEstimate", "estimate", "DeviceMemory", "available_memory",
]
