"""A compiled step's key holds the engine's source: after an upgrade (an edited engine) the warm markers of the
old graphs stop counting, so a render plans for compiling (and decides whether that pays), not for loading."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from studio.engine import step_compile
sig = step_compile.signature("demo-level-2", 1, "torch.float32", "cpu", 0, 0.0)
print(step_compile.is_warm(sig))
if sys.argv[1] == "mark":
    step_compile.mark_warm(sig)
"""


def _probe(checkout: Path, cache: Path, action: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(checkout), "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run([sys.executable, "-c", PROBE, action], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_edited_engine_does_not_count_on_the_old_warm_markers(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "studio", checkout / "studio", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"
    assert _probe(checkout, cache, "mark") == "False"  # nothing compiled yet
    assert _probe(checkout, cache, "look") == "True"  # a later process counts on the graph
    attention = checkout / "studio" / "engine" / "attention.py"
    attention.write_text(attention.read_text(encoding="utf-8") + "\n# an upgrade\n", encoding="utf-8")
    assert _probe(checkout, cache, "look") == "False"  # the upgraded engine compiles its step again


def test_graphs_and_markers_unused_for_two_months_are_pruned(tmp_path, monkeypatch):
    """Each upgrade leaves the graphs of the engine before it: those not loaded or run for STALE_DAYS go, the
    rest stay."""
    from studio.engine import step_compile

    monkeypatch.setattr(step_compile, "cache_dir", lambda: tmp_path)
    (tmp_path / "steps").mkdir()
    (tmp_path / "warm").mkdir()
    now = 1_800_000_000.0
    ages = {"steps/old.bin": 61, "steps/recent.bin": 59, "steps/crashed.bin.123.part": 90, "warm/old": 100,
            "warm/today": 0}
    for name, days in ages.items():
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (now - days * 86400, now - days * 86400))
    (tmp_path / "prepare_seconds.json").write_text("{}")
    os.utime(tmp_path / "prepare_seconds.json", (now - 400 * 86400,) * 2)  # kept: not a graph

    assert step_compile.prune_stale(now) == 3
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["prepare_seconds.json", "steps/recent.bin", "warm/today"]
