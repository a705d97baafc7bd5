"""Shared test helpers: where the reference fixtures and id tables live (outside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("JUKEBOX_SHARED_DIR", REPO.parent / "shared"))
FIXTURES = SHARED / "fixtures" / "jukebox-tiny"
REFERENCE = SHARED / "jukebox-reference"
IDS = REFERENCE / "ids"
# Waits on a real sampler process: a hang fails, a busy machine does not (on 2 cores beside a two-thread training
# run and the rest of the suite, one 0.7 s tiny job took over 240 s with its steps compiling cold).
LOAD_MS, JOB_MS = 180_000, 900_000

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests run the eager step (compiling takes tens of seconds a network); tests/sampler/test_attention_path.py
# compiles it on purpose. Sampler processes the UI tests start inherit this.
os.environ.setdefault("JUKEBOX_COMPILE", "0")


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"reference fixtures not found at {FIXTURES} (the ../shared folder is absent; set "
                    f"JUKEBOX_SHARED_DIR to it)")
    return FIXTURES


@pytest.fixture
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"jukebox reference facts not found at {REFERENCE} (the ../shared folder is absent)")
    return REFERENCE


@pytest.fixture
def ids_env(monkeypatch, reference_dir):
    """Point the engine at the official id tables the way a user's JUKEBOX_IDS_DIR would."""
    monkeypatch.setenv("JUKEBOX_IDS_DIR", str(IDS))
    return IDS


def tiny_model_set(top: str = "prior_5b_lyrics"):
    """The reference's tiny VQ-VAE, upsamplers and a tiny top prior as one ModelSet (None without fixtures).

    ``top`` is prior_5b, prior_5b_lyrics or prior_1b_lyrics. Audio at 44.1 kHz; one top window is 64 tokens
    (0.19 s); a song of 16384 samples (0.37 s) runs all three levels in a few seconds on one CPU thread.
    """
    if not FIXTURES.is_dir():
        return None
    from studio.engine.modelset import ModelSet

    return ModelSet(FIXTURES / "vqvae" / "checkpoint.pth.tar",
                    {0: FIXTURES / "upsampler_level_0" / "checkpoint.pth.tar",
                     1: FIXTURES / "upsampler_level_1" / "checkpoint.pth.tar",
                     2: FIXTURES / top / "checkpoint.pth.tar"}, name=f"tiny-{top}", ids_dir=IDS)


def write_model_folder(models, folder: Path) -> Path:
    """``models`` saved as a model folder in the project's format (what ``--models-dir`` finds by the folder's name)."""
    import shutil

    from studio.engine import save_model

    save_model(models.vqvae, folder / "vqvae")
    for level in range(3):
        save_model(models.prior(level), folder / f"prior_level_{level}")
    shutil.copytree(IDS, folder / "ids")
    return folder


def tiny_model_set_or_skip():
    """:func:`tiny_model_set`, or the calling test skipped with the reason."""
    ms = tiny_model_set()
    if ms is None:
        pytest.skip(f"reference fixtures not found at {FIXTURES} (needed for the tiny model)")
    return ms


@pytest.fixture
def tiny_models():
    return tiny_model_set_or_skip()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` run only where torch sees a CUDA GPU; elsewhere they are skipped with the reason."""
    gpu_tests = [item for item in items if "gpu" in item.keywords]
    if not gpu_tests:
        return
    import torch

    if not torch.cuda.is_available():
        for item in gpu_tests:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU; torch sees none here"))
