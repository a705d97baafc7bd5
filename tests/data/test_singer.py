"""The espeak-ng singer: syllables land on their note's pitch and at their onset."""

from __future__ import annotations

import math

import numpy as np

from studio.data.notes import Syllable


def test_sung_syllables_are_on_pitch_and_on_time(builder_tools):
    from studio.data.singer import estimate_f0, sing

    sr = 22050
    syllables = [Syllable(0.5, 1.3, 69, "la", True), Syllable(1.5, 2.3, 76, "lo", True)]  # A4, E5
    track = sing(syllables, "it", sr, int(2.6 * sr))
    assert track.shape == (int(2.6 * sr),) and track.dtype == np.float32
    assert np.abs(track[: int(0.49 * sr)]).max() == 0.0  # nothing before the first onset
    loud = np.nonzero(np.abs(track) > 0.01)[0]
    assert 0.5 <= loud[0] / sr < 0.6  # starts at its onset
    for s in syllables:
        middle = track[int((s.start + 0.1) * sr):int((s.end - 0.1) * sr)]
        f0 = estimate_f0(middle, sr)
        target = 440.0 * 2 ** ((s.pitch - 69) / 12)
        cents = 1200 * math.log2(f0 / target)
        assert abs((cents + 600) % 1200 - 600) < 50, (s.text, f0, target)  # within 50 cents, octave-folded
    assert np.abs(track[int(2.35 * sr):]).max() == 0.0  # nothing sounds past the last syllable's end
