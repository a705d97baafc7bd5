"""A job too short to pay for compiling its steps runs them uncompiled; the sampler process then compiles them in a
background process (warm_up.py), so that the next process takes every level's step from disk without compiling."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from studio.engine import step_compile
from tests.conftest import FIXTURES, REPO

# One generate job through the sampler process's server on the tiny model, in a fresh process (the compile state is
# per process); prints the job's JobDone, the warm-up process's exit status, and the compiled graphs loaded/traced.
JOB = r"""
import json, sys, threading
import torch._dynamo.utils as dynamo_utils
from studio.engine import step_compile, warm_up
from studio.engine.events import JobDone
warm_up.NICENESS = 0  # at the lowest priority the warm-up would starve beside other work on a busy machine
from studio.workers.sampler_process import JobRequest, SamplerServer
from tests.conftest import tiny_model_set
sent = []
server = SamplerServer(sent.append, threading.Event(), 0.0, 1e9)
server.load(tiny_model_set(), quiet=True)
spec = {"seconds": 0.37, "artist": "Alan Jackson", "genre": "Country", "song_seconds": 90, "candidates": 2,
        "levels": "all", "seed": 3}
server.run(JobRequest("generate", sys.argv[1], spec=spec, compile=True))
done = [e for e in sent if isinstance(e, JobDone)][-1]
rc = server.warming.wait() if server.warming is not None else None
step = step_compile._compiled.get("cpu")
print(json.dumps({"error": done.error, "deferred": list(done.compile_deferred), "warm_up_rc": rc,
                  "loaded": getattr(step, "loaded", None), "traced": dynamo_utils.counters["stats"]["unique_graphs"]}))
"""


def _job(tmp_path, folder, compile_env):
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), TORCHINDUCTOR_CACHE_DIR=str(tmp_path / "inductor"),
               JUKEBOX_COMPILE=compile_env, PYTHONPATH=str(REPO), TMPDIR=str(tmp_path / "tmp"))
    out = subprocess.run([sys.executable, "-c", JOB, str(tmp_path / folder)], env=env, cwd=REPO, capture_output=True,
                         text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_short_job_compiles_its_steps_in_the_background_for_the_next_one(tmp_path):
    if not FIXTURES.is_dir():
        pytest.skip(f"reference fixtures not found at {FIXTURES} (needed for the tiny model)")
    if step_compile.unavailable_reason(torch.device("cpu")):
        pytest.skip(step_compile.unavailable_reason(torch.device("cpu")))
    compiled = tmp_path / "cache" / "jukebox-studio" / "compiled"

    first = _job(tmp_path, "first", "1")
    assert first["error"] is None
    assert first["deferred"] == [0, 1, 2]  # a cold first compile pays at no level of a 0.37 s song
    assert first["loaded"] is None and first["traced"] == 0  # the job itself compiled nothing
    assert first["warm_up_rc"] == 0
    assert len(list((compiled / "steps").glob("*.bin"))) == 3  # one graph per level, saved by the warm-up
    assert len(list((compiled / "warm").iterdir())) == 3  # and counted as warm when the next job decides
    assert not list((tmp_path / "tmp").glob("jukebox-warm-*"))  # its throwaway take is gone

    # the next process compiles every level (forced, so even this short song does) and traces nothing: all three
    # graphs come from the warm-up's files; it has nothing left to warm
    second = _job(tmp_path, "second", "always")
    assert second["error"] is None and second["deferred"] == [] and second["warm_up_rc"] is None
    assert second["loaded"] == 3 and second["traced"] == 0


def test_nothing_is_compiled_in_the_background_where_compiling_is_off(tmp_path):
    if not FIXTURES.is_dir():
        pytest.skip(f"reference fixtures not found at {FIXTURES} (needed for the tiny model)")
    off = _job(tmp_path, "off", "0")  # the studio's setting says compile (the request), the machine says no
    assert off["error"] is None and off["warm_up_rc"] is None
    assert not (tmp_path / "cache" / "jukebox-studio" / "compiled" / "steps").exists()
