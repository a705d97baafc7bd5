"""Network configurations: one dataclass per network and a registry of named configs.

Every checkpoint the project writes carries ``asdict(cfg)``; official checkpoints carry the reference's ``hps``
dict, which :func:`vqvae_config_from_hps` and :func:`prior_config_from_hps` translate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Optional


# attention types of the factorised transformer (the reference's attn_func numbers)
DENSE, ROW, COLUMN, PREV_BLOCK, ENC_DEC, PRIME = 0, 1, 2, 3, 6, 7


def attention_pattern(attn_order: int, depth: int) -> list[int]:
    """The attention type of every layer for an official ``attn_order`` (0 dense, 1 row, 2 column, 3 previous
    block, 6 encoder-decoder, 7 prime)."""
    if attn_order == 0:
        return [DENSE] * depth
    if attn_order == 2:
        return [[ROW, COLUMN, PREV_BLOCK][d % 3] for d in range(depth)]
    if attn_order == 10:
        seq = [ROW, COLUMN, PREV_BLOCK] * 3 + [ROW, COLUMN, PREV_BLOCK, ROW, COLUMN, PREV_BLOCK, ROW, COLUMN,
                                               PREV_BLOCK, ENC_DEC] * 7
        return [seq[d % 79] for d in range(depth)]
    if attn_order == 12:
        return [([PRIME, PRIME, DENSE][d % 3] if d % 16 == 15 else [ROW, COLUMN, PREV_BLOCK][d % 3])
                for d in range(depth)]
    raise ValueError(f"unsupported attn_order {attn_order}")


def prime_key_count(prefix_len: int, blocks: int) -> int:
    """Keys a prime layer reads, as the official model counts them: the smallest multiple of ``blocks`` above the
    lyric prefix length (384 tokens, 64 blocks: 448), or 0 without a prefix."""
    return (prefix_len // blocks + 1) * blocks if prefix_len else 0


@dataclass
class VQVAEConfig:
    """Three-level VQ-VAE over mono raw audio."""

    levels: int = 3
    downs_t: tuple = (3, 2, 2)  # stride-2 downsamplings per level: hops 8, 32, 128
    strides_t: tuple = (2, 2, 2)
    emb_width: int = 64  # latent channels fed to the codebook
    l_bins: int = 2048  # codebook size per level
    width: int = 32  # base conv width, scaled per level by `multipliers`
    depth: int = 4  # residual blocks per downsampling, scaled per level by `multipliers`
    multipliers: tuple = (2, 1, 1)  # level 0 is twice as wide and deep
    m_conv: float = 1.0  # residual block inner width / outer width
    dilation_growth_rate: int = 3
    dilation_cycle: Optional[int] = None
    reverse_decoder_dilation: bool = True  # decoder blocks start at the largest dilation
    sr: int = 44100
    # training only
    l_mu: float = 0.99  # codebook EMA decay
    commit: float = 0.02
    revival_threshold: float = 1.0

    @property
    def hop_lengths(self) -> list[int]:
        """Raw samples per code at each level (level 0 first)."""
        hops, acc = [], 1
        for down, stride in zip(self.downs_t, self.strides_t):
            acc *= stride**down
            hops.append(acc)
        return hops


@dataclass
class LyricEncoderConfig:
    """The separate lyric transformer of the 5b_lyrics top prior (its ``prime_prior``)."""

    width: int = 1280
    depth: int = 18
    heads: int = 4
    attn_order: int = 2
    blocks: int = 32
    init_scale: float = 0.7
    m_attn: float = 0.25
    m_mlp: float = 1.0


@dataclass
class PriorConfig:
    """One autoregressive prior: top level (labels, timing, lyrics) or an upsampler (upper-level codes)."""

    level: int = 2  # 0 and 1 are upsamplers, levels-1 is the top
    levels: int = 3
    n_ctx: int = 8192  # music tokens per window
    bins: int = 2048  # codebook size of the VQ-VAE
    width: int = 4800
    depth: int = 72
    heads: int = 8
    attn_order: int = 2  # per-layer attention pattern, see attention_pattern above
    blocks: int = 128  # block_ctx = n_ctx_total // blocks
    m_attn: float = 0.25  # attention width / model width
    m_mlp: float = 1.0
    init_scale: float = 0.1
    merged_decoder: bool = True  # untied x_out and no second x_cond add (5b, 5b_lyrics)
    fp16_params: bool = False  # Conv1D weights stored in float16 in the official model
    hop_lengths: tuple = (8, 32, 128)
    downs_t: tuple = (3, 2, 2)  # of the VQ-VAE: the upsampler conditioner upsamples by 2**downs_t[level+1]
    strides_t: tuple = (2, 2, 2)
    sr: int = 44100
    # labels
    labels: bool = True
    labels_v3: bool = False  # 1b_lyrics uses the v3 artist/genre tables and lyric vocabulary
    y_bins: tuple = (120, 4111)  # (genres, artists)
    max_bow_genre_size: int = 5
    t_bins: int = 128
    min_duration: Optional[float] = None  # seconds; None for upsamplers (no timing signal)
    max_duration: Optional[float] = None
    # upper-level conditioner (upsamplers)
    cond_width: int = 1024
    cond_depth: int = 16
    cond_m_conv: float = 1.0
    cond_dilation_growth_rate: int = 3
    cond_dilation_cycle: Optional[int] = 8
    cond_res_scale: bool = False
    # lyrics
    n_tokens: int = 0  # lyric tokens per window (0: no lyrics)
    n_vocab: int = 80
    single_enc_dec: bool = False  # 1b_lyrics: lyrics are a prefix of the same sequence
    lyric_encoder: Optional[LyricEncoderConfig] = None  # 5b_lyrics: separate encoder
    prime_loss_fraction: float = 0.0
    alignment_layer: Optional[int] = None
    alignment_head: Optional[int] = None

    @property
    def is_top(self) -> bool:
        return self.level == self.levels - 1

    @property
    def raw_to_tokens(self) -> int:
        return int(self.hop_lengths[self.level])

    @property
    def sample_length(self) -> int:
        """Raw samples one full window covers."""
        return self.n_ctx * self.raw_to_tokens

    @property
    def n_state(self) -> int:
        return int(self.width * self.m_attn)

    @property
    def prefix_len(self) -> int:
        """Lyric tokens placed before the music in the joint sequence (1b_lyrics), else 0."""
        return self.n_tokens if self.single_enc_dec else 0

    @property
    def n_ctx_total(self) -> int:
        return self.n_ctx + self.prefix_len

    @property
    def total_bins(self) -> int:
        """Output classes: music codes, plus the lyric vocabulary for 1b_lyrics' merged vocabulary."""
        return self.bins + (self.n_vocab if self.single_enc_dec else 0)

    @property
    def y_len(self) -> int:
        """Length of the label vector y."""
        return 4 + self.max_bow_genre_size + self.n_tokens

    @property
    def cond_upsample(self) -> int:
        """How many tokens of this level one upper-level token covers."""
        return self.hop_lengths[self.level + 1] // self.hop_lengths[self.level] if not self.is_top else 1

    @property
    def has_lyrics(self) -> bool:
        return self.n_tokens > 0


def config_to_dict(cfg: Any) -> dict:
    return asdict(cfg)


def vqvae_config_from_dict(d: dict) -> VQVAEConfig:
    names = {f.name for f in fields(VQVAEConfig)}
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
    return VQVAEConfig(**kw)


def prior_config_from_dict(d: dict) -> PriorConfig:
    names = {f.name for f in fields(PriorConfig)}
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
    if isinstance(kw.get("lyric_encoder"), dict):
        kw["lyric_encoder"] = LyricEncoderConfig(**kw["lyric_encoder"])
    return PriorConfig(**kw)


# --- the reference's hps ---------------------------------------------------------------------------------------


def _py(v: Any) -> Any:
    """numpy scalars and lists -> plain Python values."""
    if hasattr(v, "item") and not isinstance(v, (list, tuple, dict)):
        return v.item()
    if isinstance(v, (list, tuple)):
        return tuple(_py(x) for x in v)
    return v


def vqvae_config_from_hps(hps: dict) -> VQVAEConfig:
    """Translate the reference's hyperparameter dict of a VQ-VAE checkpoint."""
    h = {k: _py(v) for k, v in hps.items()}
    return VQVAEConfig(
        levels=int(h.get("levels", 3)),
        downs_t=tuple(h.get("downs_t", (3, 2, 2))),
        strides_t=tuple(h.get("strides_t", (2, 2, 2))),
        emb_width=int(h.get("emb_width", 64)),
        l_bins=int(h.get("l_bins", 2048)),
        width=int(h.get("width", 32)),
        depth=int(h.get("depth", 4)),
        multipliers=tuple(h.get("hvqvae_multipliers") or (1,) * int(h.get("levels", 3))),
        m_conv=float(h.get("m_conv", 1.0)),
        dilation_growth_rate=int(h.get("dilation_growth_rate", 3)),
        dilation_cycle=h.get("dilation_cycle"),
        reverse_decoder_dilation=bool(h.get("vqvae_reverse_decoder_dilation", True)),
        sr=int(h.get("sr", 44100)),
        l_mu=float(h.get("l_mu", 0.99)),
        commit=float(h.get("commit", 0.02)),
        revival_threshold=float(h.get("revival_threshold", 1.0)),
    )


def prior_config_from_hps(hps: dict, vqvae: Optional[VQVAEConfig] = None) -> PriorConfig:
    """Translate the reference's hyperparameter dict of a prior checkpoint.

    The hop lengths come from the VQ-VAE the prior sits on (the official one unless given).
    """
    h = {k: _py(v) for k, v in hps.items()}
    vq = vqvae or VQVAEConfig()
    level = int(h["level"])
    is_top = level == vq.levels - 1
    n_tokens = int(h.get("n_tokens", 0)) if h.get("use_tokens", False) else 0
    single = bool(h.get("single_enc_dec", False))
    lyric_encoder = None
    if n_tokens and not single:
        lyric_encoder = LyricEncoderConfig(
            width=int(h["prime_width"]),
            depth=int(h["prime_depth"]),
            heads=int(h["prime_heads"]),
            attn_order=int(h["prime_attn_order"]),
            blocks=int(h["prime_blocks"]),
            init_scale=float(h.get("prime_init_scale", 0.7)),
            m_attn=float(h.get("prime_m_attn", 0.25)),
            m_mlp=float(h.get("prime_m_mlp", 1.0)),
        )
    y_bins = h.get("y_bins") or (0, 0)
    return PriorConfig(
        level=level,
        levels=vq.levels,
        n_ctx=int(h["n_ctx"]),
        bins=vq.l_bins,
        width=int(h["prior_width"]),
        depth=int(h["prior_depth"]),
        heads=int(h["heads"]),
        attn_order=int(h["attn_order"]),
        blocks=int(h["blocks"]),
        m_attn=float(h.get("m_attn", 0.25)),
        m_mlp=float(h.get("m_mlp", 1.0)),
        init_scale=float(h.get("init_scale", 1.0)),
        merged_decoder=bool(h.get("merged_decoder", False)),
        fp16_params=bool(h.get("fp16_params", False)),
        hop_lengths=tuple(vq.hop_lengths),
        downs_t=tuple(vq.downs_t),
        strides_t=tuple(vq.strides_t),
        sr=int(h.get("sr", 44100)),
        labels=bool(h.get("labels", True)),
        labels_v3=bool(h.get("labels_v3", False)),
        y_bins=tuple(int(v) for v in y_bins),
        max_bow_genre_size=int(h.get("max_bow_genre_size") or 0),
        t_bins=int(h.get("t_bins", 128)),
        min_duration=float(h["min_duration"]) if is_top and h.get("min_duration") is not None else None,
        max_duration=float(h["max_duration"]) if is_top and h.get("max_duration") is not None else None,
        cond_width=int(h.get("cond_width", 1024)),
        cond_depth=int(h.get("cond_depth", 16)),
        cond_m_conv=float(h.get("cond_m_conv", 1.0)),
        cond_dilation_growth_rate=int(h.get("cond_dilation_growth_rate", 1)),
        cond_dilation_cycle=h.get("cond_dilation_cycle"),
        cond_res_scale=bool(h.get("cond_res_scale", False)),
        n_tokens=n_tokens,
        n_vocab=int(h.get("n_vocab", 80)),
        single_enc_dec=single,
        lyric_encoder=lyric_encoder,
        prime_loss_fraction=float(h.get("prime_loss_fraction", 0.0)),
        alignment_layer=h.get("alignment_layer"),
        alignment_head=h.get("alignment_head"),
    )


# --- named configs ---------------------------------------------------------------------------------------------

OFFICIAL_VQVAE = VQVAEConfig()


def _upsampler(level: int) -> PriorConfig:
    return PriorConfig(
        level=level, n_ctx=8192, width=1920, depth=72, heads=1, attn_order=2, blocks=128, init_scale=0.4,
        merged_decoder=False, fp16_params=False, y_bins=(120, 4111), max_bow_genre_size=5, t_bins=128,
        cond_width=1024, cond_depth=16, cond_dilation_growth_rate=3, cond_dilation_cycle=8,
        cond_res_scale=(level == 1),
    )


def _top_5b() -> PriorConfig:
    return PriorConfig(
        level=2, n_ctx=8192, width=4800, depth=72, heads=8, attn_order=2, blocks=128, init_scale=0.1,
        merged_decoder=True, fp16_params=True, y_bins=(120, 4111), max_bow_genre_size=5, t_bins=128,
        min_duration=60.0, max_duration=600.0,
    )


def _top_5b_lyrics() -> PriorConfig:
    cfg = _top_5b()
    cfg.depth = 79
    cfg.attn_order = 10
    cfg.min_duration = 23.8
    cfg.n_tokens = 512
    cfg.n_vocab = 80
    cfg.lyric_encoder = LyricEncoderConfig()
    cfg.prime_loss_fraction = 0.4
    cfg.alignment_layer = 68
    cfg.alignment_head = 2
    return cfg


def _top_1b_lyrics() -> PriorConfig:
    return PriorConfig(
        level=2, n_ctx=6144, width=2048, depth=72, heads=2, attn_order=12, blocks=64, init_scale=0.2,
        merged_decoder=False, fp16_params=False, labels_v3=True, y_bins=(604, 7898), max_bow_genre_size=1,
        t_bins=64, min_duration=17.84, max_duration=600.0, n_tokens=384, n_vocab=79, single_enc_dec=True,
        prime_loss_fraction=0.4, alignment_layer=63, alignment_head=0,
    )


OFFICIAL_MODELS = ("5b", "5b_lyrics", "1b_lyrics")


def official_config(name: str, level: "int | str"):
    """The config of an official network: ``level`` 0-2 for priors or ``"vqvae"``."""
    if name not in OFFICIAL_MODELS:
        raise KeyError(f"unknown official model {name!r}; choose one of {', '.join(OFFICIAL_MODELS)}")
    if level == "vqvae":
        return VQVAEConfig()
    level = int(level)
    if level in (0, 1):
        return _upsampler(level)
    if level != 2:
        raise KeyError(f"level must be 0, 1, 2 or 'vqvae', not {level!r}")
    return {"5b": _top_5b, "5b_lyrics": _top_5b_lyrics, "1b_lyrics": _top_1b_lyrics}[name]()


def tiny_config(level: "int | str"):
    """Tiny networks with the official structure (the reference fixtures' sizes): tests and smoke runs in seconds.

    Top level: a 5b_lyrics-style prior (depth 19, so layer 18 is encoder-decoder) on a 256-code VQ-VAE.
    """
    if level == "vqvae":
        return VQVAEConfig(emb_width=16, l_bins=256, width=8, depth=2)
    level = int(level)
    common = dict(level=level, n_ctx=64, bins=256, width=32, blocks=8, attn_order=2, y_bins=(120, 4111))
    if level < 2:
        return PriorConfig(**common, depth=3, heads=1, init_scale=0.4, merged_decoder=False, cond_width=16,
                           cond_depth=2, cond_dilation_growth_rate=3, cond_dilation_cycle=8,
                           cond_res_scale=(level == 1))
    cfg = PriorConfig(**{**common, "attn_order": 10}, depth=19, heads=2, init_scale=0.1, merged_decoder=True,
                      fp16_params=False, min_duration=23.8, max_duration=600.0, n_tokens=16, n_vocab=80,
                      lyric_encoder=LyricEncoderConfig(width=16, depth=2, heads=2, attn_order=2, blocks=4),
                      prime_loss_fraction=0.4, alignment_layer=18, alignment_head=0)
    return cfg


def named_config(name: str, level: "int | str"):
    """The registry: ``5b``, ``5b_lyrics``, ``1b_lyrics`` (official) and ``tiny`` (tests). The bundled demo model's
    configs are in :mod:`studio.engine.demo_config`, and every checkpoint carries its own."""
    if name == "tiny":
        return tiny_config(level)
    return official_config(name, level)


def official_file(name: str, level: "int | str") -> str:
    """Path of the official file under the public prefix, e.g. ``5b/prior_level_0.pth.tar``."""
    if level == "vqvae":
        return "5b/vqvae.pth.tar"
    level = int(level)
    return f"{name if level == 2 else '5b'}/prior_level_{level}.pth.tar"


__all__ = [
    "VQVAEConfig", "PriorConfig", "LyricEncoderConfig", "OFFICIAL_MODELS", "official_config", "official_file",
    "vqvae_config_from_hps", "prior_config_from_hps", "vqvae_config_from_dict", "prior_config_from_dict",
    "config_to_dict", "attention_pattern", "prime_key_count", "tiny_config", "named_config",
]
