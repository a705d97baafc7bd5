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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


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
