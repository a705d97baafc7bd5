"""tools/fit_render_eq.py: given audio and a 'decoder' that adds a known colour to it, the fitted curve is that
colour turned around (cuts only), and the EQ it writes brings the coloured audio back towards the real."""

import sys
from pathlib import Path

import numpy as np
import pytest

from studio.engine.render_eq import apply_filter, eq_filter, read_render_eq, write_render_eq

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import fit_render_eq  # noqa: E402
from evaluate_demo import profile_distance  # noqa: E402

SR = 16000
MUDDY = (np.array([100.0, 200.0, 300.0, 6000.0]), np.array([8.0, 8.0, 0.0, 0.0]))  # +8 dB below 200 Hz


def test_the_fit_undoes_a_known_colour_with_cuts_only(tmp_path):
    rng = np.random.default_rng(0)
    real = [rng.standard_normal(4 * SR).astype(np.float32) * 0.1 for _ in range(6)]
    coloured = list(apply_filter(np.stack(real), eq_filter(*MUDDY, SR)))
    freqs, full = fit_render_eq.fit_curve(real, coloured, SR, max_boost=12.0)
    low, mid = (freqs < 170), (freqs > 400) & (freqs < 5000)
    assert full[low].mean() - full[mid].mean() == pytest.approx(-8.0, abs=1.0)  # the colour, turned around
    gains = fit_render_eq.fit_curve(real, coloured, SR)[1]
    # cuts only: what lies above the mean level is left flat (raising it would raise the decoder's hiss with it),
    # what the decoder gives too much of is taken down as far as the mean
    assert gains.max() <= 0.0 and np.all(gains[mid] == 0.0) and gains[low].mean() < -5.0
    np.testing.assert_allclose(gains, np.minimum(full, 0.0))
    path = write_render_eq(tmp_path / "render_eq.json", {0: (freqs, gains)}, measured={"by": "test"})
    fixed = apply_filter(np.stack(coloured), eq_filter(*read_render_eq(path)[0], SR))
    for r, c, f in zip(real, coloured, fixed):
        assert profile_distance(f, r, SR) < 0.4 * profile_distance(c, r, SR)  # (the cut stops at the mean)
