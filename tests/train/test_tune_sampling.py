"""tools/tune_sampling.py: renders each level at the temperatures tried, scores them against the real clip, keeps
the closest, and what it writes is what the engine then samples with."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.engine.sampling_defaults import SamplingDefaults, read_sampling_defaults, write_sampling_defaults
from studio.train.data import AudioSet, Clip

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import tune_sampling  # noqa: E402
from evaluate_demo import stats  # noqa: E402


def test_distance_is_zero_for_the_real_statistics_and_grows_with_each_gap():
    real = {"top20_energy_fraction": 0.9, "onsets_per_10s": 60.0, "centroid_hz": 1000.0, "rms_dbfs": -20.0}
    assert tune_sampling.distance(real, real) == 0.0
    duller = {**real, "top20_energy_fraction": 0.8}  # two scale units on one of four statistics
    assert tune_sampling.distance(duller, real) == pytest.approx(np.sqrt(4 / 4))
    darker = {**real, "centroid_hz": 500.0}  # an octave: four units
    assert tune_sampling.distance(darker, real) == pytest.approx(np.sqrt(16 / 4))


def test_tuning_picks_the_closest_temperature_per_level_and_writes_what_reads_back(tiny_models, tmp_path):
    torch.set_num_threads(1)
    sr = tiny_models.sr
    rng = np.random.default_rng(3)
    t = np.arange(int(0.5 * sr)) / sr
    tune_ = (0.3 * np.sin(2 * np.pi * 330 * t) + 0.01 * rng.normal(size=t.size)).astype(np.float32)
    held = AudioSet(sr, [Clip(tune_, "Alan Jackson", "Country", name="tone", split="heldout")])
    chosen, measured = tune_sampling.tune(tiny_models, held, [0.5, 1.5], ["Country"], 8192 / sr, 0.0, tmp_path,
                                          log=lambda *_: None)
    assert measured["real"] == stats(tune_[len(tune_) // 2 - 4096:][:8192], sr)
    for level in (0, 1, 2):
        trials = measured["levels"][str(level)]["trials"]
        assert set(trials) == {"0.5", "1.5"}
        best = min(trials, key=lambda k: trials[k]["distance"])
        assert chosen[level] == float(best) == measured["levels"][str(level)]["chosen"]
        assert all(trials[k]["distance"] > 0 for k in trials)
    path = write_sampling_defaults(tmp_path / "sampling.json", SamplingDefaults(tuple(chosen)), measured)
    assert read_sampling_defaults(path) == SamplingDefaults(tuple(chosen), 0, 0.0)
