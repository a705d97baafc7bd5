"""The bundled demo model: files match their manifest, every network loads, and it samples a short take."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from studio.engine.cascade import run_take
from studio.engine.demo_config import demo_prior, demo_vqvae
from studio.engine.jobs import new_take
from studio.engine.loading import load_checkpoint
from studio.engine.loudness import CEILING, TARGET_RMS_DBFS
from studio.engine.modelset import ModelSet
from studio.engine.spec import SongSpec

DEMO = Path(__file__).resolve().parents[2] / "models" / "demo"
pytestmark = pytest.mark.skipif(not (DEMO / "manifest.json").is_file(), reason="models/demo is not present")


def test_manifest_matches_files_and_size_budget():
    m = json.loads((DEMO / "manifest.json").read_text())
    assert m["name"] == "demo" and m["sr"] == 16000 and m["licence"]
    paths = {f["path"] for f in m["files"]}
    assert {"vqvae.safetensors", "prior_level_2.json", "ids/v2_artist_ids.txt", "MODEL_CARD.md"} <= paths
    for f in m["files"]:
        data = (DEMO / f["path"]).read_bytes()
        assert len(data) == f["size"], f["path"]
        assert hashlib.sha256(data).hexdigest() == f["sha256"], f["path"]
    assert m["total_bytes"] < 50e6


def test_networks_have_the_demo_configs():
    vq = load_checkpoint(DEMO / "vqvae.safetensors")
    assert vq.cfg == demo_vqvae() and vq.hop_lengths == [16, 64, 256]
    for level in (0, 1, 2):
        prior = load_checkpoint(DEMO / f"prior_level_{level}.safetensors")
        assert prior.cfg == demo_prior(level)
        info = prior.resolve_labels("Johann Sebastian Bach", "chorale", "Nun danket alle Gott")
        assert info.artist_id > 0 and info.genre_ids[0] > 0 and not info.warnings


def test_demo_samples_a_short_take(tmp_path):
    models = ModelSet.named("demo")
    spec = SongSpec(seconds=0.6, artist="Trad. Irish (O'Neill)", genre="reel", candidates=1, seed=2, device="cpu")
    take = new_take(spec, tmp_path / "take", models)
    events = [type(ev).__name__ for ev in run_take(take, models)]
    assert events.count("LevelDone") == 3 and events[-1] == "JobDone"
    n = int(0.6 * 16000) // 256 * 256
    assert [take.codes(lv).shape[1] for lv in range(3)] == [n // 16, n // 64, n // 256]
    assert take.codes(0).min() >= 0
    wav, sr = sf.read(take.audio_path(0, 0), dtype="float64")  # the take's WAV, at the render loudness
    assert sr == 16000 and len(wav) == n
    assert abs(10 * np.log10(np.mean(wav ** 2)) - TARGET_RMS_DBFS) < 0.5 and np.abs(wav).max() <= CEILING
