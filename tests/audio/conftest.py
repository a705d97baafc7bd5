"""Shared helpers for the audio tests: analytic sines and files written with soundfile into tmp_path."""

import numpy as np
import pytest
import soundfile as sf


def sine(freq: float, sr: int, seconds: float, amp: float = 0.5, t0: float = 0.0) -> np.ndarray:
    """float32 (round(seconds * sr),): amp * sin(2 pi freq t) sampled at t = t0 + k / sr."""
    t = t0 + np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def stereo_flac(tmp_path):
    """A 2 s stereo 48 kHz FLAC (24-bit): left 0.5 * sin(440 Hz), right 0.3 * sin(440 Hz); mono mean is 0.4 * sin."""
    sr = 48000
    left, right = sine(440, sr, 2.0, 0.5), sine(440, sr, 2.0, 0.3)
    path = tmp_path / "take.flac"
    sf.write(path, np.stack([left, right], axis=1), sr, subtype="PCM_24")
    return path


LYRICS = "Ride the long road home\nsing it loud tonight\n\nand the last line"


def make_take(folder, seconds: float = 2.0, candidates: int = 2, sr: int = 44100, kind: str = "generate",
              parent=None, alignment: bool = True):
    """A finished take folder written by the engine's own Take class, with known audio and a known lyric alignment.

    Candidate c is a 440 * (c + 1) Hz sine at amplitude 0.1 * (c + 1) at level 0 (and at level 2 for kind generate).
    The alignment walks the characters of LYRICS at an even pace over the take, so line k (starting at character i)
    starts at token ceil(i * tokens / len(LYRICS)).
    """
    from studio.engine.spec import SongSpec
    from studio.engine.takes import Take, TakePlan, TakeStatus

    hops = [8, 32, 128]
    spec = SongSpec(seconds, artist="Alan Jackson", genre="Country", lyrics=LYRICS, candidates=candidates, seed=11,
                    temperature=[0.98, 0.99, 0.97])
    plan = TakePlan(kind=kind, candidates=list(range(candidates)) if parent is None else [1])
    take = Take.create(folder, spec, plan, "tiny", sr, hops, parent=None if parent is None else parent.record.id)
    if parent is not None:
        take.record.parent_path = str(parent.path)
    audio = np.stack([sine(440 * (c + 1), sr, seconds, 0.1 * (c + 1)) for c in range(candidates)])  # (N, T)
    levels = [0] if kind == "upsample" else [2, 0]
    for level in levels:
        take.write_audio(level, audio)
        take.record.levels_done.append(level)
    tokens = int(round(seconds * sr / hops[-1]))
    if alignment and kind != "upsample":
        matrix = np.zeros((tokens, len(LYRICS)), dtype=np.float32)
        matrix[np.arange(tokens), np.arange(tokens) * len(LYRICS) // tokens] = 1.0
        take.write_alignment([matrix] * candidates, [LYRICS] * candidates)
    take.set_status(TakeStatus.DONE)
    take.save()
    return take
