"""VQ-VAE training losses (REFERENCE §1): L2 + linf mix, multi-resolution spectral loss, and the data bandwidths
that normalise them.

Shapes: audio ``x`` and reconstruction ``x_hat`` are (N, T) float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

# (n_fft, hop, window) of the three STFTs, as the reference
STFTS = ((2048, 240, 1200), (1024, 120, 600), (512, 50, 240))


@dataclass
class Bandwidth:
    """Dataset statistics that put the losses on a common scale (the reference's ``calculate_bandwidth``)."""

    l2: float  # mean squared sample
    spec: float  # mean per-element norm of the magnitude spectrogram, averaged over the STFTs

    def as_dict(self) -> dict:
        return {"l2": self.l2, "spec": self.spec}


def magnitude(x: torch.Tensor, n_fft: int, hop: int, win: int) -> torch.Tensor:
    """(N, T) -> (N, F, frames) magnitude spectrogram (float32)."""
    window = torch.hann_window(win, device=x.device)
    spec = torch.stft(x.float(), n_fft, hop, win, window, center=True, return_complex=True)
    return spec.abs()


def spectral_norm_diff(x: torch.Tensor, x_hat: torch.Tensor, n_fft: int, hop: int, win: int) -> torch.Tensor:
    """Per-item ||S(x) - S(x_hat)||_F / sqrt(elements): (N,)."""
    a, b = magnitude(x, n_fft, hop, win), magnitude(x_hat, n_fft, hop, win)
    d = (a - b).reshape(a.shape[0], -1)
    return d.norm(dim=-1) / np.sqrt(d.shape[-1])


def multispectral_loss(x: torch.Tensor, x_hat: torch.Tensor, bw: Bandwidth) -> torch.Tensor:
    """Mean over the three STFTs and the batch of the spectrogram difference norm, over ``bw.spec``."""
    terms = [spectral_norm_diff(x, x_hat, *s).mean() for s in STFTS]
    return torch.stack(terms).mean() / bw.spec


def lmix_loss(x: torch.Tensor, x_hat: torch.Tensor, bw: Bandwidth, linf_weight: float = 0.02,
              linf_k: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """(l2, linf) over ``bw.l2``: mean squared error, and the mean of the top-``linf_k`` squared errors per item."""
    sq = (x.float() - x_hat.float()) ** 2  # (N, T)
    l2 = sq.mean() / bw.l2
    k = min(linf_k, sq.shape[-1])
    linf = sq.topk(k, dim=-1).values.mean() / bw.l2
    return l2, linf_weight * linf


def estimate_bandwidth(batches) -> Bandwidth:
    """``batches``: iterable of (N, T) float tensors of real audio."""
    l2, spec, n = 0.0, 0.0, 0
    for x in batches:
        l2 += float((x.float() ** 2).mean())
        spec += float(np.mean([float(magnitude(x, *s).reshape(x.shape[0], -1).norm(dim=-1).mean()
                                     / np.sqrt(magnitude(x, *s)[0].numel())) for s in STFTS]))
        n += 1
    if n == 0 or l2 <= 0:
        raise ValueError("the training audio is silent: the loss cannot be normalised; check the data folder.")
    return Bandwidth(l2 / n, spec / n)


# --- evaluation metrics -----------------------------------------------------------------------------------------


def spectral_convergence(x: torch.Tensor, x_hat: torch.Tensor, n_fft: int = 2048, hop: int = 240,
                         win: int = 1200) -> torch.Tensor:
    """Per-item ||S(x) - S(x_hat)||_F / ||S(x)||_F (lower is better; 0 is perfect). As the Jukebox paper reports it in
    dB: 20 * log10 of this. Returns (N,)."""
    a, b = magnitude(x, n_fft, hop, win), magnitude(x_hat, n_fft, hop, win)
    return (a - b).reshape(a.shape[0], -1).norm(dim=-1) / a.reshape(a.shape[0], -1).norm(dim=-1).clamp_min(1e-8)


def log_spectral_distance(x: torch.Tensor, x_hat: torch.Tensor, n_fft: int = 2048, hop: int = 240,
                          win: int = 1200, eps: float = 1e-5) -> torch.Tensor:
    """Per-item RMS over frequency, mean over frames, of 20*log10 |S(x)| - 20*log10 |S(x_hat)| in dB: (N,)."""
    a, b = magnitude(x, n_fft, hop, win), magnitude(x_hat, n_fft, hop, win)
    d = 20 * torch.log10(a + eps) - 20 * torch.log10(b + eps)  # (N, F, frames)
    return d.pow(2).mean(dim=1).sqrt().mean(dim=-1)
