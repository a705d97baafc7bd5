"""The sampler's "label_map" command: the loaded model's map, or one message saying why there is none."""

from __future__ import annotations

import pytest

from studio.workers.events import LabelMap
from studio.workers.sampler_process import SamplerServer
from tests.conftest import FIXTURES


def server() -> tuple[SamplerServer, list]:
    sent: list = []
    return SamplerServer(sent.append, cancel=None, progress_interval=0.05, preview_interval=1.0), sent


def test_without_a_model_the_map_says_to_choose_one():
    srv, sent = server()
    srv.label_map()
    assert sent == [LabelMap("", message="No model is loaded: choose a model first, then open the map.")]


def test_a_model_without_label_tables_says_which_files_are_missing(monkeypatch, tmp_path):
    if not FIXTURES.is_dir():
        pytest.skip(f"reference fixtures not found at {FIXTURES} (needed for the tiny model)")
    from studio.engine.modelset import ModelSet

    monkeypatch.delenv("JUKEBOX_IDS_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    srv, sent = server()
    srv.models = ModelSet(FIXTURES / "vqvae" / "checkpoint.pth.tar",
                          {level: FIXTURES / name / "checkpoint.pth.tar" for level, name in
                           ((0, "upsampler_level_0"), (1, "upsampler_level_1"), (2, "prior_5b_lyrics"))},
                          name="no-tables")
    srv.label_map()
    (event,) = sent
    assert event.model == "no-tables" and event.artists is None and event.genres is None
    assert event.message.startswith("Model no-tables has no artist and genre map: The artist/genre tables")
    assert "v2_artist_ids.txt" in event.message and "JUKEBOX_IDS_DIR" in event.message
    assert not (tmp_path / "jukebox-studio").exists()  # nothing laid out, nothing cached
