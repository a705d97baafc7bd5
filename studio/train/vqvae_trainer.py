"""VQ-VAE training (REFERENCE §1): per-level encoder -> EMA codebook (random restarts of dead codes) -> decoder.

Loss = sum over levels of [L2 + 0.02 linf] / bw_l2 + multi-resolution spectral / bw_spec + commit * commit loss,
with straight-through gradients from the decoder into the encoder.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from torch import nn

from studio.engine.configs import VQVAEConfig
from studio.engine.loading import build, load_checkpoint, save_model
from studio.engine.vqvae import VQVAE

from .data import AudioSet
from .losses import Bandwidth, estimate_bandwidth, lmix_loss, multispectral_loss
from .loop import run_loop
from .state import Progress, RunOptions, TrainError, autocast, model_file, pick_device

log = logging.getLogger(__name__)


class EMACodebooks(nn.Module):
    """EMA state of every level's codebook; writes the codebook into ``vqvae.bottleneck.level_blocks[L].k``."""

    def __init__(self, cfg: VQVAEConfig):
        super().__init__()
        self.mu, self.threshold = cfg.l_mu, cfg.revival_threshold
        for lv in range(cfg.levels):
            self.register_buffer(f"k_sum_{lv}", torch.zeros(cfg.l_bins, cfg.emb_width))
            self.register_buffer(f"k_elem_{lv}", torch.ones(cfg.l_bins))
            self.register_buffer(f"ready_{lv}", torch.zeros((), dtype=torch.bool))

    @staticmethod
    def _random_rows(x: torch.Tensor, n: int) -> torch.Tensor:
        """``n`` rows of ``x`` (M, emb) at random; tiled with a little noise when M < n."""
        if x.shape[0] < n:
            reps = (n + x.shape[0] - 1) // x.shape[0]
            std = 0.01 / np.sqrt(x.shape[1])
            x = x.repeat(reps, 1) + torch.randn(x.shape[0] * reps, x.shape[1], device=x.device) * std
        return x[torch.randperm(x.shape[0], device=x.device)[:n]]

    @torch.no_grad()
    def init_from(self, level: int, k: torch.Tensor, flat: torch.Tensor, from_codebook: bool) -> None:
        """Start the EMA from an existing codebook (fine-tuning) or from random encoder outputs."""
        if not from_codebook:
            k.copy_(self._random_rows(flat, k.shape[0]))
        # usage starts at the threshold (the reference: ones with threshold 1), so a code no latent picks in the
        # first step is restarted at once
        getattr(self, f"k_sum_{level}").copy_(k * self.threshold)
        getattr(self, f"k_elem_{level}").fill_(self.threshold)
        getattr(self, f"ready_{level}").fill_(True)

    @torch.no_grad()
    def update(self, level: int, k: torch.Tensor, flat: torch.Tensor, codes: torch.Tensor) -> dict:
        """One EMA step for (M, emb) latents ``flat`` assigned ``codes`` (M,); dead codes restart at random latents."""
        bins = k.shape[0]
        onehot = torch.zeros(bins, flat.shape[0], device=flat.device)
        onehot.scatter_(0, codes.view(1, -1), 1.0)  # (bins, M)
        k_sum_new = onehot @ flat  # (bins, emb)
        k_elem_new = onehot.sum(-1)  # (bins,)
        k_rand = self._random_rows(flat, bins)
        k_sum, k_elem = getattr(self, f"k_sum_{level}"), getattr(self, f"k_elem_{level}")
        k_sum.mul_(self.mu).add_(k_sum_new, alpha=1 - self.mu)
        k_elem.mul_(self.mu).add_(k_elem_new, alpha=1 - self.mu)
        usage = (k_elem >= self.threshold).float().unsqueeze(1)  # (bins, 1)
        k.copy_(usage * (k_sum / k_elem.clamp_min(1e-8).unsqueeze(1)) + (1 - usage) * k_rand)
        prob = k_elem_new / k_elem_new.sum()
        perplexity = torch.exp(-(prob * torch.log(prob + 1e-10)).sum())
        return {f"used_{level}": float(usage.sum()), f"restarts_{level}": float(bins - usage.sum()),
                f"perplexity_{level}": float(perplexity)}


class VQVAETrainer(nn.Module):
    """The VQ-VAE plus its EMA codebooks: one module so that one state dict resumes both."""

    def __init__(self, vqvae: VQVAE, bw: Bandwidth, fresh_codebooks: bool):
        super().__init__()
        self.vqvae = vqvae
        self.ema = EMACodebooks(vqvae.cfg)
        self.bw = bw
        self.fresh_codebooks = fresh_codebooks

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """x (N, T) audio -> (loss, logs). Updates the codebooks when in training mode."""
        cfg = self.vqvae.cfg
        total = x.new_zeros(())
        logs: dict = {}
        for lv in range(cfg.levels):
            h = self.vqvae.encoders[lv](x.unsqueeze(1)).float()  # (N, emb, T_L)
            n, c, t = h.shape
            flat = h.detach().permute(0, 2, 1).reshape(-1, c)  # (N*T_L, emb)
            block = self.vqvae.bottleneck.level_blocks[lv]
            if self.training and not bool(getattr(self.ema, f"ready_{lv}")):
                self.ema.init_from(lv, block.k, flat, from_codebook=not self.fresh_codebooks)
            codes = block.encode(h.detach())  # (N, T_L)
            x_d = block.decode(codes)  # (N, emb, T_L)
            commit = ((x_d.detach() - h) ** 2).mean()
            if self.training:
                logs.update(self.ema.update(lv, block.k, flat, codes.view(-1)))
            x_st = h + (x_d - h).detach()  # straight-through
            x_hat = self.vqvae.decoders[lv](x_st)[:, 0, :]  # (N, T)
            l2, linf = lmix_loss(x, x_hat, self.bw)
            spec = multispectral_loss(x, x_hat, self.bw)
            total = total + l2 + linf + spec + cfg.commit * commit
            logs.update({f"l2_{lv}": float(l2.detach()), f"spec_{lv}": float(spec.detach()),
                         f"commit_{lv}": float(commit.detach())})
        return total, logs


def crop_length(cfg: VQVAEConfig, seconds: float) -> int:
    """Training crop in samples: ``seconds`` rounded down to a whole number of top-level tokens."""
    top = cfg.hop_lengths[-1]
    return max(top, int(seconds * cfg.sr) // top * top)


def train_vqvae(data: AudioSet, cfg: Optional[VQVAEConfig], opts: RunOptions, init: "str | Path | None" = None,
                crop_seconds: float = 2.0, progress: Optional[Progress] = None,
                cancel: Optional[Callable[[], bool]] = None) -> Path:
    """Train (or fine-tune from ``init``, a vqvae file or model folder) and return the exported model's path.

    The model lands in ``opts.out/model/vqvae.safetensors`` (+ ``.json``) at every checkpoint.
    """
    device = pick_device(opts.device)
    if init is not None:
        path = model_file(init, "vqvae")
        vqvae = load_checkpoint(path)
        if not isinstance(vqvae, VQVAE):
            raise TrainError(f"{path} is a prior, not a VQ-VAE. Fix: pass --init the model folder or its vqvae file.")
        cfg = vqvae.cfg
    else:
        if cfg is None:
            raise TrainError("no VQ-VAE config: pass a config or --init a model to fine-tune.")
        torch.manual_seed(opts.seed)
        vqvae = build(cfg)
    if data.sr != cfg.sr:
        raise TrainError(f"the data is at {data.sr} Hz but the VQ-VAE runs at {cfg.sr} Hz; load it at {cfg.sr}.")
    length = crop_length(cfg, crop_seconds)
    bw_rng = np.random.default_rng(1234)
    bw = estimate_bandwidth(torch.from_numpy(data.crop_batch(bw_rng, opts.batch, length)[0]) for _ in range(8))
    log.info("bandwidth l2=%.4g spec=%.4g; crop %d samples, batch %d", bw.l2, bw.spec, length, opts.batch)
    trainer = VQVAETrainer(vqvae, bw, fresh_codebooks=init is None).to(device)
    model_dir = opts.out / "model"

    def step_fn(rng: np.random.Generator, step: int):
        x, _ = data.crop_batch(rng, opts.batch, length)
        with autocast(device):
            return trainer(torch.from_numpy(x).to(device))

    def export(step: int) -> None:
        save_model(vqvae, model_dir / "vqvae", extra={"trained_steps": step, "bandwidth": bw.as_dict()})

    run_loop(trainer, opts, step_fn, export, progress, cancel, extra={"kind": "vqvae"})
    return model_dir / "vqvae.safetensors"
