"""A model set: one VQ-VAE and the priors of every level, loaded lazily from files.

Folder layouts it understands: any folder holding ``vqvae`` and ``prior_level_{0,1,2}`` files (``.pth.tar`` or
``.safetensors``), searched recursively (the official layout ``5b/vqvae.pth.tar``, ``5b_lyrics/prior_level_2.pth.tar``
works). The name ``demo`` is the bundled model in the repository's ``models/demo``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from .checkpoints import CheckpointError
from .loading import load_checkpoint
from .paths import repo_models_dir, user_models_dir
from .prior import JukeboxPrior
from .vqvae import VQVAE

SUFFIXES = (".safetensors", ".pth.tar")


def _find(folder: Path, stem: str) -> Optional[Path]:
    for suffix in SUFFIXES:
        hits = sorted(folder.rglob(stem + suffix))
        if hits:
            # prefer a top-level prior from the model's own sub-folder over the shared 5b one
            hits.sort(key=lambda p: (p.parent.name == "5b" and stem == "prior_level_2", len(p.parts)))
            return hits[0]
    return None


class ModelSet:
    """Paths of a VQ-VAE and priors; networks are loaded on first use and kept."""

    def __init__(self, vqvae: "str | Path", priors: dict, name: str = "custom", ids_dir: "str | Path | None" = None):
        self.name = name
        self.vqvae_path = Path(vqvae)
        self.prior_paths = {int(k): Path(v) for k, v in priors.items()}
        self.ids_dir = Path(ids_dir) if ids_dir else None
        self._vqvae: Optional[VQVAE] = None
        self._priors: dict[int, JukeboxPrior] = {}
        self.device = torch.device("cpu")

    @classmethod
    def from_folder(cls, folder: "str | Path", name: Optional[str] = None) -> "ModelSet":
        folder = Path(folder)
        if not folder.is_dir():
            raise CheckpointError(f"{folder}: no such model folder. Choose a folder holding vqvae and "
                                  f"prior_level_0/1/2 files, or download a model with 'studio models download'.")
        vq = _find(folder, "vqvae")
        priors = {lv: _find(folder, f"prior_level_{lv}") for lv in (0, 1, 2)}
        missing = [n for n, p in [("vqvae", vq), *[(f"prior_level_{k}", v) for k, v in priors.items()]] if p is None]
        if missing:
            raise CheckpointError(f"{folder}: the model folder lacks {', '.join(missing)}. Download the missing files "
                                  f"('studio models download') or choose another folder.")
        ids = folder / "ids" if (folder / "ids").is_dir() else None
        return cls(vq, priors, name or folder.name, ids)

    @classmethod
    def named(cls, name: str) -> "ModelSet":
        """A path, or a folder ``name`` in the user's models directory or the repository's ``models/`` (``demo``, the
        bundled model); see :mod:`studio.engine.paths`."""
        candidates = [Path(name), user_models_dir() / name, repo_models_dir() / name]
        for c in candidates:
            if c.is_dir():
                return cls.from_folder(c, name if c != Path(name) else None)
        raise CheckpointError(f"model {name!r} not found (looked in {', '.join(str(c) for c in candidates)}). "
                              f"Run 'studio models list' to see what is installed.")

    def __getstate__(self) -> dict:
        """Pickle the recipe (paths, name, device), never loaded networks: a sampler process loads its own."""
        return {"name": self.name, "vqvae_path": self.vqvae_path, "prior_paths": self.prior_paths,
                "ids_dir": self.ids_dir, "device": str(self.device)}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["vqvae_path"], state["prior_paths"], state["name"], state["ids_dir"])
        self.device = torch.device(state["device"])

    # -- loading ------------------------------------------------------------------------------------------------
    def to(self, device: "str | torch.device") -> "ModelSet":
        self.device = torch.device(device)
        if self._vqvae is not None:
            self._vqvae.to(self.device)
        for p in self._priors.values():
            p.to(self.device)
        return self

    @property
    def vqvae(self) -> VQVAE:
        if self._vqvae is None:
            model = load_checkpoint(self.vqvae_path)
            if not isinstance(model, VQVAE):
                raise CheckpointError(f"{self.vqvae_path}: this is a prior, not a VQ-VAE.")
            self._vqvae = model.to(self.device)
        return self._vqvae

    def prior(self, level: int) -> JukeboxPrior:
        if level not in self._priors:
            model = load_checkpoint(self.prior_paths[level])
            if not isinstance(model, JukeboxPrior) or model.cfg.level != level:
                raise CheckpointError(f"{self.prior_paths[level]}: expected the level-{level} prior.")
            if self.ids_dir is not None and not model.labels_attached:
                model.attach_labels(ids_dir=self.ids_dir)
            self._priors[level] = model.to(self.device)
        return self._priors[level]

    def sampling_prior(self, level: int, dtype: torch.dtype) -> JukeboxPrior:
        """The level's prior cast for sampling in ``dtype``; loaded again from its file where an earlier job
        rounded its weights to another dtype (bf16 or int8), so every job samples the weights the file holds."""
        prior = self.prior(level)
        if prior.needs_reload_for(dtype):
            del self._priors[level], prior
            prior = self.prior(level)
        prior.cast_for_sampling(dtype)
        return prior

    @property
    def sr(self) -> int:
        return self.vqvae.cfg.sr

    @property
    def levels(self) -> int:
        return self.vqvae.cfg.levels

    @property
    def hop_lengths(self) -> list[int]:
        return self.vqvae.hop_lengths
