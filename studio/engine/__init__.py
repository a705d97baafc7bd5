"""The Qt-free engine: configs, networks, labels, checkpoints and the sampler.

Public API::

    load_checkpoint(path) -> VQVAE | JukeboxPrior          (eval mode, CPU)
    official_model(name, level, device="meta")             (name: 5b, 5b_lyrics, 1b_lyrics; level 0-2 or "vqvae")
    VQVAE.encode(x (N, T)) -> [codes level 0, 1, 2]; VQVAE.decode(zs, start_level=L) -> (N, T)
    JukeboxPrior.logits(z, z_cond=None, y=None) -> (N, T, bins); JukeboxPrior.make_y(artist, genre, lyrics,
    total_length, offset) -> (y_len,) int64

The names are imported on first use, so that the studio process can import the torch-free modules (events, spec,
takes, configs, memory) without loading torch.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError", "OFFICIAL_MODELS", "LyricEncoderConfig", "PriorConfig", "VQVAEConfig", "official_config",
    "official_file", "LabelTablesNotFound", "build", "load_checkpoint", "official_model",
    "save_model", "JukeboxPrior", "VQVAE",
]


def __getattr__(name: str):
    if name in ("OFFICIAL_MODELS", "LyricEncoderConfig", "PriorConfig", "VQVAEConfig", "official_config",
                "official_file"):
        from . import configs as home
    elif name in ("build", "load_checkpoint", "official_model", "save_model"):
        from . import loading as home
    elif name == "CheckpointError":
        from . import checkpoints as home
    elif name == "LabelTablesNotFound":
        from . import labels as home
    elif name == "JukeboxPrior":
        from . import prior as home
    elif name == "VQVAE":
        from . import vqvae as home
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(home, name)
