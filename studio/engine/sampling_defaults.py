"""A model's own sampling defaults, and how a spec takes them.

A model folder may hold ``sampling.json`` beside its VQ-VAE (``tools/tune_sampling.py`` writes it from measurements)::

    {"temperature": [0.9, 0.95, 0.98], "top_k": 0, "top_p": 0.0, "measured": {...}}

``temperature`` is per level (0, 1, 2); ``top_k`` / ``top_p`` filter every level (0 = off, at most one of them on);
``measured`` is free-form provenance and is not read. A spec whose ``temperature`` (or both ``top_k`` and ``top_p``)
is left as None takes the model's values; a value the user set always wins. A model without the file samples with
the Jukebox reference's values (:data:`REFERENCE`). Torch-free: the studio process reads it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .model_tables import load_table, table_error, table_path, write_table
from .spec import MAX_TEMPERATURE, MAX_TOP_K, SongSpec, SpecError, is_finite_number, is_whole

SAMPLING_FILE = "sampling.json"


@dataclass(frozen=True)
class SamplingDefaults:
    temperature: tuple  # levels 0, 1, 2
    top_k: int = 0  # 0 = off
    top_p: float = 0.0  # 0 = off


REFERENCE = SamplingDefaults(temperature=(0.99, 0.99, 0.98))  # the Jukebox sampling scripts' values


def sampling_file(models) -> Path:
    """Where a model set's defaults live: ``sampling.json`` in the folder of its VQ-VAE file."""
    return table_path(models, SAMPLING_FILE)


def read_sampling_defaults(path: "str | Path") -> SamplingDefaults:
    """The defaults in ``path``, or :data:`REFERENCE` when there is no such file.

    Raises:
        SpecError: the file exists but is not a valid sampling table (naming the file, the key and the fix).
    """
    path = Path(path)
    data = load_table(path, "sampling table")
    if data is None:
        return REFERENCE

    def bad(key: str, allowed: str) -> SpecError:
        return table_error(path, key, allowed)

    if not isinstance(data, dict):
        raise bad("<table>", "a JSON object")
    temps = data.get("temperature")
    if not (isinstance(temps, list) and len(temps) == 3
            and all(is_finite_number(t) and 0 < t <= MAX_TEMPERATURE for t in temps)):
        raise bad("temperature", f"three numbers (levels 0, 1, 2), each in (0, {MAX_TEMPERATURE:g}]")
    top_k, top_p = data.get("top_k", 0), data.get("top_p", 0.0)
    if not (is_whole(top_k) and 0 <= top_k <= MAX_TOP_K):
        raise bad("top_k", f"a whole number from 0 (off) to {MAX_TOP_K}")
    if not (is_finite_number(top_p) and 0 <= top_p < 1):
        raise bad("top_p", "a number in [0, 1) (0 = off)")
    if top_k and top_p:
        raise bad("top_k", "0 when 'top_p' is set (one filter at most)")
    return SamplingDefaults(tuple(float(t) for t in temps), int(top_k), float(top_p))


def write_sampling_defaults(path: "str | Path", defaults: SamplingDefaults, measured: "dict | None" = None) -> Path:
    """Write ``defaults`` (and the measurements behind them) as ``path``; returns the path."""
    if not (len(defaults.temperature) == 3 and all(math.isfinite(t) for t in defaults.temperature)):
        raise ValueError(f"three finite temperatures are needed, not {defaults.temperature!r}")
    data = {"temperature": [round(float(t), 3) for t in defaults.temperature], "top_k": int(defaults.top_k),
            "top_p": float(defaults.top_p)}
    if measured is not None:
        data["measured"] = measured
    return write_table(path, data, read_sampling_defaults)


def fill_model_defaults(spec: SongSpec, models) -> None:
    """Give ``spec`` the model's sampling values where the user left them unset (None), in place.

    The temperature is filled as a whole; top-k and top-p as a pair, since at most one of them may be on: a user who
    set either chose the filter, and the other is off.
    """
    if spec.temperature is not None and spec.top_k is not None and spec.top_p is not None:
        return
    model = read_sampling_defaults(sampling_file(models))
    if spec.temperature is None:
        spec.temperature = list(model.temperature)
    if spec.top_k is None and spec.top_p is None:
        spec.top_k, spec.top_p = model.top_k, model.top_p
    else:
        spec.top_k, spec.top_p = spec.top_k or 0, spec.top_p or 0.0
