"""A take whose finer levels exist only in part plays the finest level there is over each stretch, never silence, and
the waveform shades what is preview quality.

The takes are real take folders (the engine's record, code arrays and WAVs) written the way the sampler leaves them:
a level's audio is silent where its codes were not sampled (-1); WAVs are 16-bit, hence the 1e-4 tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from studio.engine.spec import SongSpec
from studio.engine.takes import Take, TakePlan
from studio.state.take_data import load_take_data
from studio.ui.waveform_view import WaveformView

SR, HOPS = 12800, (16, 64, 256)  # 50 top-level tokens a second: every boundary falls on a token
TONES = {0: 440.0, 1: 330.0, 2: 220.0}  # each level its own pitch, so what plays where can be told apart


def _tone(level: int, candidate: int, n: int) -> np.ndarray:
    t = np.arange(n) / SR
    return (0.1 * (level + 1) + 0.05 * candidate) * np.sin(2 * np.pi * TONES[level] * t).astype(np.float32)


def _take(folder, seconds: float, kind: str, sampled: dict, parent: Take | None = None, audio_levels=(),
          range_seconds=None) -> Take:
    """A take folder: ``sampled`` maps level -> (start_s, end_s) sampled for both candidates (-1 elsewhere); each level
    of ``audio_levels`` gets WAVs of its tone, silent where it was not sampled (as the sampler's decode leaves it)."""
    spec = SongSpec(seconds=seconds, candidates=2, seed=1)
    plan = TakePlan(kind, sorted(audio_levels, reverse=True), [0, 1], range_seconds)
    take = Take.create(folder, spec, plan, "demo", SR, list(HOPS), parent=parent.record.id if parent else None)
    if parent is not None:
        take.record.parent_path = str(parent.path)
        take.save()
    n = int(seconds * SR) // HOPS[2] * HOPS[2]
    for level, hop in enumerate(HOPS):
        codes = -np.ones((2, n // hop), dtype=np.int64)
        if level in sampled:
            a, b = (int(s * SR) // hop for s in sampled[level])
            codes[:, a:b] = np.arange(b - a) % 7
        take.write_codes(level, codes)
        if level in audio_levels:
            on = np.repeat(codes >= 0, hop, axis=1)
            take.write_audio(level, np.stack([_tone(level, c, n) * on[c] for c in range(2)]))
    return take


@pytest.fixture
def range_upsampled(tmp_path):
    """A 2 s top-level take, and its upsample of 0.5-1.0 s only (levels 1 and 0 there, the top level copied)."""
    parent = _take(tmp_path / "top", 2.0, "generate", {2: (0, 2)}, audio_levels=(2,))
    child = _take(tmp_path / "up", 2.0, "upsample", {2: (0, 2), 1: (0.5, 1.0), 0: (0.5, 1.0)}, parent,
                  audio_levels=(1, 0), range_seconds=[0.5, 1.0])
    return parent, child


def test_a_range_upsample_plays_the_top_level_around_its_range(range_upsampled):
    _, child = range_upsampled
    data = load_take_data(child.path)
    n = int(2.0 * SR)
    for cand in (0, 1):
        audio = data.candidate_audio(cand)
        assert audio.shape == (n,)
        inside = slice(int(0.5 * SR), int(1.0 * SR))
        np.testing.assert_allclose(audio[inside], _tone(0, cand, n)[inside], atol=1e-4)  # full quality in the range
        np.testing.assert_allclose(audio[: int(0.5 * SR)], _tone(2, cand, n)[: int(0.5 * SR)], atol=1e-4)
        np.testing.assert_allclose(audio[int(1.0 * SR):], _tone(2, cand, n)[int(1.0 * SR):], atol=1e-4)
        assert np.abs(audio[int(1.5 * SR):]).max() > 0.1  # sound, not the silence of level 0 there
        assert data.preview_ranges(cand) == ((0.0, 0.5), (1.0, 2.0))
    np.testing.assert_array_equal(data.candidate_audio(0, level=0)[: int(0.5 * SR)], 0.0)  # its own level 0 as is


def test_a_continuation_keeps_its_parents_full_quality_start(tmp_path):
    parent = _take(tmp_path / "song", 1.0, "generate", {2: (0, 1), 1: (0, 1), 0: (0, 1)}, audio_levels=(2, 1, 0))
    child = _take(tmp_path / "longer", 2.0, "continue", {2: (0, 2), 1: (0, 1), 0: (0, 1)}, parent, audio_levels=(2,))
    data = load_take_data(child.path)
    audio, n = data.candidate_audio(1), int(2.0 * SR)
    np.testing.assert_allclose(audio[: SR], _tone(0, 1, SR), atol=1e-4)  # the parent's level 0
    np.testing.assert_allclose(audio[SR:], _tone(2, 1, n)[SR:], atol=1e-4)  # the new part at the top level
    assert data.preview_ranges(1) == ((1.0, 2.0),)
    assert data.best_level == 2  # its own audio: what the running job's previews are compared with


def test_codes_changed_since_the_ancestor_are_not_played_from_it(range_upsampled):
    _, child = range_upsampled
    codes = child.codes(2)
    codes[0, :16] = 99  # this take's top level differs from its parent's for the first 16 tokens of candidate 0
    child.write_codes(2, codes)
    data = load_take_data(child.path)
    first = 16 * HOPS[2]
    np.testing.assert_array_equal(data.candidate_audio(0)[:first], 0.0)  # no level of it has been heard: silence
    assert data.preview_ranges(0)[0] == (first / SR, 0.5)
    assert data.preview_ranges(1)[0] == (0.0, 0.5)


def test_a_take_without_its_parent_folder_plays_what_it_has(range_upsampled):
    import shutil

    parent, child = range_upsampled
    shutil.rmtree(parent.path)
    data = load_take_data(child.path)
    audio = data.candidate_audio(0)
    np.testing.assert_array_equal(audio, data.candidate_audio(0, level=0))
    assert data.preview_ranges(0) == ()


def test_the_waveform_shades_the_preview_stretches_and_still_seeks_there(qtbot, range_upsampled):
    _, child = range_upsampled
    data = load_take_data(child.path)
    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(800, 200)
    view.show()
    qtbot.waitExposed(view)
    view.set_audio(data.candidate_audio(0), data.sr)
    view.set_preview_ranges(data.preview_ranges(0))
    assert view.preview_ranges() == [(0.0, 0.5), (1.0, 2.0)]
    x = view.vb.mapViewToScene(QPointF(1.5, 0.0)).x()
    pos = view.mapFromScene(QPointF(x, view.vb.sceneBoundingRect().center().y()))
    with qtbot.waitSignal(view.seek_requested) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=QPoint(int(pos.x()), int(pos.y())))
    assert abs(blocker.args[0] - 1.5) < 0.02  # a click on the shading seeks like anywhere else
    view.set_preview_ranges(())
    assert view.preview_ranges() == []

