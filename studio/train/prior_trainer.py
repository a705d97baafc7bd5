"""Prior training: teacher-forced cross-entropy (bits per token) on windows of VQ-VAE codes.

* top level: artist/genre start token, timing (total length, window position) and lyrics (1b_lyrics-style prefix or a
  5b_lyrics-style encoder; both come from ``y``), built exactly as the sampler builds them (``Labeller.window_y``,
  lyrics spread linearly over the song);
* upsamplers: the codes of the level above under the window, plus the artist/genre start token.

Artist and genre are each dropped to 'unknown' for 10% of windows, so 'unknown' (a musician's unlabelled folder)
is a condition the model has seen.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from studio.engine.configs import PriorConfig
from studio.engine.labels import Labeller
from studio.engine.loading import build, load_checkpoint, save_model
from studio.engine.prior import JukeboxPrior

from .codes import CodeSet, build_tables, write_tables
from .loop import run_loop
from .state import Progress, RunOptions, TrainError, autocast, model_file, pick_device

log = logging.getLogger(__name__)

LABEL_DROPOUT = 0.1


class WindowSampler:
    """Draws training windows (codes, upper codes, label vectors) of one level from a CodeSet."""

    def __init__(self, cfg: PriorConfig, codes: CodeSet, labeller: Labeller):
        self.cfg, self.labeller = cfg, labeller
        up = cfg.cond_upsample
        self.clips = [c for c in codes.clips if len(c.codes[cfg.level]) >= cfg.n_ctx]
        if not self.clips:
            secs = cfg.sample_length / cfg.sr
            raise TrainError(f"no clip is as long as one level-{cfg.level} window ({secs:.1f} s). Fix: add longer "
                             f"recordings, or train a prior with a smaller n_ctx.")
        self.up = up
        self.infos = [labeller.resolve(c.artist, c.genre, c.lyrics) for c in self.clips]
        self.weights = np.array([len(c.codes[cfg.level]) - cfg.n_ctx + 1 for c in self.clips], np.float64)

    def total_length(self, clip) -> int:
        total = clip.length
        if self.cfg.min_duration is not None:
            total = max(total, int(math.ceil(self.cfg.min_duration * self.cfg.sr)))
        return total

    def window(self, i: int, start: int, drop: tuple[bool, bool] = (False, False)):
        """(z (n_ctx,), z_cond (n_ctx/up,) or None, y (y_len,)) of clip ``i`` from token ``start``."""
        cfg, clip, info = self.cfg, self.clips[i], self.infos[i]
        z = clip.codes[cfg.level][start:start + cfg.n_ctx]
        z_cond = None
        if not cfg.is_top:
            upper = clip.codes[cfg.level + 1]
            z_cond = upper[start // self.up:start // self.up + cfg.n_ctx // self.up]
            if len(z_cond) < cfg.n_ctx // self.up:
                z_cond = np.concatenate([z_cond, np.zeros(cfg.n_ctx // self.up - len(z_cond), np.int64)])
        if drop[0] or drop[1]:
            info = type(info)(0 if drop[0] else info.artist_id,
                              [0] if drop[1] else list(info.genre_ids), info.lyrics_clean, info.lyric_tokens)
        y, _ = self.labeller.window_y(info, self.total_length(clip), 0, start, cfg.raw_to_tokens, cfg.n_ctx)
        return z, z_cond, y

    def batch(self, rng: np.random.Generator, n: int, dropout: float = LABEL_DROPOUT):
        idx = rng.choice(len(self.clips), size=n, p=self.weights / self.weights.sum())
        zs, zc, ys = [], [], []
        for i in idx:
            hi = len(self.clips[i].codes[self.cfg.level]) - self.cfg.n_ctx
            start = int(rng.integers(0, hi // self.up + 1)) * self.up  # aligned with the upper level's tokens
            drop = (bool(rng.random() < dropout), bool(rng.random() < dropout))
            z, c, y = self.window(int(i), start, drop)
            zs.append(z)
            zc.append(c)
            ys.append(y)
        return to_tensors(zs, zc, ys)

    def eval_windows(self, max_windows: int = 64):
        """Deterministic non-overlapping windows over every clip (for held-out bits per token)."""
        out = []
        for i, c in enumerate(self.clips):
            for s in range(0, len(c.codes[self.cfg.level]) - self.cfg.n_ctx + 1, self.cfg.n_ctx):
                out.append((i, s // self.up * self.up))
        step = max(1, len(out) // max_windows)
        return out[::step][:max_windows]


def to_tensors(zs, zc, ys):
    z = torch.from_numpy(np.stack(zs)).long()
    c = torch.from_numpy(np.stack(zc)).long() if zc[0] is not None else None
    y = torch.from_numpy(np.stack(ys)).long()
    return z, c, y


@torch.no_grad()
def heldout_bits(prior: JukeboxPrior, sampler: WindowSampler, batch: int = 8, max_windows: int = 64,
                 device: torch.device = torch.device("cpu")) -> dict:
    """Mean bits per music token (and per lyric token for a lyric prior) over deterministic windows."""
    prior.eval()
    wins = sampler.eval_windows(max_windows)
    gen, prime, n = 0.0, 0.0, 0
    for b in range(0, len(wins), batch):
        z, c, y = to_tensors(*zip(*[sampler.window(i, s) for i, s in wins[b:b + batch]]))
        out = prior.losses(z.to(device), None if c is None else c.to(device), y.to(device))
        k = z.shape[0]
        gen += float(out["gen_loss"]) * k
        prime += float(out["prime_loss"]) * k
        n += k
    return {"windows": n, "bits_per_token": gen / max(n, 1), "lyric_bits_per_token": prime / max(n, 1)}


def unigram_bits(train: CodeSet, test: CodeSet, level: int, bins: int) -> float:
    """Cross-entropy (bits per token) of the held-out codes under the training codes' add-one unigram."""
    counts = np.ones(bins)
    for c in train.clips:
        counts += np.bincount(c.codes[level], minlength=bins)[:bins]
    p = counts / counts.sum()
    toks = np.concatenate([c.codes[level] for c in test.clips]) if test.clips else np.zeros(0, np.int64)
    return float(-np.log2(p[toks]).mean()) if len(toks) else float("nan")


def prepare_prior(cfg: Optional[PriorConfig], init: "str | Path | None", level: int) -> JukeboxPrior:
    if init is not None:
        path = model_file(init, f"prior_level_{level}")
        prior = load_checkpoint(path)
        if not isinstance(prior, JukeboxPrior) or prior.cfg.level != level:
            raise TrainError(f"{path} is not a level-{level} prior. Fix: pass --init the model folder.")
        return prior
    if cfg is None:
        raise TrainError("no prior config: pass a config or --init a model to fine-tune.")
    return build(cfg)


def train_prior(codes: CodeSet, level: int, cfg: Optional[PriorConfig], opts: RunOptions,
                init: "str | Path | None" = None, init_ids: "str | Path | None" = None,
                progress: Optional[Progress] = None, cancel: Optional[Callable[[], bool]] = None) -> Path:
    """Train (or fine-tune) the level-``level`` prior on ``codes``; returns the exported model's path.

    The model lands in ``opts.out/model/prior_level_{level}.safetensors`` with the run's tables in
    ``opts.out/model/ids``; ``init_ids`` is an ids folder whose names keep their ids (fine-tuning).
    """
    device = pick_device(opts.device)
    torch.manual_seed(opts.seed)
    prior = prepare_prior(cfg, init, level)
    cfg = prior.cfg
    if list(cfg.hop_lengths) != list(codes.hop_lengths) or cfg.sr != codes.sr:
        raise TrainError(f"the prior expects hops {list(cfg.hop_lengths)} at {cfg.sr} Hz but the codes come from a "
                         f"VQ-VAE with hops {codes.hop_lengths} at {codes.sr} Hz. Fix: use the matching VQ-VAE.")
    base = Path(init_ids) if init_ids else (Path(init) / "ids" if init and Path(init).is_dir() else None)
    artists, genres = build_tables([c.artist for c in codes.clips], [c.genre for c in codes.clips], base,
                                   limits=tuple(cfg.y_bins))
    model_dir = opts.out / "model"
    write_tables(model_dir / "ids", artists, genres)
    prior.attach_labels(ids_dir=model_dir / "ids")
    train_sampler = WindowSampler(cfg, codes.split("train"), prior.labeller)
    prior.to(device)

    def step_fn(rng: np.random.Generator, step: int):
        z, c, y = train_sampler.batch(rng, opts.batch)
        with autocast(device):
            out = prior.losses(z.to(device), None if c is None else c.to(device), y.to(device))
        return out["loss"], {"gen_bits": float(out["gen_loss"].detach()),
                             "lyric_bits": float(out["prime_loss"].detach())}

    def export(step: int) -> None:
        save_model(prior, model_dir / f"prior_level_{level}", extra={"trained_steps": step})

    run_loop(prior, opts, step_fn, export, progress, cancel, extra={"kind": f"prior_level_{level}"})
    return model_dir / f"prior_level_{level}.safetensors"
