"""Reading and writing model files without unrestricted pickle.

* Official ``.pth.tar`` files (legacy or zip torch serialisation of ``{'hps', 'model', 'opt', 'step'}``, ``hps``
  holding numpy scalars, keys maybe prefixed ``module.``) are read with torch's weights-only unpickler plus an explicit
  allow-list of numpy scalar/dtype reconstructors. Anything else in the pickle (a function call that would run code)
  is refused. Zip files have every entry's CRC-32 checked (streamed, entry by entry) and their directory checked
  for names outside the archive and impossible sizes before the pickle is read.
* The project's own format is ``<stem>.safetensors`` plus ``<stem>.json`` (kind, config and the sha256 of the header
  and of each tensor). The header's byte ranges are checked against the file, and the sha256 values when recorded.

Every refusal is a CheckpointError naming the file, the damaged part and the fix.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import pickle
import re
import struct
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import torch

FORMAT_VERSION = 1
_CHUNK = 8 << 20  # integrity checks stream files in pieces this size, never whole
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = b"\x80"  # legacy torch files open with a pickle protocol marker


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


def _fix(path: Path) -> str:
    return (f"Run 'studio models verify {path.parent}' to list the damaged files, then fetch them again with "
            f"'studio models download <model name>'.")


def _check_zip_directory(path: Path, zf: zipfile.ZipFile, size: int) -> None:
    """Refuse entry names that leave the archive and sizes no genuine checkpoint declares (zip bombs)."""
    declared = 0
    for info in zf.infolist():
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if not parts or name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise CheckpointError(f"{path}: refused to load: the zip entry {name!r} points outside the archive: "
                                  f"it is not a genuine model file; delete it. {_fix(path)}")
        if info.file_size > size or info.header_offset + info.compress_size > size:
            raise CheckpointError(f"{path}: refused to load: the zip entry {name!r} declares {info.file_size} bytes "
                                  f"in a {size}-byte file (a zip bomb or a damaged directory). {_fix(path)}")
        declared += info.compress_size
    if declared > size:
        raise CheckpointError(f"{path}: refused to load: its zip entries declare {declared} bytes in all, more than "
                              f"the file's {size} (entries overlap: a zip bomb or a damaged directory). {_fix(path)}")


def _verify_zip(path: Path, size: int) -> None:
    """Check the directory, then stream every entry once, checking the CRC-32 the directory records for it."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: the file is truncated or damaged: its zip directory is unreadable ({exc}; "
                              f"{size} bytes). {_fix(path)}") from None
    with zf:
        _check_zip_directory(path, zf, size)
        for info in zf.infolist():
            try:
                with zf.open(info) as entry:
                    while entry.read(_CHUNK):
                        pass
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
                raise CheckpointError(f"{path}: the entry {info.filename!r} is damaged ({exc}). {_fix(path)}") from None


def _unpickling_failure(path: Path, exc: pickle.UnpicklingError, size: int) -> CheckpointError:
    """The restricted unpickler's refusal as one line: the code the pickle asked for, or the damage it met."""
    msg = str(exc)
    called = re.search(r"GLOBAL ([\w.]+)", msg)
    if called:
        return CheckpointError(f"{path}: refused to load: its pickle calls {called.group(1)}, which no model file "
                               f"needs (nothing was run). It is not a genuine model file; delete it and download the "
                               f"model again. {_fix(path)}")
    detail = msg.partition("WeightsUnpickler error:")[2].strip().splitlines() or msg.strip().splitlines()[:1]
    cause = detail[0][:160] if detail else "its pickle stream is unreadable"
    return CheckpointError(f"{path}: the file is truncated or damaged ({cause}; {size} bytes). {_fix(path)}")


def read_official_container(path: "str | Path") -> dict:
    """Load an official checkpoint dict with the restricted unpickler, after checking its integrity.

    Zip files have every entry's CRC-32 checked first; legacy (pickle-stream) files carry no checksum, so only their
    structure is checked as they load. Raises CheckpointError.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file. Check the model folder, or download the model again.")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path}: the file is empty (0 bytes): the download or copy did not finish. "
                              f"{_fix(path)}")
    with path.open("rb") as f:
        head = f.read(4)
    is_zip = head == _ZIP_MAGIC
    if not is_zip and head[:1] != _PICKLE_PROTO:
        raise CheckpointError(f"{path}: not a model file: it is neither a torch checkpoint (zip or legacy) nor "
                              f"safetensors. Point the studio at the official .pth.tar files or a project folder.")
    if is_zip:
        _verify_zip(path, size)
    try:
        with torch.serialization.safe_globals(_numpy_allow_list()):
            # zip files are memory-mapped: a 10 GB prior is paged in as it is assigned, never copied
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as exc:
        raise _unpickling_failure(path, exc, size) from None
    except (EOFError, RuntimeError, OSError, ValueError, KeyError, IndexError) as exc:
        raise CheckpointError(f"{path}: the file is truncated or damaged ({type(exc).__name__}: "
                              f"{str(exc)[:160]}; {size} bytes). {_fix(path)}") from None
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

_ST_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
                "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8}
_ST_MAX_HEADER = 100 << 20  # the safetensors library's own limit


def _safetensors_layout(path: Path) -> tuple[int, dict[str, tuple[int, int]]]:
    """(header length, {tensor: (start, end) byte range in the file}), after checking the header.

    Refuses a header that is cut or unreadable, a tensor whose range does not match its shape, lies past the end of
    the file or overlaps another. Raises CheckpointError naming the tensor.
    """
    size = path.stat().st_size
    damaged = f"{path}: the file is truncated or damaged"
    with path.open("rb") as f:
        raw = f.read(8)
        n = struct.unpack("<Q", raw)[0] if len(raw) == 8 else -1
        if n < 2 or n > _ST_MAX_HEADER or 8 + n > size:
            raise CheckpointError(f"{damaged}: its safetensors header is cut or unreadable ({size} bytes). "
                                  f"{_fix(path)}")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{damaged}: its safetensors header is not valid JSON ({exc}). {_fix(path)}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{damaged}: its safetensors header is not a table of tensors. {_fix(path)}")
    begin, ranges = 8 + n, {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            shape, (lo, hi), itemsize = entry["shape"], entry["data_offsets"], _ST_ITEMSIZE[entry["dtype"]]
            count = int(np.prod(shape, dtype=np.int64)) if all(isinstance(d, int) and d >= 0 for d in shape) else -1
            valid = isinstance(lo, int) and isinstance(hi, int) and 0 <= lo and hi - lo == count * itemsize
        except (KeyError, TypeError, ValueError):
            valid = False
        if not valid:
            raise CheckpointError(f"{damaged}: tensor {name!r} has an invalid header entry. {_fix(path)}")
        if begin + hi > size:
            raise CheckpointError(f"{damaged}: tensor {name!r} lies past the end of the file ({size} bytes). "
                                  f"{_fix(path)}")
        ranges[name] = (begin + lo, begin + hi)
    ordered = sorted(ranges.items(), key=lambda item: item[1])
    for (a, (_, a_end)), (b, (b_start, _)) in itertools.pairwise(ordered):
        if b_start < a_end:
            raise CheckpointError(f"{damaged}: tensors {a!r} and {b!r} overlap in the file. {_fix(path)}")
    return n, ranges


def _sha256_digests(path: Path) -> dict:
    """sha256 of the header and of each tensor's bytes, streamed in file order: ``{"header", "tensors": {...}}``."""
    n, ranges = _safetensors_layout(path)
    spans = [("", (0, 8 + n))] + sorted(ranges.items(), key=lambda item: item[1])
    digests: dict = {}
    with path.open("rb") as f:
        for name, (lo, hi) in spans:
            h = hashlib.sha256()
            f.seek(lo)
            while lo < hi:
                piece = f.read(min(_CHUNK, hi - lo))
                if not piece:
                    break
                h.update(piece)
                lo += len(piece)
            digests[name] = h.hexdigest()
    return {"header": digests.pop(""), "tensors": digests}


def _check_digests(path: Path, recorded: dict, sidecar: str) -> None:
    """Compare the file with the sha256 values its sidecar recorded; raises CheckpointError naming the entry."""
    actual = _sha256_digests(path)
    if actual["header"] != recorded.get("header"):
        raise CheckpointError(f"{path}: the file is damaged: its header differs from the one {sidecar} records "
                              f"(sha256). {_fix(path)}")
    expected = recorded.get("tensors") or {}
    for name in sorted(expected.keys() | actual["tensors"].keys()):
        if expected.get(name) != actual["tensors"].get(name):
            raise CheckpointError(f"{path}: the file is damaged: tensor {name!r} differs from the one {sidecar} "
                                  f"records (sha256). {_fix(path)}")


def save_model_files(stem: "str | Path", kind: str, config: dict, state: dict, extra: dict | None = None) -> Path:
    """Write ``stem.safetensors`` + ``stem.json`` atomically. Tied tensors are stored once.

    The JSON records the sha256 of the safetensors header and of each tensor as written, checked at every load.
    """
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
    st_path, js_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    tmp_st, tmp_js = st_path.with_name(st_path.name + ".tmp"), js_path.with_name(js_path.name + ".tmp")
    save_file(tensors, str(tmp_st), metadata={"kind": kind})
    meta = {"format": FORMAT_VERSION, "kind": kind, "config": config, "aliases": aliases, **(extra or {}),
            "sha256": _sha256_digests(tmp_st)}
    tmp_js.write_text(json.dumps(meta, indent=1, sort_keys=True))
    os.replace(tmp_st, st_path)
    os.replace(tmp_js, js_path)
    return st_path


def _read_sidecar(st_path: Path, js_path: Path) -> dict:
    try:
        meta = json.loads(js_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{js_path}: unreadable config ({exc}). {_fix(st_path)}") from None
    if not isinstance(meta, dict) or meta.get("kind") not in ("vqvae", "prior") or not isinstance(
            meta.get("config"), dict):
        raise CheckpointError(f"{js_path}: not the config of a model (it needs 'kind' vqvae or prior and a "
                              f"'config' table). {_fix(st_path)}")
    if not isinstance(meta.get("format", FORMAT_VERSION), int) or meta.get("format", FORMAT_VERSION) > FORMAT_VERSION:
        raise CheckpointError(f"{js_path}: written by a newer version of the studio (format {meta.get('format')}); "
                              f"update the studio to load it.")
    return meta


def read_model_files(path: "str | Path") -> tuple[dict, dict]:
    """Read ``stem.safetensors`` and its JSON; returns (meta, state). Raises CheckpointError.

    The header is checked (every tensor's bytes inside the file, none overlapping) and, where the JSON records
    sha256 values (files written since they were introduced), every tensor is checked against them.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    st_path = path.with_suffix(".safetensors")
    js_path = path.with_suffix(".json")
    if not st_path.is_file():
        raise CheckpointError(f"{st_path}: no such file. Check the model folder.")
    if not js_path.is_file():
        raise CheckpointError(f"{st_path}: its config {js_path.name} is missing beside it; copy both files.")
    meta = _read_sidecar(st_path, js_path)
    if "sha256" in meta:
        _check_digests(st_path, meta["sha256"] if isinstance(meta["sha256"], dict) else {}, js_path.name)
    else:
        _safetensors_layout(st_path)
    try:
        state = load_file(str(st_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{st_path}: the file is truncated or damaged ({exc}). {_fix(st_path)}") from None
    for alias, target in (meta.get("aliases") or {}).items():
        if target not in state:
            raise CheckpointError(f"{js_path}: the weight {alias!r} is recorded as a copy of {target!r}, which "
                                  f"{st_path.name} does not hold. {_fix(st_path)}")
        state[alias] = state[target]
    return meta, state
