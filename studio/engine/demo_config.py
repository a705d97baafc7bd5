"""Named configs of the bundled demo model: a small Jukebox that samples ten seconds in about a minute on a laptop CPU.

The networks are the official ones (same code, same key names); only sizes change. The budget that sets them: the
cascade's cost is one decoder step per code at every level, so with hops 16/64/256 at 16 kHz ten seconds of audio is
10,000 + 2,500 + 625 steps, and a step has to cost a few milliseconds on two CPU cores. The top prior is a
1b_lyrics-style model (lyrics as a prefix of the one sequence, attended by a "prime" layer), because a separate lyric
encoder (5b_lyrics-style) only reaches its encoder-decoder layer at depth 19 and would double the top's step cost.

``demo_config("vqvae")`` and ``demo_config(level)`` return fresh dataclass instances; ``tiny_vqvae()`` and
``tiny_prior(level)`` are test-sized variants (seconds on CPU). ``n_artists``/``n_genres`` may be set from the training
set's tables.
"""

from __future__ import annotations

from .configs import PriorConfig, VQVAEConfig

DEMO_SR = 16000  # why: 8 kHz of bandwidth is enough for soundfont renders and speech-like singing, and every
#                  level costs 27% less than at 22.05 kHz


def demo_vqvae() -> VQVAEConfig:
    return VQVAEConfig(
        levels=3,  # why: the cascade and the studio's code views assume three levels
        downs_t=(4, 2, 2),  # why: hops 16/64/256 (1000/250/62.5 codes per second at 16 kHz) keep the cascade
        #                     to ~13k decoder steps per 10 s; the official 8/32/128 would be 2.8x that
        strides_t=(2, 2, 2),  # why: as the official model; stride-2 convs with k=4 keep the decoder alias-free
        emb_width=64,  # why: as the official model; the codebook distance is cheap at this width
        l_bins=512,  # why: a quarter of the official 2048: hours, not years, of data cannot use more codes, and
        #              the priors' softmax and embedding shrink with it
        width=16,  # why: half the official width: on two shared CPU cores training costs ~2 s per step at this size
        depth=2,  # why: dilations 1,3 per resolution (x2 at level 0); each extra block costs a third more
        multipliers=(2, 1, 1),  # why: as the official model, level 0 (the finest detail) is twice as wide and deep
        m_conv=1.0,  # why: as the official model
        dilation_growth_rate=3,  # why: as the official model
        dilation_cycle=None,  # why: as the official model
        reverse_decoder_dilation=True,  # why: as the official model
        sr=DEMO_SR,
        l_mu=0.99,  # why: the official EMA decay; fast enough for short runs
        commit=0.02,  # why: the official commit weight
        revival_threshold=0.02,  # why: a CPU batch holds ~256 top-level vectors for 512 codes (the official run had
        #                          ~6 per code), so "dead" must mean unused for ~50 steps, not less than one per step
    )


def _label_fields(level: int, n_artists: int, n_genres: int) -> dict:
    return dict(
        level=level, levels=3, bins=512,  # why: the demo VQ-VAE's codebook size
        hop_lengths=(16, 64, 256), downs_t=(4, 2, 2), strides_t=(2, 2, 2), sr=DEMO_SR,  # why: the demo VQ-VAE's
        labels=True,  # why: every level takes the artist/genre start token, as the official priors do
        labels_v3=False,  # why: v2 tables (normalised names, genre as a bag of words) fit composite genre names
        y_bins=(n_genres, n_artists),  # why: the demo set has 28 artists and 19 genre words; room for a musician's own
        max_bow_genre_size=3,  # why: demo genre names have at most three words ("string quartet", ...)
        t_bins=64,  # why: timing resolution of the top prior; songs are short, 64 bins is ~2-10 s per bin
    )


def demo_prior(level: int, n_artists: int = 64, n_genres: int = 64) -> PriorConfig:
    """The demo prior of ``level`` (0 and 1 upsamplers, 2 the lyric-conditioned top)."""
    if level == 2:
        return PriorConfig(
            **_label_fields(2, n_artists, n_genres),
            n_ctx=384,  # why: 6.1 s of music per window, a phrase of a tune; attention cost stays small
            width=128,  # why: ~2M parameters, ~0.1M multiply-adds per token and layer: at 192 wide one training step
            #             (8 windows) took 12 s on a shared CPU core, too slow to train in the session's hour
            depth=16,  # why: attn_order 12 puts its prime (lyric) layer at layer 15, so 16 is the least depth
            #            that sees the lyrics
            heads=2,  # why: 32-dim heads (n_state 64); the alignment head is head 0
            attn_order=12,  # why: 1b_lyrics pattern: row/column/previous-block layers plus a prime layer
            blocks=16,  # why: block_ctx = (64 + 384) / 16 = 28 tokens (0.45 s) per row
            m_attn=0.5,  # why: wider attention than the official 0.25 at this small width
            m_mlp=2.0,  # why: a wider MLP is cheap here and helps a small model
            init_scale=0.5,  # why: shallow net, less damping than the 72-layer 1b_lyrics (0.2)
            merged_decoder=False,  # why: tied in/out embedding, as 1b_lyrics
            min_duration=7.0, max_duration=600.0,  # why: the shortest training item is longer than a window; songs
            #                                        up to ten minutes
            n_tokens=64,  # why: lyric characters a window sees (a chorale sings ~8-12 per second of 6.1 s)
            n_vocab=80,  # why: the v2 lyric vocabulary (79 characters + padding)
            single_enc_dec=True,  # why: 1b_lyrics style: lyrics are a prefix of the same sequence
            prime_loss_fraction=0.1,  # why: a little lyric modelling keeps the prefix states informative
            alignment_layer=15, alignment_head=0,  # why: the prime layer: its attention is the lyric alignment
        )
    if level not in (0, 1):
        raise KeyError(f"demo prior level must be 0, 1 or 2, not {level!r}")
    return PriorConfig(
        **_label_fields(level, n_artists, n_genres),
        n_ctx=512 if level == 0 else 384,  # why: 0.51 s at level 0, 1.5 s at level 1; with hop fraction 0.5 each
        #                                    window adds half that
        width=128,  # why: the upsampler mostly copies detail the conditioner already carries; small and fast
        depth=6,  # why: two rounds of row/column/previous-block attention
        heads=2,  # why: 32-dim heads (n_state 64)
        attn_order=2,  # why: the official upsamplers' pattern
        blocks=16,  # why: block_ctx 32 (level 0) / 24 (level 1) tokens
        m_attn=0.5, m_mlp=2.0,  # why: as the top prior
        init_scale=0.5,  # why: as the top prior
        merged_decoder=False,  # why: as the official upsamplers (tied embedding, x_cond added again)
        min_duration=None, max_duration=None,  # why: upsamplers carry no timing signal
        cond_width=128,  # why: the upper-code conditioner carries most of what the upsampler knows
        cond_depth=4,  # why: dilations 1,3,9,27 per upsampling step
        cond_m_conv=1.0, cond_dilation_growth_rate=3, cond_dilation_cycle=8,  # why: the official conditioner
        cond_res_scale=(level == 1),  # why: as the official level-1 upsampler
        n_tokens=0,  # why: no lyrics below the top
    )


def demo_config(level: "int | str", **kw):
    """``"vqvae"`` or a prior level 0-2."""
    return demo_vqvae() if level == "vqvae" else demo_prior(int(level), **kw)


def tiny_vqvae(sr: int = 8000) -> VQVAEConfig:
    """A test-sized VQ-VAE (hops 4/8/16) that trains a few steps in a second."""
    return VQVAEConfig(levels=3, downs_t=(2, 1, 1), strides_t=(2, 2, 2), emb_width=16, l_bins=32, width=16, depth=1,
                       multipliers=(1, 1, 1), sr=sr)


def tiny_prior(level: int, vq: VQVAEConfig | None = None, n_artists: int = 8, n_genres: int = 8) -> PriorConfig:
    """A test-sized prior on ``vq`` (default :func:`tiny_vqvae`); the top is 1b_lyrics-style like the demo."""
    vq = vq or tiny_vqvae()
    common = dict(level=level, levels=3, bins=vq.l_bins, hop_lengths=tuple(vq.hop_lengths), downs_t=vq.downs_t,
                  strides_t=vq.strides_t, sr=vq.sr, y_bins=(n_genres, n_artists), max_bow_genre_size=2, t_bins=16,
                  width=32, heads=2, m_attn=0.5, blocks=4, init_scale=0.5)
    if level == 2:
        return PriorConfig(**common, n_ctx=32, depth=16, attn_order=12, min_duration=1.0, max_duration=120.0,
                           n_tokens=16, n_vocab=80, single_enc_dec=True, prime_loss_fraction=0.1,
                           alignment_layer=15, alignment_head=0)
    return PriorConfig(**common, n_ctx=32, depth=3, attn_order=2, cond_width=16, cond_depth=2,
                       cond_dilation_cycle=8, cond_res_scale=(level == 1))


__all__ = ["DEMO_SR", "demo_vqvae", "demo_prior", "demo_config", "tiny_vqvae", "tiny_prior"]
