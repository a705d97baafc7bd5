"""Priming: a range of the user's own audio encoded to codes at every level, to continue from."""

from __future__ import annotations

import numpy as np
import torch

from ..audio.io import AudioLoadError, load_audio  # soundfile + numpy; no Qt
from .spec import PrimeSpec, SpecError


def prime_codes(models, prime: PrimeSpec, n_samples: int) -> list[np.ndarray]:
    """Codes (1, T_L) per level of ``prime.file`` between ``start`` and ``end`` seconds.

    The clip is loaded at the model's rate, mixed to mono and cut to a multiple of the top hop length.
    """
    try:
        audio = load_audio(prime.file, models.sr, start=prime.start, end=prime.end)
    except AudioLoadError as exc:
        raise SpecError(f"priming clip: {exc}") from None
    top = models.hop_lengths[-1]
    length = len(audio) // top * top
    if length == 0:
        raise SpecError(f"the priming clip from {prime.file} is shorter than {top / models.sr:.3f} s; "
                        f"choose a longer range.")
    if length >= n_samples:
        raise SpecError(f"the priming clip ({length / models.sr:.1f} s) is as long as the song "
                        f"({n_samples / models.sr:.1f} s): make the song longer or the clip shorter.")
    x = torch.from_numpy(np.ascontiguousarray(audio[:length], dtype=np.float32))[None]
    vq = models.vqvae
    zs = vq.encode(x.to(next(vq.parameters()).device))
    return [z.cpu().numpy() for z in zs]
