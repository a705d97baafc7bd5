"""What the interface needs to know about a loaded model set, as one frozen value built off the GUI thread.

Widgets read names, the lyric vocabulary and window sizes from :class:`ModelInfo`; they never see a network or a
tensor. The labeller it wraps is plain Python (tables and a character vocabulary).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.engine.labels import song_total_length
from studio.engine.sampling_defaults import REFERENCE, read_sampling_defaults, sampling_file
from studio.engine.spec import SpecError


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model set, described for the song editor, the views and the lyric window display.

    Attributes:
        name: the model set's name ("demo", "5b_lyrics", a folder name...).
        source: what was loaded: a folder path or a registry name.
        sr: audio sample rate in Hz.
        hop_lengths: raw samples per token of levels 0, 1, 2.
        n_ctx: tokens per window of each level, index = level.
        artists, genres: every name the top prior's tables know, sorted.
        has_lyrics: the top prior reads lyrics.
        n_lyric_tokens: lyric characters one top-level window sees.
        min_duration, max_duration: song lengths (seconds) the timing signal can place, or None.
        labeller: the top prior's labeller (names, lyric vocabulary); None when the model has no label tables.
        n_codes: the VQ-VAE's codebook size, the range of every code.
        temperature: the model's own sampling temperatures of levels 0, 1, 2 (its ``sampling.json``).
    """

    name: str
    source: str
    sr: int
    hop_lengths: tuple
    n_ctx: tuple
    artists: tuple
    genres: tuple
    has_lyrics: bool
    n_lyric_tokens: int
    min_duration: float | None
    max_duration: float | None
    labeller: Any = None
    n_codes: int = 0
    hardware: tuple = ()  # the hardware check, one line per level (memory needed vs available, batch that fits)
    hardware_fits: bool = True
    temperature: tuple = (0.99, 0.99, 0.98)  # why: the Jukebox reference's values, for a model without its own

    @property
    def top(self) -> int:
        return len(self.hop_lengths) - 1

    def window_seconds(self, level: int | None = None) -> float:
        """Length of one window of ``level`` (the top by default) in seconds."""
        level = self.top if level is None else level
        return self.n_ctx[level] * self.hop_lengths[level] / self.sr

    def outside(self, text: str) -> list[tuple[int, str]]:
        """(position, character) of each lyric character the model cannot read."""
        if self.labeller is None or not self.has_lyrics:
            return []
        return self.labeller.vocab.outside(text)

    def label_warnings(self, artist: str, genre: str) -> list[str]:
        """Messages for names the model does not know (each would silently become 'unknown')."""
        if self.labeller is None:
            return []
        return list(self.labeller.resolve(artist, genre, "").warnings)

    def song_samples(self, seconds: float, song_seconds: float | None) -> int:
        """Total song length in samples as the timing signal sees it (what the sampler uses for lyric placement)."""
        return song_total_length(seconds, song_seconds, self.sr, self.min_duration)


def describe(models, source: str) -> ModelInfo:
    """Build a :class:`ModelInfo` from a ModelSet, loading its top prior (call off the GUI thread)."""
    top = models.levels - 1
    prior = models.prior(top)
    cfg = prior.cfg
    labeller = prior.labeller if prior.labels_attached else None
    artists = tuple(labeller.artist_names()) if labeller is not None else ()
    genres = tuple(labeller.genre_names()) if labeller is not None else ()
    n_ctx = tuple(models.prior(level).cfg.n_ctx for level in range(models.levels))
    hardware, fits = hardware_check(models)
    try:
        temperature = read_sampling_defaults(sampling_file(models)).temperature
    except SpecError:  # a damaged sampling.json: a job's own check names the file and the fix
        temperature = REFERENCE.temperature
    return ModelInfo(name=models.name, source=str(source), sr=int(models.sr), hop_lengths=tuple(models.hop_lengths),
                     n_ctx=n_ctx, artists=artists, genres=genres, has_lyrics=bool(cfg.n_tokens),
                     n_lyric_tokens=int(cfg.n_tokens), min_duration=cfg.min_duration, max_duration=cfg.max_duration,
                     labeller=labeller, n_codes=int(models.vqvae.cfg.l_bins), hardware=hardware, hardware_fits=fits,
                     temperature=tuple(float(t) for t in temperature))


def hardware_check(models) -> tuple[tuple, bool]:
    """Memory each level needs against what this machine has (the GPU when there is one), before sampling."""
    import torch

    from studio.modelstore.hardware import available_memory, plan_model

    memory = available_memory("cuda" if torch.cuda.is_available() else "cpu")
    report = plan_model(models.name, memory, {lv: models.prior(lv).cfg for lv in range(models.levels)})
    return tuple(report.summary_lines()), all(p.fits for p in report.levels)
