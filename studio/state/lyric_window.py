"""Where lyrics meet time: which part of the typed lyrics a top-level window sees, and which character is sung now.

The model reads a cleaned copy of the lyrics (transliterated, unreadable characters dropped); these functions map
positions in that copy back to the text the user typed, so the editor can highlight the user's own characters.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from studio.engine.labels import LyricVocab, window_lyric_span


def clean_to_typed(text: str, vocab_chars: str) -> list[int]:
    """For each character of the cleaned lyrics, its position in ``text``."""
    return LyricVocab(vocab_chars).typed_positions(text)


def typed_span(text: str, vocab_chars: str, clean_span: tuple[int, int]) -> Optional[tuple[int, int]]:
    """The [start, end) range of ``text`` behind a span of the cleaned lyrics, or None when it is empty."""
    pos = clean_to_typed(text, vocab_chars)
    a, b = clean_span
    if not pos or b <= a or a >= len(pos):
        return None
    return pos[a], pos[min(b, len(pos)) - 1] + 1


def window_span_for(text: str, info, seconds: float, song_seconds: Optional[float],
                    window_start_tokens: int = 0) -> Optional[tuple[int, int]]:
    """The typed-text range a top window starting at ``window_start_tokens`` sees (None without lyrics)."""
    if info is None or not info.has_lyrics or info.labeller is None or not text:
        return None
    chars = info.labeller.vocab.chars
    n_clean = len(clean_to_typed(text, chars))
    top = info.top
    raw_to_tokens = info.hop_lengths[top]
    total = max(1, info.song_samples(seconds, song_seconds))
    span = window_lyric_span(n_clean, info.n_lyric_tokens, total, window_start_tokens * raw_to_tokens,
                             info.n_ctx[top] * raw_to_tokens)
    return typed_span(text, chars, span)


def sung_char(matrix: np.ndarray, seconds: float, top_hop: int, sr: int) -> Optional[int]:
    """Index (in the cleaned lyrics) of the character the alignment puts at ``seconds``, or None.

    Args:
        matrix: (top_tokens, n_chars) attention of the alignment head.
    """
    if matrix is None or matrix.size == 0:
        return None
    token = int(seconds * sr / top_hop)
    if not 0 <= token < matrix.shape[0]:
        return None
    row = matrix[token]
    if not np.isfinite(row).all() or row.max() <= 0:
        return None
    return int(np.argmax(row))


def word_around(text: str, index: int, separators: Sequence[str] = (" ", "\n", "\t")) -> tuple[int, int]:
    """[start, end) of the word of ``text`` holding ``index``."""
    index = max(0, min(index, len(text) - 1))
    a = index
    while a > 0 and text[a - 1] not in separators:
        a -= 1
    b = index
    while b < len(text) and text[b] not in separators:
        b += 1
    return a, max(b, a + 1)
