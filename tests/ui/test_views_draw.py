"""The timeline views paint whatever state they are given: a long take, then a short one, in the same view."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from studio.ui.code_view import UNSAMPLED, CodeLevelView, codes_rgba

HOPS, SR = (8, 32, 128), 44100


def _pixel(view: CodeLevelView, image, seconds: float, level: int) -> tuple:
    """The drawn colour at ``seconds`` in the middle of ``level``'s band."""
    scene = view.vb.mapViewToScene(QPointF(seconds, view._y0(level) + 0.5))
    colour = image.pixelColor(view.mapFromScene(scene))
    return colour.red(), colour.green(), colour.blue()


def _drawn(view: CodeLevelView):
    """The view as painted. Each level's image is rendered first, so what its paint would raise fails the test here
    (raised inside Qt's paint, the same error brought the whole process down)."""
    for image in view.images.values():
        if image.image is not None:
            image.render()
    return view.grab().toImage()


def _take_codes(seconds: float, sampled_top: int) -> dict:
    """A top-level-only take's codes: levels 0 and 1 unsampled, the first ``sampled_top`` top tokens code 0."""
    codes = {lv: -np.ones((1, int(seconds * SR) // hop), dtype=np.int64) for lv, hop in enumerate(HOPS)}
    codes[2][:, :sampled_top] = 0
    return codes


def test_code_view_draws_a_long_take_then_a_short_one(qtbot):
    view = CodeLevelView()
    qtbot.addWidget(view)
    view.resize(900, 300)  # not shown: painted only through grab(), so a failing paint fails here, not in teardown
    view.set_n_codes(64)
    zero_colour = tuple(int(c) for c in codes_rgba(np.zeros((1, 1), dtype=np.int64), 64)[0, 0, :3])
    grey = tuple(int(c) for c in UNSAMPLED[:3])

    long_codes = _take_codes(20.0, sampled_top=3445)  # 20 s: level 0 has 110250 tokens, wider than a QImage draws
    view.set_codes(long_codes, HOPS, SR)
    drawn = _drawn(view)
    assert _pixel(view, drawn, 5.0, 2) == zero_colour and _pixel(view, drawn, 15.0, 2) == grey
    assert _pixel(view, drawn, 10.0, 0) == grey

    view.set_codes(_take_codes(0.372, sampled_top=64), HOPS, SR)  # the same view, a short take after the long one
    drawn = _drawn(view)
    assert _pixel(view, drawn, 0.05, 2) == zero_colour and _pixel(view, drawn, 0.3, 2) == grey
    assert _pixel(view, drawn, 0.2, 0) == grey
