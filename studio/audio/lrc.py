"""Lyrics as an LRC file timed from the lyric alignment, for karaoke players and DAWs.

The alignment is the top prior's attention from each top-level token to the lyric characters, shaped
(top_tokens, n_chars) over the model's cleaned lyrics (which keep the line breaks). A line starts at the first token
whose attention has reached the line's first character; the reach is the running maximum of each token's most attended
character, so a line never starts before the one above it. Lines the audio never reaches are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from studio.audio.export import write_text_atomic

__all__ = ["lrc_path", "lrc_text", "timed_lines", "write_lrc"]


def lrc_path(audio_path) -> Path:
    """The lyrics file beside an export: ``song.flac`` -> ``song.lrc``."""
    return Path(audio_path).with_suffix(".lrc")


def timed_lines(matrix: np.ndarray, lyrics: str, seconds_per_token: float) -> list[tuple[float, str]]:
    """(start seconds, line) for each non-empty line of ``lyrics`` the alignment reaches, in order.

    Args:
        matrix: (top_tokens, n_chars) alignment attention; n_chars is len(lyrics).
        lyrics: the cleaned lyrics the alignment attended to.
        seconds_per_token: top-level hop / sample rate.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] == 0 or m.shape[1] == 0:
        return []
    valid = np.isfinite(m).all(axis=1) & (m.max(axis=1, initial=0.0) > 0)
    focus = np.where(valid, np.argmax(np.where(np.isfinite(m), m, -np.inf), axis=1), -1)  # (top_tokens,)
    reach = np.maximum.accumulate(focus)  # non-decreasing: the furthest character attended so far
    out, start = [], 0
    for line in lyrics.split("\n"):
        first = start + (len(line) - len(line.lstrip()))
        start += len(line) + 1
        if not line.strip() or first >= m.shape[1]:
            continue
        token = int(np.searchsorted(reach, first, side="left"))
        if token < len(reach):
            out.append((token * seconds_per_token, line.strip()))
    return out


def _stamp(seconds: float) -> str:
    centis = int(round(max(0.0, seconds) * 100))
    minutes, centis = divmod(centis, 6000)
    return f"[{minutes:02d}:{centis // 100:02d}.{centis % 100:02d}]"


def lrc_text(lines: list[tuple[float, str]], title: str = "", artist: str = "", length: Optional[float] = None) -> str:
    """LRC text: ID tags (title, artist, length, the tool) then one ``[mm:ss.xx]line`` per timed line."""
    head = [f"[ti:{title}]" if title else "", f"[ar:{artist}]" if artist else "",
            f"[length:{_stamp(length)[1:-1]}]" if length is not None else "", "[re:Jukebox Studio]"]
    return "\n".join([h for h in head if h] + [f"{_stamp(t)}{line}" for t, line in lines]) + "\n"


def write_lrc(path, lines: list[tuple[float, str]], title: str = "", artist: str = "",
              length: Optional[float] = None) -> Path:
    """Write the LRC file atomically; returns its path (OSError when it cannot be written)."""
    target = Path(path)
    write_text_atomic(target, lrc_text(lines, title, artist, length))
    return target
