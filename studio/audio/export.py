"""Exporting audio with its recipe: WAV, FLAC, Ogg Vorbis and (where libsndfile has LAME) MP3.

Every export carries the recipe twice: as the file's own metadata (the full recipe JSON in the 'comment' tag, a
readable summary in 'title', the artist and genre in their tags) and as a JSON sidecar ``<file>.json`` that any tool
can read. Files are written to a temporary name in the target folder and moved into place with ``os.replace``, so a
crash never leaves a half-written export under the user's chosen name.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from unidecode import unidecode

from studio import __version__
from studio.audio.io import AudioLoadError, check_audio_path, open_audio
from studio.audio.resample import check_rate

__all__ = ["ExportError", "ExportFormat", "ExportResult", "EXPORT_FORMATS", "available_formats", "export_audio",
           "read_recipe", "sidecar_path", "write_text_atomic"]

SIDECAR_KIND = "jukebox-studio-recipe"  # the "format" field of every sidecar this module writes


class ExportError(Exception):
    """An export failed; the message names the cause and the fix."""


@dataclass(frozen=True)
class ExportFormat:
    """One format export_audio writes.

    Attributes:
        name: short name used by export_audio's ``fmt`` ("wav", "flac", "ogg", "mp3").
        extension: the file extension, with its dot.
        container, subtype: libsndfile's names for the format and its default encoding.
        label: what an export dialog shows.
        depths: bit depth -> libsndfile subtype, for the formats that store PCM (empty: lossy, no bit depth).
        comment_limit: most characters the 'comment' tag keeps in this format (None: no practical limit).
        max_sr: highest sample rate checked before writing (None: libsndfile's own check is enough).
    """

    name: str
    extension: str
    container: str
    subtype: str
    label: str
    comment_limit: int | None = None
    max_sr: int | None = None
    depths: tuple = ()

    def subtype_for(self, bit_depth: int | None) -> str:
        """The libsndfile subtype storing ``bit_depth`` (None or a lossy format: the default encoding)."""
        if bit_depth is None or not self.depths:
            return self.subtype
        found = dict(self.depths).get(int(bit_depth))
        if found is None:
            depths = " or ".join(str(d) for d, _ in self.depths)
            raise ExportError(f"{self.label} cannot store {bit_depth}-bit audio; choose {depths} bits, or WAV for "
                              f"32-bit float.")
        return found


EXPORT_FORMATS: dict[str, ExportFormat] = {
    # libsndfile keeps at most 2045 characters per WAV INFO string and silently drops the rest of the tags beyond it.
    "wav": ExportFormat("wav", ".wav", "WAV", "PCM_16", "WAV (uncompressed)", comment_limit=2000,
                        depths=((16, "PCM_16"), (24, "PCM_24"), (32, "FLOAT"))),
    "flac": ExportFormat("flac", ".flac", "FLAC", "PCM_16", "FLAC (lossless)", depths=((16, "PCM_16"), (24, "PCM_24"))),
    # libvorbis crashes the process (not an error) on rates far above 192 kHz, so those never reach it.
    "ogg": ExportFormat("ogg", ".ogg", "OGG", "VORBIS", "Ogg Vorbis (lossy)", max_sr=192000),
    "mp3": ExportFormat("mp3", ".mp3", "MP3", "MPEG_LAYER_III", "MP3 (lossy)"),
}
_EXTENSIONS = {".wav": "wav", ".wave": "wav", ".flac": "flac", ".ogg": "ogg", ".oga": "ogg", ".mp3": "mp3"}


@dataclass(frozen=True)
class ExportResult:
    """What export_audio wrote.

    Attributes:
        path: the audio file.
        format: the ExportFormat name ("wav", ...).
        sidecar: the recipe sidecar ``<file>.json`` (None when no recipe was given).
        metadata: "full" (the file's tags hold the whole recipe), "shortened" (they hold a shortened recipe with long
            texts cut; the sidecar has all of it) or "none" (no recipe in the file's tags).
        note: one sentence for the user about metadata, '' when there is nothing to say.
        clipped: samples that were outside [-1, 1] (or not finite) and were clamped.
    """

    path: Path
    format: str
    sidecar: Path | None
    metadata: str
    note: str
    clipped: int


def sidecar_path(path) -> Path:
    """The recipe sidecar of an audio file: ``song.flac`` -> ``song.flac.json``."""
    p = Path(os.fspath(path))
    return p.with_name(p.name + ".json")


def _can_write(spec: ExportFormat) -> bool:
    """Whether this libsndfile really encodes spec (MP3 needs libsndfile >= 1.1 built with LAME): a tiny trial write."""
    if spec.container not in sf.available_formats() or spec.subtype not in sf.available_subtypes(spec.container):
        return False
    try:
        with sf.SoundFile(io.BytesIO(), "w", 44100, 1, spec.subtype, format=spec.container) as f:
            f.write(np.zeros(2048, dtype=np.float32))
    except Exception:  # any failure means "cannot write this here"; the caller only needs yes or no
        return False
    return True


@functools.lru_cache(maxsize=1)
def _writable() -> tuple[str, ...]:
    return tuple(name for name, spec in EXPORT_FORMATS.items() if _can_write(spec))


def available_formats() -> list[str]:
    """Names of the export formats this machine can write, in order: a subset of ["wav", "flac", "ogg", "mp3"]."""
    return list(_writable())


def _resolve_format(path: Path, fmt: str | None) -> ExportFormat:
    choices = ", ".join(available_formats())
    if fmt is None:
        name = _EXTENSIONS.get(path.suffix.lower())
        if name is None:
            raise ExportError(f"Cannot tell the export format from '{path.name}'; end the name with one of "
                              f"{', '.join('.' + n for n in available_formats())} or pass fmt.")
    else:
        name = str(fmt).lower().lstrip(".")
        if name not in EXPORT_FORMATS:
            raise ExportError(f"Unknown export format '{fmt}'; choose one of {choices}.")
    if name not in _writable():
        raise ExportError(f"This system's libsndfile ({sf.__libsndfile_version__}) cannot write {name.upper()}; "
                          f"choose one of {choices}, or install libsndfile 1.1 or newer for MP3.")
    return EXPORT_FORMATS[name]


def _json_default(value):
    """Make numpy values, paths and sets JSON-serialisable; anything else is a programming error."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (Path, os.PathLike)):
        return os.fspath(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"a recipe value of type {type(value).__name__} cannot be stored as JSON")


def _recipe_json(recipe: dict) -> str:
    if not isinstance(recipe, dict):
        raise ValueError(f"recipe must be a dict of JSON values, got {type(recipe).__name__}")
    try:
        return json.dumps(recipe, ensure_ascii=True, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError) as err:
        raise ValueError(f"The recipe cannot be saved: {err}; keep only str, number, bool, list and dict values.") \
            from err


def _longest_string(obj, best=(None, None, -1)):
    """(container, key, length) of the longest string leaf in nested dicts/lists."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        if isinstance(value, str) and len(value) > best[2]:
            best = (obj, key, len(value))
        elif isinstance(value, (dict, list)):
            best = _longest_string(value, best)
    return best


def _shortened_json(full: str, limit: int, where: str) -> str:
    """A JSON recipe of at most ``limit`` characters: long texts are cut (ending in '...') until it fits."""
    obj = json.loads(full)
    obj["_truncated"] = f"long texts cut to fit; the full recipe is in {where}"
    for _ in range(200):
        text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
        if len(text) <= limit:
            return text
        holder, key, length = _longest_string(obj)
        if holder is None or length <= 24:
            break
        holder[key] = holder[key][: max(16, length // 2)] + "..."
    return json.dumps({"_truncated": obj["_truncated"]})


def _summary(recipe: dict | None) -> dict[str, str]:
    """Readable tags from a recipe: title, artist, genre, date (only those the recipe can fill)."""
    recipe = recipe or {}
    title = str(recipe.get("title") or "Jukebox Studio take")
    details = [str(recipe[k]) for k in ("artist", "genre") if recipe.get(k)]
    if recipe.get("seed") is not None:
        details.append(f"seed {recipe['seed']}")
    tags = {"title": title + (f" ({', '.join(details)})" if details else "")}
    for key in ("artist", "genre"):
        if recipe.get(key):
            tags[key] = str(recipe[key])
    tags["date"] = str(recipe.get("date") or _dt.date.today().isoformat())
    return {k: v[:200] for k, v in tags.items()}


def _atomic_temp(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")


def write_text_atomic(target: Path, text: str) -> None:
    """Write UTF-8 text to a temporary name beside ``target``, then move it into place (OSError on failure)."""
    tmp = _atomic_temp(Path(target))
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json_atomic(target: Path, data: dict) -> None:
    write_text_atomic(target, json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n")


def export_audio(path, audio: np.ndarray, sr: int, fmt: str | None = None, recipe: dict | None = None,
                 bit_depth: int | None = None) -> ExportResult:
    """Write audio to ``path`` atomically, with the recipe in the file's tags and in a ``<file>.json`` sidecar.

    Args:
        path: target file; its extension picks the format unless ``fmt`` is given.
        audio: float (T,) mono or (C, T) with C <= 16 channels; values are clamped to [-1, 1], NaN/inf become 0.
        sr: sample rate in Hz (MP3 accepts 8000 to 48000).
        fmt: "wav", "flac", "ogg" or "mp3" (see available_formats()); None: from the extension.
        recipe: JSON-like dict describing how the audio was made, or None. Without a recipe, any stale sidecar of an
            earlier export under the same name is removed.
        bit_depth: 16, 24 (PCM) or 32 (float, WAV only) for WAV and FLAC; None: 16-bit. Lossy formats ignore it.

    Returns:
        ExportResult; its ``metadata`` and ``note`` say whether the tags hold the whole recipe.

    Raises:
        ExportError: unknown or unwritable format, missing folder, no permission, disk full, rate the format refuses.
        ValueError: audio of the wrong shape or empty, a recipe that is not JSON-serialisable.
    """
    target = Path(os.fspath(path)).expanduser()
    spec = _resolve_format(target, fmt)
    subtype = spec.subtype_for(bit_depth)
    sr = check_rate("sr", sr)
    if spec.max_sr is not None and sr > spec.max_sr:
        raise ExportError(f"{spec.label} cannot store {sr} Hz audio (at most {spec.max_sr} Hz); export as WAV or FLAC, "
                          f"or resample to 44100 Hz first.")
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[None, :]  # (1, T)
    if data.ndim != 2 or data.shape[0] > 16:
        raise ValueError(f"audio must be shaped (T,) or (channels, T) with at most 16 channels, got {data.shape}; "
                         f"for (T, channels) arrays pass audio.T")
    if data.shape[1] == 0:
        raise ValueError("audio is empty (0 samples); there is nothing to export")
    finite = np.isfinite(data)
    clipped = int(np.count_nonzero(~finite | (np.abs(np.where(finite, data, 0.0)) > 1.0)))
    frames = np.clip(np.where(finite, data, 0.0), -1.0, 1.0).T.astype(np.float32, order="C")  # (T, C)
    if not target.parent.is_dir():
        raise ExportError(f"The folder '{target.parent}' does not exist; choose an existing folder or create it first.")

    side = sidecar_path(target)
    full = _recipe_json(recipe) if recipe is not None else None
    comment, metadata = "", "none"
    if full is not None:
        comment, metadata = full, "full"
        if spec.comment_limit is not None and len(full) > spec.comment_limit:
            comment, metadata = _shortened_json(full, spec.comment_limit, side.name), "shortened"
    tags = _summary(recipe) if recipe is not None else {"title": "Jukebox Studio take"}
    if spec.name == "mp3":  # libsndfile writes ID3 text as Latin-1 bytes: keep MP3 tags in plain ASCII
        tags = {k: unidecode(v) for k, v in tags.items()}
    tags["software"] = f"Jukebox Studio {__version__}"
    if comment:
        tags["comment"] = comment

    tmp = _atomic_temp(target)
    try:
        try:
            with sf.SoundFile(str(tmp), "w", sr, frames.shape[1], subtype, format=spec.container) as f:
                for key, value in tags.items():
                    setattr(f, key, value)
                f.write(frames)
        except (sf.LibsndfileError, RuntimeError) as err:
            cause = getattr(err, "error_string", None) or str(err)
            raise ExportError(f"Could not write {spec.label} at {sr} Hz with {frames.shape[1]} channel(s) ({cause}); "
                              f"export as WAV or FLAC instead, or resample to 44100 Hz.") from err
        if comment:
            with sf.SoundFile(str(tmp)) as f:
                if f.comment != comment:
                    metadata = "none"
        os.replace(tmp, target)
    except OSError as err:
        raise ExportError(f"Could not write '{target}': {err.strerror or err}. Check that the folder is writable and "
                          f"the disk has space.") from err
    finally:
        tmp.unlink(missing_ok=True)

    if recipe is not None:
        try:
            _write_json_atomic(side, {
                "format": SIDECAR_KIND, "version": 1,
                "audio": {"file": target.name, "format": spec.name, "sr": sr, "channels": int(frames.shape[1]),
                          "seconds": frames.shape[0] / sr},
                "recipe": json.loads(full),
            })
        except OSError as err:
            raise ExportError(f"The audio was saved, but its recipe sidecar '{side}' could not be written: "
                              f"{err.strerror or err}. Check that the folder is writable.") from err
    else:
        side.unlink(missing_ok=True)  # a sidecar left from an earlier export under this name no longer applies

    note = ""
    if metadata == "shortened":
        note = (f"{spec.container} tags hold at most {spec.comment_limit} characters, so the file's tags carry a "
                f"shortened recipe; the full recipe is in {side.name}.")
    elif metadata == "none" and recipe is not None:
        note = f"This {spec.container} file could not hold the recipe in its tags; the full recipe is in {side.name}."
    return ExportResult(target, spec.name, side if recipe is not None else None, metadata, note, clipped)


def read_recipe(path) -> dict | None:
    """The recipe exported with an audio file: from its sidecar ``<file>.json`` first, else from its 'comment' tag.

    Returns:
        The recipe dict (a recipe shortened to fit WAV tags carries a "_truncated" key), or None when neither the
        sidecar nor the tags hold one.

    Raises:
        AudioLoadError: neither the file nor its sidecar exists, or the sidecar is damaged and the tags hold no recipe.
    """
    p = Path(os.fspath(path)).expanduser()
    side = sidecar_path(p)
    damaged = None
    if side.is_file():
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
        except (ValueError, OSError) as err:
            damaged = err
        else:
            if isinstance(data, dict) and data.get("format") == SIDECAR_KIND and isinstance(data.get("recipe"), dict):
                return data["recipe"]
            if isinstance(data, dict):
                return data
    check_audio_path(p)
    with open_audio(p) as f:
        comment = f.comment
    try:
        recipe = json.loads(comment) if comment else None
    except ValueError:
        recipe = None
    if isinstance(recipe, dict):
        return recipe
    if damaged is not None:
        raise AudioLoadError(f"The recipe sidecar '{side.name}' is damaged ({damaged}) and '{p.name}' holds no recipe "
                             f"in its tags; restore the sidecar from a backup or export the take again.")
    return None
