"""One Jukebox prior: the autoregressive transformer with its conditioning.

* upsamplers (levels 0, 1): upper-level codes through ``conditioner_blocks.0``, artist/genre start token;
* 5b top: artist/genre start token and timing;
* 5b_lyrics top: plus a separate lyric encoder feeding the encoder-decoder layers;
* 1b_lyrics top: lyrics as a prefix of one joint sequence over a merged vocabulary (lyric ids, then codes + n_vocab).

Module and parameter names match the official checkpoints.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .configs import PriorConfig
from .conditioners import LabelConditioner, UpperConditioner
from .labels import LabelInfo, Labeller, LabelTablesNotFound, find_ids_dir
from .transformer import AutoregressiveTransformer, Conv1D, LayerNorm

NARROW = (torch.bfloat16, torch.int8)  # sampling casts that round the weights (torch.int8: int8 weights)


class NarrowedWeights(RuntimeError):
    """The prior's weights were rounded for sampling; another dtype needs them loaded again."""


class JukeboxPrior(nn.Module):
    def __init__(self, cfg: PriorConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        if not cfg.is_top:
            self.conditioner_blocks = nn.ModuleList([UpperConditioner(
                cfg.bins, w, cfg.downs_t[cfg.level + 1], cfg.strides_t[cfg.level + 1], cfg.cond_width,
                cfg.cond_depth, cfg.cond_m_conv, cfg.cond_dilation_growth_rate, cfg.cond_dilation_cycle,
                cfg.cond_res_scale)])
        if cfg.labels:
            self.y_emb = LabelConditioner(cfg.y_bins, w, cfg.max_bow_genre_size, cfg.n_ctx, cfg.t_bins,
                                          cfg.min_duration, cfg.max_duration, cfg.sr,
                                          include_time=cfg.is_top and cfg.min_duration is not None)
        enc = cfg.lyric_encoder
        if cfg.has_lyrics and enc is not None:
            self.prime_prior = AutoregressiveTransformer(
                cfg.n_vocab, enc.width, enc.depth, enc.heads, enc.attn_order, cfg.n_tokens, enc.blocks,
                enc.m_attn, enc.m_mlp, enc.init_scale, use_start_token=True, only_encode=True, fp16=cfg.fp16_params)
            self.prime_state_proj = Conv1D(enc.width, w, enc.init_scale, cfg.fp16_params)
            self.prime_state_ln = LayerNorm(w)
            self.prime_x_out = nn.Linear(w, cfg.n_vocab, bias=False)
        self.prior = AutoregressiveTransformer(
            cfg.total_bins, w, cfg.depth, cfg.heads, cfg.attn_order, cfg.n_ctx_total, cfg.blocks, cfg.m_attn,
            cfg.m_mlp, cfg.init_scale, use_start_token=not cfg.labels, tied=not cfg.merged_decoder,
            prime_len=cfg.prefix_len, fp16=cfg.fp16_params, add_cond_after=not cfg.merged_decoder)
        self._tables: Optional[Labeller] = None  # attached by attach_labels, or found on first use of labeller
        self._sampling_dtype: Optional[torch.dtype] = None  # what cast_for_sampling last cast the projections to

    # -- labels -----------------------------------------------------------------------------------------------
    @property
    def label_version(self) -> str:
        return "v3" if self.cfg.labels_v3 else "v2"

    def attach_labels(self, near: "str | Path | None" = None, ids_dir: "str | Path | None" = None) -> bool:
        """Find the artist/genre tables (an ``ids/`` folder near the model file, or ``$JUKEBOX_IDS_DIR``)."""
        v = self.label_version
        needed = (f"{v}_artist_ids.txt", f"{v}_genre_ids.txt")
        found = Path(ids_dir) if ids_dir else find_ids_dir(Path(near) if near else None, needed)
        if found is None:
            return False
        self._tables = Labeller.from_dir(found, v, self.cfg.max_bow_genre_size, self.cfg.n_tokens)
        return True

    @property
    def labels_attached(self) -> bool:
        """Whether artist/genre tables are attached (``labeller`` would otherwise look in ``$JUKEBOX_IDS_DIR``)."""
        return self._tables is not None

    @property
    def labeller(self) -> Labeller:
        """The attached artist/genre tables and lyric vocabulary, else those in ``$JUKEBOX_IDS_DIR``.

        Raises:
            LabelTablesNotFound: neither exists; the message names the files and where to put them.
        """
        if self._tables is None and not self.attach_labels():
            v = self.label_version
            raise LabelTablesNotFound(
                f"The artist/genre tables ({v}_artist_ids.txt, {v}_genre_ids.txt) were not found. Put them in an "
                f"'ids' folder beside the model files, or set JUKEBOX_IDS_DIR to the folder holding them.")
        return self._tables

    def resolve_labels(self, artist: str, genre: str, lyrics: str = "") -> LabelInfo:
        """Ids for a spec, with warnings for unknown artist/genre or unreadable lyric characters."""
        return self.labeller.resolve(artist, genre, lyrics)

    def make_y(self, artist: str, genre: str, lyrics: str, total_length: int, offset: int = 0,
               start_tokens: int = 0) -> np.ndarray:
        """The int64 label vector (y_len,) of the window starting ``start_tokens`` into this level."""
        info = self.resolve_labels(artist, genre, lyrics)
        y, _ = self.labeller.window_y(info, total_length, offset, start_tokens, self.cfg.raw_to_tokens,
                                      self.cfg.n_ctx)
        return y

    # -- conditioning -----------------------------------------------------------------------------------------
    def lyric_tokens(self, y: torch.Tensor) -> torch.Tensor:
        return y[:, 4 + self.cfg.max_bow_genre_size:]

    def conditioning(self, y: Optional[torch.Tensor], z_cond: Optional[torch.Tensor], n: int, device):
        """-> (x_cond (N, n_ctx_total or 1, W), y_cond (N, 1, W) or None, encoder_kv or None)."""
        cfg = self.cfg
        y_cond, timing = (None, None)
        if cfg.labels:
            if y is None:
                raise ValueError("this prior is conditioned on labels: pass y (see make_y)")
            y_cond, timing = self.y_emb(y)
        if not cfg.is_top:
            if z_cond is None:
                raise ValueError("an upsampler needs z_cond, the codes of the level above")
            x_cond = self.conditioner_blocks[0](z_cond)
        elif timing is not None:
            x_cond = timing
        else:
            x_cond = torch.zeros(n, 1, cfg.width, device=device)
        if cfg.single_enc_dec:
            x_cond = torch.cat([torch.zeros(n, cfg.prefix_len, cfg.width, device=device, dtype=x_cond.dtype),
                                x_cond.expand(n, cfg.n_ctx, cfg.width)], dim=1)
        encoder_kv = self.encode_lyrics(self.lyric_tokens(y)) if hasattr(self, "prime_prior") else None
        return x_cond, y_cond, encoder_kv

    def encode_lyrics(self, tokens: torch.Tensor) -> torch.Tensor:
        """5b_lyrics: lyric tokens (N, n_tokens) -> encoder states (N, n_tokens, W)."""
        h = self.prime_prior(tokens)
        return self.prime_state_ln(self.prime_state_proj(h))

    def joint_tokens(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """1b_lyrics: [lyric tokens | codes + n_vocab]; other priors: z unchanged."""
        if not self.cfg.single_enc_dec:
            return z
        return torch.cat([self.lyric_tokens(y), z + self.cfg.n_vocab], dim=1)

    def cast_for_sampling(self, dtype: torch.dtype) -> None:
        """Cast the transformer's projection weights to the sampling dtype, once per dtype rather than on every call
        (fp16-stored official weights become exact fp32 on CPU, bf16 on GPU); ``torch.int8``: int8 weights with
        bf16 activations (:meth:`Conv1D.quantize`). A narrowing cast is not undone: weights cast to bf16 or int8
        raise :class:`NarrowedWeights` for any other dtype, and the prior is loaded again from its file
        (``ModelSet.sampling_prior``)."""
        if self._sampling_dtype == dtype:
            return
        if self._sampling_dtype in NARROW:
            raise NarrowedWeights(f"the level-{self.cfg.level} prior's weights were cast to {self._sampling_dtype}; "
                                  f"load it again to sample in {dtype}")
        for m in self.prior.modules():
            if isinstance(m, Conv1D):
                if dtype == torch.int8:
                    m.quantize(torch.bfloat16)
                else:
                    m.to(dtype)
        self._sampling_dtype = dtype

    def needs_reload_for(self, dtype: torch.dtype) -> bool:
        """Whether sampling in ``dtype`` needs the weights as the file holds them (see cast_for_sampling)."""
        return self._sampling_dtype in NARROW and self._sampling_dtype != dtype

    # -- teacher forcing --------------------------------------------------------------------------------------
    def logits(self, z: torch.Tensor, z_cond: Optional[torch.Tensor] = None, y: Optional[torch.Tensor] = None):
        """Teacher-forced logits (N, T, bins); for 1b_lyrics over the joint lyric+music sequence."""
        x_cond, y_cond, encoder_kv = self.conditioning(y, z_cond, z.shape[0], z.device)
        return self.prior(self.joint_tokens(z, y), x_cond, y_cond, encoder_kv)

    def losses(self, z: torch.Tensor, z_cond: Optional[torch.Tensor] = None, y: Optional[torch.Tensor] = None):
        """Cross-entropy in bits per token: dict(loss, gen_loss, prime_loss) (and the logits)."""
        cfg = self.cfg
        x_cond, y_cond, encoder_kv = self.conditioning(y, z_cond, z.shape[0], z.device)
        tokens = self.joint_tokens(z, y)
        preds = self.prior(tokens, x_cond, y_cond, encoder_kv)
        ln2 = math.log(2.0)
        zero = torch.zeros((), device=z.device)
        if cfg.single_enc_dec:
            p = cfg.prefix_len
            prime_loss = F.cross_entropy(preds[:, :p].reshape(-1, preds.shape[-1]).float(),
                                         tokens[:, :p].reshape(-1)) / ln2
            gen_loss = F.cross_entropy(preds[:, p:].reshape(-1, preds.shape[-1]).float(),
                                       tokens[:, p:].reshape(-1)) / ln2
            prime_dims = p
        else:
            gen_loss = F.cross_entropy(preds.reshape(-1, preds.shape[-1]).float(), z.reshape(-1)) / ln2
            prime_loss, prime_dims = zero, 0
            if encoder_kv is not None:
                lyr = self.lyric_tokens(y)
                prime_preds = self.prime_x_out(encoder_kv.to(self.prime_x_out.weight.dtype))
                prime_loss = F.cross_entropy(prime_preds.reshape(-1, cfg.n_vocab).float(), lyr.reshape(-1)) / ln2
                prime_dims = cfg.n_tokens
        gen_dims = cfg.n_ctx
        total = prime_dims + gen_dims
        loss = cfg.prime_loss_fraction * prime_loss * prime_dims / total + gen_loss * gen_dims / total
        return {"loss": loss, "gen_loss": gen_loss, "prime_loss": prime_loss, "preds": preds}

    def alignment_attention(self, z: torch.Tensor, z_cond=None, y=None) -> torch.Tensor:
        """Attention of the alignment layer/head from music queries to lyric keys: (N, heads, n_ctx, n_tokens)."""
        cfg = self.cfg
        if cfg.alignment_layer is None:
            raise ValueError("this prior has no lyric alignment layer")
        attn = self.prior.transformer.layers[cfg.alignment_layer].attn
        attn.record = True
        try:
            self.logits(z, z_cond, y)
            w = attn.last_weights
        finally:
            attn.record, attn.last_weights = False, None
        if cfg.single_enc_dec:
            p = cfg.prefix_len
            w = w[:, :, p:, :p]
        return w
