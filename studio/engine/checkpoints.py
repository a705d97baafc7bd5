"""Reading and writing model files without unrestricted pickle.

* Official ``.pth.tar`` files (legacy or zip torch serialisation of ``{'hps', 'model', 'opt', 'step'}``, ``hps``
  holding numpy scalars, keys maybe prefixed ``module.``) are read with torch's weights-only unpickler plus an explicit
  allow-list of numpy scalar/dtype reconstructors. Anything else in the pickle (a function call that would run code)
  is refused.
* The project's own format is ``<stem>.safetensors`` plus ``<stem>.json`` (kind and config).
"""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A model file that cannot be used: the message names the file, the cause and the fix."""


def _numpy_allow_list() -> list:
    allowed: list = [np.dtype]
    for mod_name in ("numpy.core.multiarray", "numpy._core.multiarray"):
        try:
            mod = __import__(mod_name, fromlist=["scalar"])
            allowed.append(mod.scalar)
        except (ImportError, AttributeError):
            pass
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        for name in dir(dtypes):
            obj = getattr(dtypes, name)
            if isinstance(obj, type) and name.endswith("DType"):
                allowed.append(obj)
    return allowed


def read_official_container(path: "str | Path") -> dict:
    """Load an official checkpoint dict with the restricted unpickler. Raises CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file. Check the model folder, or download the model again.")
    size = path.stat().st_size
    try:
        with torch.serialization.safe_globals(_numpy_allow_list()):
            # zip files are memory-mapped: a 10 GB prior is paged in as it is assigned, never copied
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as exc:
        msg = str(exc)
        if "Unsupported global" in msg or "GLOBAL" in msg or "not an allowed global" in msg:
            raise CheckpointError(
                f"{path}: refused to load: the file contains code that would run on loading "
                f"({msg.splitlines()[-1].strip()[:200]}). It is not a genuine model file; delete it and "
                f"download the model again from its official source.") from None
        raise CheckpointError(f"{path}: not a readable checkpoint ({msg.splitlines()[0][:200]}); the file is "
                              f"damaged or truncated ({size} bytes): download it again.") from None
    except (EOFError, RuntimeError, zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{path}: the file is truncated or damaged ({type(exc).__name__}: "
                              f"{str(exc)[:160]}; {size} bytes). Download it again and run "
                              f"'studio models verify'.") from None
    if not isinstance(obj, dict) or "model" not in obj:
        raise CheckpointError(f"{path}: not a Jukebox checkpoint (no 'model' entry). Point the studio at the "
                              f"official .pth.tar files or a folder written by this project.")
    return obj


def strip_module_prefix(state: dict) -> dict:
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}


def plain_hps(hps: Any) -> dict:
    """numpy scalars inside the hps dict -> Python values."""
    def conv(v):
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, (list, tuple)):
            return type(v)(conv(x) for x in v)
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return conv(dict(hps or {}))


# --- the project's own format ------------------------------------------------------------------------------


def save_model_files(stem: "str | Path", kind: str, config: dict, state: dict, extra: dict | None = None) -> Path:
    """Write ``stem.safetensors`` + ``stem.json`` atomically. Tied tensors are stored once."""
    from safetensors.torch import save_file

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    tensors, seen, aliases = {}, {}, {}
    for k, v in state.items():
        key = (v.data_ptr(), v.dtype, tuple(v.shape)) if v.device.type != "meta" else None
        if key is not None and key in seen:
            aliases[k] = seen[key]
            continue
        if key is not None:
            seen[key] = k
        tensors[k] = v.detach().contiguous().cpu()
    meta = {"format": FORMAT_VERSION, "kind": kind, "config": config, "aliases": aliases, **(extra or {})}
    st_path, js_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    tmp_st, tmp_js = st_path.with_name(st_path.name + ".tmp"), js_path.with_name(js_path.name + ".tmp")
    save_file(tensors, str(tmp_st), metadata={"kind": kind})
    tmp_js.write_text(json.dumps(meta, indent=1, sort_keys=True))
    os.replace(tmp_st, st_path)
    os.replace(tmp_js, js_path)
    return st_path


def read_model_files(path: "str | Path") -> tuple[dict, dict]:
    """Read ``stem.safetensors`` and its JSON; returns (meta, state). Raises CheckpointError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    st_path = path.with_suffix(".safetensors")
    js_path = path.with_suffix(".json")
    if not st_path.is_file():
        raise CheckpointError(f"{st_path}: no such file. Check the model folder.")
    if not js_path.is_file():
        raise CheckpointError(f"{st_path}: its config {js_path.name} is missing beside it; copy both files.")
    try:
        meta = json.loads(js_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{js_path}: unreadable config ({exc}); restore it from the model's source.") from None
    try:
        state = load_file(str(st_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{st_path}: the file is truncated or damaged ({exc}); restore it from the "
                              f"model's source.") from None
    for alias, target in (meta.get("aliases") or {}).items():
        state[alias] = state[target]
    return meta, state
