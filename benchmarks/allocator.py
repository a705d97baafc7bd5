"""Freed memory kept (``studio/engine/allocator.py``) against glibc's defaults: a whole demo render in a new process
each, alternating, printing page faults, wall time and peak memory per run, then the medians.

    python benchmarks/allocator.py                 # 3 pairs, 10 s, 3 candidates, uncompiled
    python benchmarks/allocator.py --pairs 5 --seconds 4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RENDER = """
import json, pathlib, resource, sys, tempfile, time
sys.path.insert(0, sys.argv[3])
import studio.engine.cascade as cascade
if sys.argv[1] == "default":
    cascade.keep_freed_memory = lambda: False  # what the sampler did before it kept freed memory
from studio.engine.jobs import new_take
from studio.engine.modelset import ModelSet
from studio.engine.spec import SongSpec
models = ModelSet.named("demo")
with tempfile.TemporaryDirectory() as tmp:
    spec = SongSpec(seconds=float(sys.argv[2]), artist="unknown", genre="unknown", candidates=3, seed=5, device="cpu")
    take = new_take(spec, pathlib.Path(tmp) / "take", models)
    faults, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
    for _ in cascade.run_take(take, models):
        pass
    use = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"allocator": sys.argv[1], "wall_s": round(time.perf_counter() - t0, 2),
                      "page_faults": use.ru_minflt - faults, "peak_mb": use.ru_maxrss // 1024}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    env = dict(os.environ, JUKEBOX_COMPILE="0")
    runs: dict = {"default": [], "kept": []}
    for _ in range(args.pairs):
        for mode in runs:
            out = subprocess.run([sys.executable, "-c", RENDER, mode, str(args.seconds), str(ROOT)], env=env,
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            runs[mode].append(row)
            print(json.dumps(row), flush=True)
    for mode, rows in runs.items():
        med = {k: sorted(r[k] for r in rows)[len(rows) // 2] for k in ("wall_s", "page_faults", "peak_mb")}
        print(json.dumps({"allocator": mode, "median_of": len(rows), **med}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
