"""Build networks from configs and load weights: official ``.pth.tar`` files and the project's safetensors.

Large networks are built on the ``meta`` device and the loaded tensors assigned, so loading needs no second copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import torch
from torch import nn

from .checkpoints import (CheckpointError, plain_hps, read_model_files, read_official_container,
                          save_model_files, strip_module_prefix)
from .configs import (PriorConfig, VQVAEConfig, config_to_dict, official_config, prior_config_from_dict,
                      prior_config_from_hps, vqvae_config_from_dict, vqvae_config_from_hps)
from .prior import JukeboxPrior
from .vqvae import VQVAE

Model = Union[VQVAE, JukeboxPrior]


def build(cfg: "VQVAEConfig | PriorConfig", device: "str | torch.device" = "cpu") -> Model:
    """Instantiate a network from its config (random init on CPU, uninitialised on ``meta``)."""
    with torch.device(device):
        return VQVAE(cfg) if isinstance(cfg, VQVAEConfig) else JukeboxPrior(cfg)


def official_model(name: str, level: "int | str", device: str = "meta") -> Model:
    """The official network ``name`` (5b, 5b_lyrics, 1b_lyrics) at full size: level 0-2 or "vqvae"."""
    return build(official_config(name, level), device)


def _tied_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """(alias, owner) parameter names that share one tensor."""
    seen, pairs = {}, []
    for name, p in model.named_parameters(remove_duplicate=False):
        if id(p) in seen:
            pairs.append((name, seen[id(p)]))
        else:
            seen[id(p)] = name
    return pairs


def assign_state(model: nn.Module, state: dict, source: "str | Path") -> nn.Module:
    """Check names and shapes against the model, cast to its dtypes, assign without copying, re-tie shared weights.

    Raises CheckpointError naming the file and the mismatch.
    """
    expected = model.state_dict(keep_vars=True)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (first: {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (first: {', '.join(unexpected[:3])})")
        raise CheckpointError(f"{source}: the weights do not fit this network: {'; '.join(parts)}. The file is for "
                              f"another model or level, or it is truncated; check the model folder.")
    for k, ref in expected.items():
        t = state[k]
        if tuple(t.shape) != tuple(ref.shape):
            raise CheckpointError(f"{source}: weight {k} has shape {tuple(t.shape)} but the network expects "
                                  f"{tuple(ref.shape)}. The file is for another model size or is damaged.")
        if t.dtype != ref.dtype:
            state[k] = t.to(ref.dtype)
    tied = _tied_pairs(model)
    model.load_state_dict(state, strict=True, assign=True)
    for alias, owner in tied:
        mod_path, _, attr = alias.rpartition(".")
        owner_param = model.get_parameter(owner)
        setattr(model.get_submodule(mod_path), attr, owner_param)
    return model


def _infer_prior_shapes(cfg: PriorConfig, state: dict) -> PriorConfig:
    """The codebook size is the VQ-VAE's, not stored in a prior's hps: read it off the embedding."""
    emb = state.get("prior.x_emb.weight")
    if emb is not None:
        cfg.bins = int(emb.shape[0]) - (cfg.n_vocab if cfg.single_enc_dec else 0)
    return cfg


def load_checkpoint(path: "str | Path", config_name: "tuple[str, int | str] | None" = None) -> Model:
    """Load a VQ-VAE or prior (eval mode, CPU) from an official ``.pth.tar`` or a project ``.safetensors``.

    The network is configured from the file's own ``hps``/config; ``config_name`` (e.g. ``("5b", 2)``) is used
    for files that carry none. Label tables are attached from an ``ids/`` folder near the file when present.
    """
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        meta, state = read_model_files(path)
        kind, cfg_d = meta.get("kind"), meta.get("config") or {}
        cfg = vqvae_config_from_dict(cfg_d) if kind == "vqvae" else prior_config_from_dict(cfg_d)
    else:
        ck = read_official_container(path)
        state = strip_module_prefix(ck["model"])
        hps = plain_hps(ck.get("hps"))
        is_vqvae = any(k.startswith("encoders.") for k in state)
        kind = "vqvae" if is_vqvae else "prior"
        if hps and ("level" in hps or is_vqvae):
            cfg = vqvae_config_from_hps(hps) if is_vqvae else _infer_prior_shapes(prior_config_from_hps(hps), state)
        elif config_name is not None:
            cfg = official_config(*config_name)
        else:
            raise CheckpointError(f"{path}: the file carries no hyperparameters; say which model it is "
                                  f"(e.g. config_name=('5b', 2)).")
    model = build(cfg, "meta")
    assign_state(model, state, path)
    model.eval()
    if isinstance(model, JukeboxPrior):
        model.attach_labels(near=path)
    model.source_path = str(path)  # type: ignore[attr-defined]
    return model


def save_model(model: Model, stem: "str | Path", extra: dict | None = None) -> Path:
    """Write a network in the project's format (``stem.safetensors`` + ``stem.json``)."""
    kind = "vqvae" if isinstance(model, VQVAE) else "prior"
    return save_model_files(stem, kind, config_to_dict(model.cfg), model.state_dict(), extra)
