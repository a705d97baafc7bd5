"""The song spec: what a user asks for, as read from TOML/JSON or the song editor."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Optional


class SpecError(ValueError):
    """A spec that cannot be rendered; the message names the field and the fix."""


@dataclass
class PrimeSpec:
    file: str
    start: float = 0.0  # seconds into the file
    end: Optional[float] = None  # seconds; None = to the end


@dataclass
class SongSpec:
    seconds: float
    model: str = "demo"
    artist: str = "unknown"
    genre: str = "unknown"
    lyrics: str = ""
    candidates: int = 1
    levels: str = "all"  # "all" or "top"
    temperature: list = field(default_factory=lambda: [0.99, 0.99, 0.98])  # levels 0, 1, 2
    top_k: int = 0
    top_p: float = 0.0
    seed: Optional[int] = None
    hop_fraction: list = field(default_factory=lambda: [0.5, 0.5, 0.125])  # levels 0, 1, 2
    max_batch: list = field(default_factory=lambda: [16, 16, 16])  # per-level batch limits
    song_seconds: Optional[float] = None  # total song length the timing signal assumes (>= seconds)
    prime: Optional[PrimeSpec] = None
    device: str = "auto"  # auto | cpu | cuda
    chunk_size: Optional[int] = None  # priming chunk (tokens); None = min(context, 2048)

    def __post_init__(self):
        if self.seed is None:
            self.seed = random.SystemRandom().randrange(2**31)
        if isinstance(self.temperature, (int, float)):
            self.temperature = [float(self.temperature)] * 3
        if isinstance(self.prime, dict):
            self.prime = PrimeSpec(**self.prime)
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.seconds, (int, float)) or self.seconds <= 0:
            raise SpecError(f"'seconds' must be a positive number of seconds, not {self.seconds!r}.")
        if self.levels not in ("all", "top"):
            raise SpecError(f"'levels' must be \"all\" or \"top\", not {self.levels!r}.")
        if not (1 <= int(self.candidates) <= 64):
            raise SpecError(f"'candidates' must be between 1 and 64, not {self.candidates!r}.")
        if len(self.temperature) != 3 or any(not (0 < float(t) <= 2.0) for t in self.temperature):
            raise SpecError("'temperature' must be one number or three (levels 0, 1, 2), each in (0, 2].")
        if self.top_k and self.top_p:
            raise SpecError("set 'top_k' or 'top_p', not both.")
        if not (0 <= float(self.top_p) < 1.0):
            raise SpecError("'top_p' must be in [0, 1).")
        if len(self.hop_fraction) != 3 or any(not (0 < float(h) <= 1) for h in self.hop_fraction):
            raise SpecError("'hop_fraction' must be three numbers in (0, 1] (levels 0, 1, 2).")
        if self.song_seconds is not None and self.song_seconds < self.seconds:
            raise SpecError("'song_seconds' (the whole song) must be at least 'seconds'.")
        if self.prime is not None:
            if self.prime.end is not None and self.prime.end <= self.prime.start:
                raise SpecError("the priming range must end after it starts.")
            if self.prime.start < 0:
                raise SpecError("the priming range cannot start before 0 s.")

    # -- I/O ------------------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> "SongSpec":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise SpecError(f"unknown spec keys: {', '.join(unknown)}. Known keys: {', '.join(sorted(names))}.")
        if "seconds" not in d:
            raise SpecError("the spec needs 'seconds' (how long the song should be).")
        return cls(**d)

    @classmethod
    def from_file(cls, path: "str | Path") -> "SongSpec":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"{path}: cannot read the spec ({exc.strerror}).") from None
        try:
            if path.suffix.lower() == ".toml":
                try:
                    import tomllib
                except ImportError:  # Python 3.10
                    import tomli as tomllib
                data = tomllib.loads(text)
            else:
                data = json.loads(text)
        except ValueError as exc:
            raise SpecError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'} ({exc}).") from None
        spec = cls.from_dict(data)
        if spec.prime is not None and not Path(spec.prime.file).is_absolute():
            spec.prime.file = str((path.parent / spec.prime.file).resolve())
        return spec

    def to_dict(self) -> dict:
        return asdict(self)
