"""The layers hold where they matter: in the modules a process actually loads, and in the contracts lint-imports checks.

Each import runs in a fresh interpreter, so nothing an earlier test imported hides what a process would load.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QT = ("PySide6", "shiboken6", "pyqtgraph")


def modules_loaded_by(statement: str) -> set[str]:
    """Top-level and dotted names in ``sys.modules`` after running ``statement`` in a fresh interpreter; prints how
    long the statement took (seen with ``pytest -s``)."""
    code = ("import sys, time\nt0 = time.perf_counter()\n" + statement +
            "\nprint(f'{time.perf_counter() - t0:.2f}')\nprint('\\n'.join(sys.modules))")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    seconds, *names = done.stdout.splitlines()
    print(f"\n{statement!r}: {seconds} s, {len(names)} modules")
    return set(names)


def roots(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def test_the_studio_process_loads_no_torch():
    loaded = modules_loaded_by("import studio.ui.main_window")
    # it does reach the engine (events, takes, configs) and the player, all without torch
    assert {"studio.state.session", "studio.engine.events", "studio.engine.takes", "studio.audio.player"} <= loaded
    assert roots(loaded) & {"torch"} == set()
    assert loaded & {"studio.engine.loading", "studio.engine.prior", "studio.engine.checkpoints"} == set()


def test_the_sampler_process_loads_no_qt_no_sounddevice_and_not_the_model_store():
    loaded = modules_loaded_by("import studio.engine.cascade, studio.engine.jobs, studio.engine.priming")
    assert "torch" in roots(loaded) and "studio.audio.io" in loaded  # the priming clip's reader, nothing more
    assert roots(loaded) & {*QT, "sounddevice"} == set()
    assert {n for n in loaded if n.startswith("studio.modelstore")} == set()


def test_package_names_are_imported_on_first_use():
    loaded = modules_loaded_by("import studio.engine, studio.audio")
    assert roots(loaded) & {"torch", "sounddevice"} == set()
    loaded = modules_loaded_by("from studio.engine import PriorConfig, load_checkpoint\n"
                               "from studio.audio import Player, resample\n"
                               "assert callable(load_checkpoint) and callable(resample) and Player.__name__ == 'Player'")
    assert {"torch", "sounddevice"} <= roots(loaded)


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None,
                    reason="import-linter is not installed (pip install -e '.[test]')")
def test_import_contracts_are_kept():
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 4
    lint = "from importlinter.cli import lint_imports_command; lint_imports_command()"  # the lint-imports command
    done = subprocess.run([sys.executable, "-c", lint, "--no-cache"], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(contracts)} kept, 0 broken." in done.stdout
