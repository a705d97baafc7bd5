"""Fine-tune one level's VQ-VAE decoder on codes the upsampler actually produces.

A small upsampler cannot predict the finest codes exactly (the demo's bottom upsampler leaves about 7 bits of
uncertainty per code). Its samples carry the notes of the level above, but each code is drawn from a spread of
plausible ones, and the decoder, trained only on an encoder's exact codes, renders that spread as broadband noise
over the harmonics. This trainer teaches the decoder what those draws mean: for a real crop, the upsampler predicts
every code from the true past and the true upper codes (one teacher-forced pass), a code is drawn from each
prediction at the sampling temperature, and the decoder learns to turn the drawn codes back into the real audio
(the VQ-VAE's own losses). The waveform losses stay on drawn codes too: held to the magnitude spectrum alone, the
decoder filled the bands it could not place with noise (brighter, but 6 points less tonal in the demo's check).
A share of crops keeps the exact codes, so reconstructions of real audio (priming, continuing a take) stay as good
as before. Encoders and codebooks are untouched: every code, and so every prior trained on them, stays valid.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from torch import nn

from studio.engine.loading import load_checkpoint, save_model
from studio.engine.prior import JukeboxPrior
from studio.engine.vqvae import VQVAE

from .data import AudioSet
from .losses import estimate_bandwidth, lmix_loss, multispectral_loss
from .loop import run_loop
from .state import Progress, RunOptions, TrainError, autocast, model_file, pick_device

log = logging.getLogger(__name__)

MIN_CROP = 4096  # samples: twice the spectral loss's largest STFT


class DecoderOnly(nn.Module):
    """The one decoder being trained; the run's state (and its resume) holds just these weights."""

    def __init__(self, vqvae: VQVAE, level: int):
        super().__init__()
        self.decoder = vqvae.decoders[level]


class PriorFile:
    """The upsampler whose draws the decoder learns; reloaded when its file changes (it may still be training)."""

    def __init__(self, path: Path, level: int, device: torch.device):
        self.path, self.level, self.device = path, level, device
        self.mtime = -1.0
        self.prior: Optional[JukeboxPrior] = None
        self.refresh()

    def refresh(self) -> None:
        mtime = self.path.stat().st_mtime
        if mtime == self.mtime:
            return
        prior = load_checkpoint(self.path)
        if not isinstance(prior, JukeboxPrior) or prior.cfg.level != self.level:
            raise TrainError(f"{self.path} is not the level-{self.level} prior. Fix: pass --prior the model folder "
                             f"(or the prior_level_{self.level} file) whose codes this decoder renders.")
        prior.attach_labels(near=self.path)
        self.prior, self.mtime = prior.to(self.device).eval().requires_grad_(False), mtime
        log.info("upsampler loaded from %s", self.path)


@torch.no_grad()
def drawn_codes(prior: JukeboxPrior, z: torch.Tensor, z_cond: torch.Tensor, y: torch.Tensor,
                temperature: float, generator: torch.Generator) -> torch.Tensor:
    """One code per position drawn from the teacher-forced prediction (true past, true upper codes): (N, T)."""
    logits = prior.logits(z, z_cond, y).float() / temperature  # (N, T, bins)
    probs = torch.softmax(logits, -1).reshape(-1, logits.shape[-1])
    return torch.multinomial(probs.cpu(), 1, generator=generator).view(z.shape).to(z.device)


def train_decoder(data: AudioSet, vqvae_src: "str | Path", prior_src: "str | Path", level: int, opts: RunOptions,
                  sampled_fraction: float = 0.75, temperature: float = 0.99, progress: Optional[Progress] = None,
                  cancel: Optional[Callable[[], bool]] = None) -> Path:
    """Fine-tune ``decoders[level]`` of the VQ-VAE at ``vqvae_src``; returns the exported VQ-VAE's path.

    The whole VQ-VAE (only that decoder changed) lands in ``opts.out/model/vqvae.safetensors`` at every checkpoint.
    """
    device = pick_device(opts.device)
    vq_path = model_file(vqvae_src, "vqvae")
    vqvae = load_checkpoint(vq_path)
    if not isinstance(vqvae, VQVAE):
        raise TrainError(f"{vq_path} is not a VQ-VAE. Fix: pass the model folder or its vqvae file.")
    cfg = vqvae.cfg
    if level >= cfg.levels - 1:
        raise TrainError(f"level {level} has no upsampler: only the levels below the top are sampled by one "
                         f"(0 to {cfg.levels - 2}); the top level's decoder only renders previews.")
    if data.sr != cfg.sr:
        raise TrainError(f"the data is at {data.sr} Hz but the VQ-VAE runs at {cfg.sr} Hz; load it at {cfg.sr}.")
    if not 0.0 <= sampled_fraction <= 1.0:
        raise TrainError(f"--sampled-fraction must be between 0 and 1, not {sampled_fraction}.")
    upsampler = PriorFile(model_file(prior_src, f"prior_level_{level}"), level, device)
    pcfg = upsampler.prior.cfg
    if list(pcfg.hop_lengths) != list(cfg.hop_lengths) or pcfg.bins != cfg.l_bins:
        raise TrainError(f"the prior's codes (hops {list(pcfg.hop_lengths)}, {pcfg.bins} codes) are not this "
                         f"VQ-VAE's (hops {list(cfg.hop_lengths)}, {cfg.l_bins}). Fix: pass the matching pair.")
    # a crop is k whole upsampler windows (each drawn from its own teacher-forced pass), whole top-level tokens, and
    # long enough for the largest STFT of the spectral loss
    window = pcfg.n_ctx * cfg.hop_lengths[level]
    unit = math.lcm(window, cfg.hop_lengths[-1])
    length = -(-max(window, MIN_CROP) // unit) * unit
    k = length // window
    bw = estimate_bandwidth(torch.from_numpy(data.crop_batch(np.random.default_rng(1234), opts.batch, length)[0])
                            for _ in range(8))
    vqvae.to(device).requires_grad_(False)
    tuned = DecoderOnly(vqvae, level).requires_grad_(True)
    model_dir = opts.out / "model"
    log.info("decoder %d: crops of %d samples, %.0f%% drawn by the upsampler at temperature %.2f", level, length,
             100 * sampled_fraction, temperature)

    def step_fn(rng: np.random.Generator, step: int):
        x_np, where = data.crop_batch(rng, opts.batch, length)
        x = torch.from_numpy(x_np).to(device)
        z, z_up = vqvae.encode(x, level, level + 2)
        prior = upsampler.prior
        ys = [prior.make_y(data.clips[i].artist, data.clips[i].genre, "", len(data.clips[i].audio)) for i, _ in where]
        y = torch.from_numpy(np.stack(ys)).long().to(device).repeat_interleave(k, 0)
        n = x.shape[0]
        gen = torch.Generator().manual_seed(opts.seed * 1_000_003 + step)  # per step: a resumed run draws the same
        drawn = drawn_codes(prior, z.reshape(n * k, -1), z_up.reshape(n * k, -1), y, temperature, gen).view(n, -1)
        use = torch.from_numpy(rng.random(n) < sampled_fraction).to(device)[:, None]
        codes = torch.where(use, drawn, z)
        with autocast(device):
            x_hat = vqvae.decoders[level](vqvae.dequantise(codes, level))[:, 0, :]
        l2, linf = lmix_loss(x, x_hat, bw)
        spec = multispectral_loss(x, x_hat, bw)
        return l2 + linf + spec, {"l2": float(l2.detach()), "spec": float(spec.detach()),
                                  "drawn_fraction": float(use.float().mean())}

    def export(step: int) -> None:
        save_model(vqvae, model_dir / "vqvae", extra={"trained_steps": step, "bandwidth": bw.as_dict(),
                                                       "decoder_tuned": {"level": level, "steps": step,
                                                                         "sampled_fraction": sampled_fraction,
                                                                         "temperature": temperature}})
        upsampler.refresh()

    run_loop(tuned, opts, step_fn, export, progress, cancel, extra={"kind": f"decoder_level_{level}"})
    return model_dir / "vqvae.safetensors"
