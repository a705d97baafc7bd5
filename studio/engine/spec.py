"""The song spec: what a user asks for, as read from TOML/JSON or the song editor.

Every field is checked when a spec is made (:meth:`SongSpec.validate`), and what needs the chosen model (the length
it can place, its codebook size, the priming clip) by :func:`validate_for_model`, which callers run before a take
folder is created. A failure is one :class:`SpecError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import json
import math
import random
import reprlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from numbers import Integral, Real
from pathlib import Path
from typing import Optional

from ..audio.io import AudioLoadError, audio_info
from .labels import song_total_length

MAX_SECONDS = 1200.0  # the longest song (or priming offset) a spec may ask for, as the editor allows
MAX_CANDIDATES = 64  # candidates sampled side by side
MAX_TEMPERATURE = 2.0
MIN_HOP_FRACTION = 1 / 16  # at most 16 windows per context length: the window count stays bounded
MAX_TOP_K = 65536  # no codebook is larger; the model's own size is checked by validate_for_model
MAX_CHUNK = 65536  # priming tokens per pass; no context is longer
MAX_NAME_CHARS = 200  # artist, genre
MAX_PATH_CHARS = 4096  # model name or folder, priming file
MAX_LYRICS_CHARS = 100_000
MAX_SEED = 2**63 - 1
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "int8")  # the sampler's dtype per prior (cascade.sample_dtype)
LEVELS = ("all", "top")

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 40
_short.maxlevel = 2


class SpecError(ValueError):
    """A spec that cannot be rendered; the message names the field and the fix."""


def _fail(key: str, value, allowed: str) -> SpecError:
    return SpecError(f"'{key}' must be {allowed}, not {_short.repr(value)}.")


def prime_too_long(prime, end: float, song_seconds: float) -> SpecError:
    """The priming clip (``prime.start`` to ``end``, seconds) is not shorter than the song: said in seconds, for a
    spec file and for the studio's priming range alike."""
    until = f"{end:.2f} s" if prime.end is not None else f"the file's end ({end:.2f} s)"
    return SpecError(f"'prime' must be a clip shorter than the song: {prime.start:.2f} s to {until} is "
                     f"{end - prime.start:.2f} s, the song {song_seconds:.2f} s. End the clip sooner ('prime.end'; in "
                     f"the studio, the priming clip's 'to') or make the song longer.")


def is_whole(value) -> bool:
    """A whole number, never a bool or a float (the rule for every integer field read from a file)."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_finite_number(value) -> bool:
    """A finite real, never a bool; an int is finite however large (it may not fit a float)."""
    return is_whole(value) or (isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value))


def _number(key: str, value, lo: float, hi: float, allowed: str, lo_open: bool = False) -> float:
    """A finite real (never a bool) in [lo, hi], or (lo, hi] when ``lo_open``."""
    if not is_finite_number(value) or value > hi or value < lo or (lo_open and value == lo):
        raise _fail(key, value, allowed)
    return float(value)


def _whole(key: str, value, lo: int, hi: int, allowed: str) -> int:
    """A whole number (never a bool or a float) in [lo, hi]."""
    if not is_whole(value) or not lo <= value <= hi:
        raise _fail(key, value, allowed)
    return int(value)


def _text(key: str, value, max_chars: int, allowed: str, path: bool = False) -> str:
    """A string of at most ``max_chars``; a path is also non-empty and free of NUL characters."""
    if not isinstance(value, str) or len(value) > max_chars or (path and (not value.strip() or "\0" in value)):
        raise _fail(key, value, allowed)
    return value


def _choice(key: str, value, choices: tuple) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _fail(key, value, " or ".join(f'"{c}"' for c in choices))
    return value


def _three(key: str, value, check, allowed: str) -> list:
    """A list of three values (levels 0, 1, 2), each passed through ``check(key, item)``."""
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise _fail(key, value, allowed)
    try:
        return [check(key, v) for v in value]
    except SpecError:
        raise _fail(key, value, allowed) from None


@dataclass
class PrimeSpec:
    file: str
    start: float = 0.0  # seconds into the file
    end: Optional[float] = None  # seconds; None = to the end


PRIME_KEYS = tuple(f.name for f in fields(PrimeSpec))


def _prime(value) -> Optional[PrimeSpec]:
    """The priming clip: None, or a table with 'file' and optional 'start' < 'end' (seconds into the file)."""
    if value is None:
        return None
    if isinstance(value, PrimeSpec):
        value = asdict(value)
    if not isinstance(value, Mapping):
        raise _fail("prime", value, "a table with 'file' and optional 'start' and 'end' (seconds), or nothing")
    unknown = [k for k in value if k not in PRIME_KEYS]
    if unknown:
        raise _fail("prime", value, f"a table of {', '.join(PRIME_KEYS)} only (unknown: {_short.repr(unknown)})")
    if "file" not in value:
        raise _fail("prime", value, "a table naming the priming audio 'file'")
    file = _text("prime.file", value["file"], MAX_PATH_CHARS, "the path of an audio file", path=True)
    start = _number("prime.start", value.get("start", 0.0), 0.0, MAX_SECONDS,
                    f"seconds into the file, from 0 to {MAX_SECONDS:g}")
    end = value.get("end")
    if end is not None:
        end = _number("prime.end", end, start, MAX_SECONDS, f"seconds into the file after 'prime.start' ({start:g}), "
                      f"at most {MAX_SECONDS:g}, or nothing for the file's end", lo_open=True)
    return PrimeSpec(file, start, end)


@dataclass
class SongSpec:
    seconds: float
    model: str = "demo"
    artist: str = "unknown"
    genre: str = "unknown"
    lyrics: str = ""
    candidates: int = 1
    levels: str = "all"  # "all" or "top"
    temperature: Optional[list] = None  # levels 0, 1, 2; None = the model's own (sampling_defaults.py)
    top_k: Optional[int] = None  # 0 = off; None (with top_p None) = the model's own
    top_p: Optional[float] = None  # 0 = off; None (with top_k None) = the model's own
    seed: Optional[int] = None
    hop_fraction: list = field(default_factory=lambda: [0.5, 0.5, 0.125])  # levels 0, 1, 2
    max_batch: list = field(default_factory=lambda: [16, 16, 16])  # per-level batch limits
    song_seconds: Optional[float] = None  # total song length the timing signal assumes (>= seconds)
    prime: Optional[PrimeSpec] = None
    device: str = "auto"  # auto | cpu | cuda
    # auto (narrower where it is faster: bf16 on GPUs, int8 weights for wide priors on CPUs with native bf16) | fp32
    # | bf16 | int8 (int8 weights, bf16 activations); see cascade.sample_dtype
    precision: str = "auto"
    chunk_size: Optional[int] = None  # priming chunk (tokens); None = min(context, 2048)

    def __post_init__(self):
        if self.seed is None:
            self.seed = random.SystemRandom().randrange(2**31)
        self.validate()

    def validate(self) -> None:
        """Check every field's type and range, normalising in place (one temperature -> three, prime -> PrimeSpec).

        Raises:
            SpecError: naming the first bad key, its value and what is allowed.
        """
        self.seconds = _number("seconds", self.seconds, 0.0, MAX_SECONDS,
                               f"a positive number of seconds, at most {MAX_SECONDS:g}", lo_open=True)
        self.model = _text("model", self.model, MAX_PATH_CHARS, "a model name or folder", path=True)
        self.artist = _text("artist", self.artist, MAX_NAME_CHARS, f"text of at most {MAX_NAME_CHARS} characters")
        self.genre = _text("genre", self.genre, MAX_NAME_CHARS, f"text of at most {MAX_NAME_CHARS} characters")
        self.lyrics = _text("lyrics", self.lyrics, MAX_LYRICS_CHARS, f"text of at most {MAX_LYRICS_CHARS} characters")
        self.candidates = _whole("candidates", self.candidates, 1, MAX_CANDIDATES,
                                 f"a whole number from 1 to {MAX_CANDIDATES}")
        self.levels = _choice("levels", self.levels, LEVELS)
        temp = f"one number or three (levels 0, 1, 2), each in (0, {MAX_TEMPERATURE:g}], or nothing for the model's own"
        if isinstance(self.temperature, Real) and not isinstance(self.temperature, bool):
            self.temperature = [self.temperature] * 3
        if self.temperature is not None:
            self.temperature = _three("temperature", self.temperature,
                                      lambda k, v: _number(k, v, 0.0, MAX_TEMPERATURE, temp, lo_open=True), temp)
        if self.top_k is not None:
            self.top_k = _whole("top_k", self.top_k, 0, MAX_TOP_K, f"a whole number from 0 (off) to {MAX_TOP_K}, "
                                                                   f"or nothing for the model's own")
        if self.top_p is not None:
            self.top_p = _number("top_p", self.top_p, 0.0, math.nextafter(1.0, 0.0),
                                 "a number in [0, 1) (0 = off), or nothing for the model's own")
        if self.top_k and self.top_p:
            raise SpecError(f"set 'top_k' ({self.top_k}) or 'top_p' ({self.top_p:g}), not both; make the other 0.")
        self.seed = _whole("seed", self.seed, 0, MAX_SEED, "a whole number from 0 to 2**63 - 1, or nothing")
        hop = f"three numbers (levels 0, 1, 2), each in [{MIN_HOP_FRACTION:g}, 1]"
        self.hop_fraction = _three("hop_fraction", self.hop_fraction,
                                   lambda k, v: _number(k, v, MIN_HOP_FRACTION, 1.0, hop), hop)
        batch = f"three whole numbers (levels 0, 1, 2), each from 1 to {MAX_CANDIDATES}"
        self.max_batch = _three("max_batch", self.max_batch, lambda k, v: _whole(k, v, 1, MAX_CANDIDATES, batch), batch)
        if self.song_seconds is not None:
            self.song_seconds = _number("song_seconds", self.song_seconds, self.seconds, MAX_SECONDS,
                                        f"the whole song's seconds, at least 'seconds' ({self.seconds:g}) and at "
                                        f"most {MAX_SECONDS:g}, or nothing")
        self.prime = _prime(self.prime)
        if self.prime is not None and self.prime.end is not None and self.prime.end - self.prime.start >= self.seconds:
            raise prime_too_long(self.prime, self.prime.end, self.seconds)
        self.device = _choice("device", self.device, DEVICES)
        self.precision = _choice("precision", self.precision, PRECISIONS)
        if self.chunk_size is not None:
            self.chunk_size = _whole("chunk_size", self.chunk_size, 1, MAX_CHUNK,
                                     f"a whole number of tokens from 1 to {MAX_CHUNK}, or nothing")

    # -- I/O ------------------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d) -> "SongSpec":
        """A spec from a table of keys (a JSON object, a TOML document, the editor's dict)."""
        if not isinstance(d, Mapping):
            raise SpecError(f"a spec must be a table of keys (a JSON object or a TOML document), "
                            f"not {_short.repr(d)}.")
        names = [f.name for f in fields(cls)]
        unknown = sorted(_short.repr(k) if not isinstance(k, str) else k for k in d if k not in names)
        if unknown:
            raise SpecError(f"unknown spec keys: {', '.join(unknown)}. Known keys: {', '.join(sorted(names))}.")
        if "seconds" not in d:
            raise SpecError("the spec needs 'seconds' (how long the song should be).")
        return cls(**d)

    @classmethod
    def from_file(cls, path: "str | Path") -> "SongSpec":
        path = Path(path)
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"{path}: cannot read the spec ({exc.strerror or exc}).") from None
        except UnicodeDecodeError:
            raise SpecError(f"{path}: not a text file (the spec must be UTF-8 {kind}).") from None
        try:
            if kind == "TOML":
                try:
                    import tomllib
                except ImportError:  # Python 3.10
                    import tomli as tomllib
                data = tomllib.loads(text)
            else:
                data = json.loads(text)
        except ValueError as exc:
            raise SpecError(f"{path}: not valid {kind} ({exc}).") from None
        except RecursionError:
            raise SpecError(f"{path}: not a usable {kind} spec (nested too deeply).") from None
        spec = cls.from_dict(data)
        if spec.prime is not None and not Path(spec.prime.file).is_absolute():
            spec.prime.file = str((path.parent / spec.prime.file).resolve())
        return spec

    def to_dict(self) -> dict:
        return asdict(self)


def token_at(seconds: float, sr: int, hop: int, round_up: bool = False) -> int:
    """The token at ``seconds`` on a level of ``hop`` samples a token: the one rule every reader of a time uses (the
    token holding the sample at that time; ``round_up`` for the end of a range: the first token wholly after it)."""
    samples = int(seconds * sr)
    return -(-samples // hop) if round_up else samples // hop


def token_time(token: int, sr: int, hop: int) -> float:
    """The time where ``token`` starts, never read back by :func:`token_at` as the token before it."""
    t = token * hop / sr
    while int(t * sr) < token * hop:
        t = math.nextafter(t, math.inf)
    return t


def song_lengths(spec: SongSpec, models) -> tuple[int, int]:
    """(samples to generate, rounded to the top hop; total song length for the timing signal), raw samples.

    ``models`` is a :class:`~studio.engine.modelset.ModelSet` (only its sizes and the top prior's config are read).
    """
    sr, top = models.sr, models.hop_lengths[-1]
    n = token_at(spec.seconds, sr, top) * top
    if n <= 0:
        raise SpecError(f"'seconds' must be at least one top-level token ({top / sr:.3f} s) for this model, "
                        f"not {spec.seconds!r}.")
    cfg = models.prior(models.levels - 1).cfg
    total = song_total_length(spec.seconds, spec.song_seconds, sr, cfg.min_duration)
    if cfg.max_duration is not None and total >= cfg.max_duration * sr:
        raise SpecError(f"{total / sr:.0f} s is longer than this model can place in a song "
                        f"({cfg.max_duration:.0f} s); make the song shorter.")
    return n, total


def validate_for_model(spec: SongSpec, models) -> None:
    """What only the chosen model can tell: the song's length, ``top_k`` against its codebook, ``chunk_size``
    against its context, and the priming clip's file. Call it before the take folder is created.

    Raises:
        SpecError: naming the key, the value and what this model allows.
    """
    n_samples, _ = song_lengths(spec, models)
    cfgs = [models.prior(level).cfg for level in range(models.levels)]
    bins = min(cfg.bins for cfg in cfgs)
    if spec.top_k and spec.top_k > bins:
        raise _fail("top_k", spec.top_k, f"a whole number from 0 (off) to {bins}, this model's codebook size")
    context = min(cfg.n_ctx_total for cfg in cfgs)
    if spec.chunk_size is not None and spec.chunk_size > context:
        raise _fail("chunk_size", spec.chunk_size, f"a whole number of tokens from 1 to {context}, this model's "
                                                   f"context, or nothing")
    if spec.prime is not None:
        try:
            info = audio_info(spec.prime.file)
        except AudioLoadError as exc:
            raise SpecError(f"'prime.file': {exc}") from None
        if spec.prime.start >= info.seconds:
            raise _fail("prime.start", spec.prime.start, f"before the file's end ({info.seconds:.3f} s)")
        clip = (spec.prime.end if spec.prime.end is not None else info.seconds) - spec.prime.start
        if clip * models.sr >= n_samples:
            raise prime_too_long(spec.prime, info.seconds, n_samples / models.sr)
