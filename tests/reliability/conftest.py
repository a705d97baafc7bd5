"""Takes to damage, and the tiny model they were made with (in memory, and saved as a model folder for the CLI)."""

from __future__ import annotations

import shutil

import pytest

from studio.engine.cascade import run_take
from studio.engine.events import WindowDone
from studio.engine.jobs import new_take
from studio.engine.spec import SongSpec
from studio.engine.take_lock import LOCK_FILE
from studio.engine.takes import Take
from tests.conftest import tiny_model_set_or_skip, write_model_folder
from tests.sampler.conftest import one_thread  # noqa: F401  (autouse here too: tiny models on one thread)

SHORT_SECONDS = 8192 / 44100  # one top window (64 tokens), 256 middle and 1024 bottom tokens
SONG = dict(model="tiny", artist="Alan Jackson", genre="Country", lyrics="I met a traveller", song_seconds=90.0,
            seed=11, candidates=2)


@pytest.fixture(scope="module")
def models():
    return tiny_model_set_or_skip()


@pytest.fixture(scope="module")
def model_dir(models, tmp_path_factory):
    """The tiny model saved as the model folder ``tiny`` (what ``--models-dir`` names)."""
    return write_model_folder(models, tmp_path_factory.mktemp("models") / "tiny")


def make_take(models, folder, seconds: float = SHORT_SECONDS, levels: str = "all", cancel=None) -> Take:
    """A new take of the test song in ``folder``, run until it ends (or ``cancel`` says stop)."""
    take = new_take(SongSpec(seconds=seconds, levels=levels, **SONG), folder, models)
    events = list(run_take(take, models, cancel))
    assert not events[-1].error, events[-1].error
    return Take.load(folder)


def interrupted_take(models, folder, after_windows: int = 3) -> Take:
    """A new take of the test song stopped, as by a kill, once ``after_windows`` windows are written."""
    run = run_take(new_take(SongSpec(seconds=SHORT_SECONDS, **SONG), folder, models), models)
    written = 0
    for ev in run:
        written += isinstance(ev, WindowDone)
        if written == after_windows:
            run.close()  # the run ends where it stands; its lock goes with it, as with a killed process
            break
    return Take.load(folder)


@pytest.fixture(scope="module")
def finished(models, tmp_path_factory):
    """A finished take of all three levels, 2 candidates (copy it before damaging it: :func:`copy_take`)."""
    return make_take(models, tmp_path_factory.mktemp("ref") / "finished")


def copy_take(take: Take, folder) -> Take:
    shutil.copytree(take.path, folder, ignore=shutil.ignore_patterns(LOCK_FILE))
    return Take.load(folder)


def files(folder) -> dict:
    """Every file of a take folder but its lock, by name: its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != LOCK_FILE}
