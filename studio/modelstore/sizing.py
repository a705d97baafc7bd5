"""Memory arithmetic for the Jukebox networks, from their configs alone (no model is built, no torch needed).

Counts follow the official module layout (see docs/MODELS.md, "How the estimates are made"): per-layer attention and
MLP ``Conv1D`` weights, biases and LayerNorms; token, position and output embeddings; label and timing embeddings;
the upsamplers' conditioner conv stack; the 5b_lyrics lyric encoder. The tests check them against the parameter
counts of the reference build (``shared/jukebox-reference/models.summary.json``).
"""

from __future__ import annotations

from studio.engine.configs import (COLUMN, DENSE, ENC_DEC, PREV_BLOCK, PRIME, ROW,  # noqa: F401
                                   LyricEncoderConfig, PriorConfig, VQVAEConfig, attention_pattern)

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}


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


def kv_cache_tokens(cfg: PriorConfig) -> int:
    """Cached positions summed over layers, for one sample (each holds a key and a value of n_state channels).

    Row layers keep one block of ``block_ctx = n_ctx_total // blocks`` tokens, previous-block layers two, column,
    dense and prime layers the whole context, encoder-decoder layers the lyric tokens.
    """
    block_ctx = cfg.n_ctx_total // cfg.blocks
    per_kind = {ROW: block_ctx, PREV_BLOCK: 2 * block_ctx, COLUMN: cfg.n_ctx_total, DENSE: cfg.n_ctx_total,
                PRIME: cfg.n_ctx_total, ENC_DEC: cfg.n_tokens}
    return sum(per_kind[k] for k in attention_pattern(cfg.attn_order, cfg.depth))


def kv_cache_bytes(cfg: PriorConfig, dtype: str = "fp16", batch: int = 1) -> int:
    """KV cache of a level: ``batch x kv_cache_tokens x 2 (k, v) x n_state x bytes``."""
    return batch * kv_cache_tokens(cfg) * 2 * cfg.n_state * DTYPE_BYTES[dtype]


def activation_bytes(cfg: PriorConfig, dtype: str = "fp16", chunk_size: int = 32) -> int:
    """Peak activations of one sample while sampling a window (conservative), in bytes.

    Persistent for the window: the conditioning ``x_cond`` (n_ctx x width, fp32) and, for 5b_lyrics, the projected
    lyric states (n_tokens x width). Transient, the larger of: one chunk of ``chunk_size`` tokens through a block
    (residual, LayerNorm, q/k/v, attention output, MLP hidden and activation), fp32 attention scores and
    probabilities against the whole context, fp32 logits and probabilities; or the upsampler conditioner's conv
    stack over the window (three cond_width x n_ctx fp32 maps plus two width x n_ctx maps).
    """
    a = DTYPE_BYTES[dtype]
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


def param_bytes(cfg, dtype: str) -> int:
    """Parameter memory with every parameter held in ``dtype`` ("fp32", "fp16" or "bf16")."""
    return n_params(cfg) * DTYPE_BYTES[dtype]


def released_param_bytes(cfg) -> int:
    """Parameter memory as the reference holds it (fp16 Conv1D weights for the 5b tops, the rest fp32), unique."""
    by = state_numel_by_dtype(cfg)
    total = by.get("float32", 0) * 4 + by.get("float16", 0) * 2
    if isinstance(cfg, PriorConfig) and not cfg.merged_decoder:
        total -= cfg.total_bins * cfg.width * 4
    elif isinstance(cfg, VQVAEConfig):
        total -= cfg.levels * cfg.l_bins * cfg.emb_width * 4
    return total
