"""The Qt-free engine: configs, networks, labels, checkpoints and the sampler.

Public API::

    load_checkpoint(path) -> VQVAE | JukeboxPrior          (eval mode, CPU)
    official_model(name, level, device="meta")             (name: 5b, 5b_lyrics, 1b_lyrics; level 0-2 or "vqvae")
    VQVAE.encode(x (N, T)) -> [codes level 0, 1, 2]; VQVAE.decode(zs, start_level=L) -> (N, T)
    JukeboxPrior.logits(z, z_cond=None, y=None) -> (N, T, bins); JukeboxPrior.make_y(artist, genre, lyrics,
    total_length, offset) -> (y_len,) int64
"""

from .checkpoints import CheckpointError
from .configs import (OFFICIAL_MODELS, LyricEncoderConfig, PriorConfig, VQVAEConfig, official_config,
                      official_file)
from .labels import LabelTablesNotFound
from .loading import build, load_checkpoint, official_model, save_model
from .prior import JukeboxPrior
from .vqvae import VQVAE

__all__ = [
    "CheckpointError", "OFFICIAL_MODELS", "LyricEncoderConfig", "PriorConfig", "VQVAEConfig", "official_config",
    "official_file", "LabelTablesNotFound", "build", "load_checkpoint", "official_model",
    "save_model", "JukeboxPrior", "VQVAE",
]
