"""Compiling a job's decode steps in the background, so that the next job runs them compiled.

A job compiles a level's step only where that pays within the job (``step_compile.pays``): the first compile of a
step on a machine costs more than a short render's steps save (measured on a 2-core machine: 7-23 s per demo
graph, while a 10 s render's bottom level saves about 8 s), so short renders would never warm the cache and never
run compiled. After such a job (its ``JobDone.compile_deferred`` names the levels), the sampler process starts
:func:`start`: a process at the lowest CPU priority that samples one second of the same song into a temporary folder
with every step compiled, which saves the graphs and marks them warm. Its draws are thrown away; the graphs are
those of the job (the step is specialised on the network, batch, dtype and sampling options, not the song's
length). It ends with the process that started it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

WARM_SECONDS = 1.0  # long enough for every level to step (the bottom level samples 1000 tokens of the demo)
NICENESS = 19  # the user's next job and the interface come first (a test beside busy loops sets 0: at 19 it starves)


def warm_spec(spec, candidates: int):
    """``spec`` cut to a short, unprimed render of every level with ``candidates`` rows (the job's batch)."""
    return replace(spec, seconds=min(float(spec.seconds), WARM_SECONDS), song_seconds=None, prime=None,
                   levels="all", candidates=candidates)


def start(models, spec, candidates: int) -> subprocess.Popen:
    """Start warming the steps of ``spec``'s levels in a background process; returns it (already started). A
    process of its own, not a multiprocessing child: the sampler process that calls this is a daemon."""
    # the model set pickles as its recipe (paths, name, device), as it does for the sampler process itself
    job = {"models": models, "spec": warm_spec(spec, candidates), "parent": os.getpid(), "nice": NICENESS}
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen([sys.executable, "-m", "studio.engine.warm_up"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=root)
    proc.stdin.write(pickle.dumps(job))
    proc.stdin.close()
    return proc


def _end_with(parent: int) -> None:
    """End this process once ``parent`` has gone (the studio quit): a compile nobody waits for is not finished."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)  # noqa: SLF001 - nothing of the user's is written here


def warm(job: dict) -> None:
    """Sample the job's spec with every step compiled, into a folder that is then removed."""
    threading.Thread(target=_end_with, args=(int(job["parent"]),), daemon=True).start()
    if hasattr(os, "nice"):
        try:
            os.nice(int(job.get("nice", NICENESS)))
        except OSError:
            pass
    os.environ["JUKEBOX_COMPILE"] = "always"
    from .cascade import run_take
    from .jobs import new_take

    models = job["models"]
    with tempfile.TemporaryDirectory(prefix="jukebox-warm-") as tmp:
        take = new_take(job["spec"], Path(tmp) / "take", models)
        for _ in run_take(take, models):
            pass


if __name__ == "__main__":
    warm(pickle.loads(sys.stdin.buffer.read()))  # written by start() in the process that started this one
