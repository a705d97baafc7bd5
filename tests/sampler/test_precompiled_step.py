"""On the CPU the compiled step is saved whole (dynamo's trace included): a new process loads it without tracing
the step again and draws the same tokens as the eager step; a stale or damaged file is compiled again."""

import dataclasses
import json
import os
import platform
import subprocess
import sys

import torch

from studio.engine import step_compile
from tests.conftest import REPO

# One window of the reference's tiny level-0 upsampler, sampled through the compiled step in a fresh process; it
# prints the tokens, how many graphs came from disk, and how many graphs dynamo traced.
SAMPLE = r"""
import json, sys, torch
import torch._dynamo.utils as dynamo_utils
from studio.engine import step_compile
from studio.engine.sampling import iter_sample_window, run_window
from tests.sampler.test_cached_logits import _setup
from pathlib import Path
torch.set_num_threads(1)
prior, y, cond, smp = _setup(Path(sys.argv[1]), "upsampler_level_0")
ctx = torch.from_numpy(smp["primed_prefix"])
dtype = getattr(torch, sys.argv[3])
n, known = int(sys.argv[4]), int(sys.argv[5])  # candidates, and tokens known before the window's new ones
if n < ctx.shape[0]:
    cond = type(cond)(*(None if c is None else c[:n] for c in (cond.x_cond, cond.y_cond, cond.encoder_kv)))
ctx = ctx[:n, :known] if known >= 0 else ctx[:n]
if dtype != torch.float32:
    prior.cast_for_sampling(dtype)
toks = run_window(iter_sample_window(prior, ctx, 12, cond, [3, 4][:n], 0.98, compiled=sys.argv[2] == "1",
                                     dtype=dtype))[0]
step = step_compile._compiled.get("cpu")
from torch._inductor import config
print(json.dumps({"tokens": toks.tolist(), "loaded": getattr(step, "loaded", None),
                  "traced": dynamo_utils.counters["stats"]["unique_graphs"], "isa_trusted": config.cpp.vec_isa_ok}))
"""


def _run(fixtures_dir, cache, compiled="1", dtype="float32", candidates=2, known=-1):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), TORCHINDUCTOR_CACHE_DIR=str(cache / "inductor"),
               JUKEBOX_COMPILE="1", PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", SAMPLE, str(fixtures_dir), compiled, dtype, str(candidates),
                          str(known)], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_saved_step_loads_in_a_new_process_without_tracing_and_draws_the_eager_tokens(fixtures_dir, tmp_path):
    if step_compile.unavailable_reason(torch.device("cpu")):
        import pytest
        pytest.skip(step_compile.unavailable_reason(torch.device("cpu")))
    eager = _run(fixtures_dir, tmp_path, compiled="0")
    first = _run(fixtures_dir, tmp_path)
    assert first["loaded"] == 0 and first["traced"] == 1  # compiled here, and saved
    saved = list((tmp_path / "jukebox-studio" / "compiled" / "steps").glob("*.bin"))
    assert len(saved) == 1
    second = _run(fixtures_dir, tmp_path)
    assert second["loaded"] == 1 and second["traced"] == 0  # taken from disk: dynamo traced nothing
    assert first["tokens"] == eager["tokens"] == second["tokens"]
    # the compile wrote down which vector instruction sets inductor's probes passed (x86, where every set the
    # CPU names built); the loading process trusted that instead of probing again, and only then
    probed = list((tmp_path / "jukebox-studio" / "compiled" / "isa").glob("*"))
    if platform.machine() in ("x86_64", "AMD64"):
        assert first["isa_trusted"] is None and second["isa_trusted"] is (True if probed else None)

    # the saved graph knows the source it was traced from; an edit to any of it makes the file stale
    with open(saved[0], "rb") as fh:
        graph = torch.compiler.load_compiled_function(fh)
    assert step_compile.sources_unchanged(graph)
    modules = {s.module for s in graph.source_info().inlined_sources}
    assert {"studio.engine.sampling", "studio.engine.attention", "studio.engine.transformer"} <= modules
    sources = graph.source_info().inlined_sources
    edited = next(s for s in sources if s.module == "studio.engine.attention")
    sources.discard(edited)
    sources.add(dataclasses.replace(edited, checksum="0" * 64))
    assert not step_compile.sources_unchanged(graph)

    # a damaged file is compiled again, not trusted, and the tokens stay the same
    saved[0].write_bytes(b"not a compiled graph")
    third = _run(fixtures_dir, tmp_path)
    assert third["loaded"] == 0 and third["traced"] == 1
    assert third["tokens"] == eager["tokens"]


def test_saved_int8_step_loads_in_a_new_process(fixtures_dir, tmp_path):
    """int8 weights and bf16 activations: the saved guards must rebuild tensors of every dtype the step sees."""
    if step_compile.unavailable_reason(torch.device("cpu")):
        import pytest
        pytest.skip(step_compile.unavailable_reason(torch.device("cpu")))
    first = _run(fixtures_dir, tmp_path, dtype="int8")
    second = _run(fixtures_dir, tmp_path, dtype="int8")
    assert first["loaded"] == 0 and second["loaded"] == 1 and second["traced"] == 0
    assert first["tokens"] == second["tokens"]


def test_a_step_saved_after_one_context_length_loads_for_another(fixtures_dir, tmp_path):
    """One candidate: the token before the first step was a view of the context, whose row stride (its length) the
    saved guards kept, so a window primed with another number of tokens (a primed song, then one from silence)
    compiled the step again (30-70 s a level) and overwrote the file the other one needed."""
    if step_compile.unavailable_reason(torch.device("cpu")):
        import pytest
        pytest.skip(step_compile.unavailable_reason(torch.device("cpu")))
    first = _run(fixtures_dir, tmp_path, candidates=1, known=40)
    second = _run(fixtures_dir, tmp_path, candidates=1, known=0)
    third = _run(fixtures_dir, tmp_path, candidates=1, known=17)
    assert first["loaded"] == 0 and first["traced"] == 1
    assert second["loaded"] == third["loaded"] == 1 and second["traced"] == third["traced"] == 0
    assert first["tokens"] != second["tokens"]  # other contexts, other windows: the same graph drew both
    seen = json.loads((tmp_path / "jukebox-studio" / "compiled" / "prepare_seconds.json").read_text())
    assert set(seen) == {"cpu-compile", "cpu-load"} and min(seen.values()) > 0  # each kept under what happened
