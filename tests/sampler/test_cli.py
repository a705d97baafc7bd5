"""`studio render`, `studio resume` and `studio bench` on a model folder in the project's own format."""

import json

import pytest
import torch

from studio.cli import main
from studio.engine.takes import Take
from tests.sampler.conftest import SPEC, TINY_SECONDS


@pytest.fixture
def model_dir(tiny_models, tmp_path):
    from tests.conftest import write_model_folder

    return write_model_folder(tiny_models, tmp_path / "models" / "tiny")


def test_render_then_resume_after_interrupt(model_dir, tmp_path, capsys, monkeypatch):
    spec = {"model": "tiny", "seconds": TINY_SECONDS, "candidates": 2, "levels": "top", **SPEC}
    (tmp_path / "song.json").write_text(json.dumps(spec))
    out = tmp_path / "take"
    # interrupt after the second window: the CLI turns Ctrl+C into a clean, resumable stop
    import studio.engine.cascade as cascade
    real = cascade.run_take

    def interrupted(take, models, cancel=None):
        for i, ev in enumerate(real(take, models, cancel)):
            if type(ev).__name__ == "WindowDone" and ev.window == 1:
                raise KeyboardInterrupt
            yield ev
    monkeypatch.setattr(cascade, "run_take", interrupted)
    rc = main(["render", str(tmp_path / "song.json"), "--out", str(out), "--models-dir", str(model_dir.parent)])
    assert rc == 130
    assert "studio resume" in capsys.readouterr().err
    take = Take.load(out)
    assert take.record.status == "cancelled"
    done_before = (take.codes(2) >= 0).sum()
    assert 0 < done_before < take.codes(2).size
    monkeypatch.setattr(cascade, "run_take", real)
    rc = main(["resume", str(out), "--models-dir", str(model_dir.parent)])
    assert rc == 0
    take = Take.load(out)
    assert take.record.status == "done" and (take.codes(2) >= 0).all()
    assert take.audio_path(2, 1).is_file()


def test_render_toml_and_bad_spec_message(model_dir, tmp_path, capsys):
    (tmp_path / "song.toml").write_text('model = "tiny"\nseconds = 0.1\nlevels = "top"\nsong_seconds = 90\n'
                                        'artist = "Alan Jackson"\ngenre = "Country"\nseed = 1\n')
    rc = main(["render", str(tmp_path / "song.toml"), "--out", str(tmp_path / "t"), "--models-dir",
               str(model_dir.parent), "--quiet"])
    assert rc == 0
    assert Take.load(tmp_path / "t").codes(2).shape == (1, int(0.1 * 44100) // 128)
    (tmp_path / "bad.json").write_text('{"model": "tiny", "seconds": -3}')
    assert main(["render", str(tmp_path / "bad.json"), "--out", str(tmp_path / "x")]) == 2
    assert "'seconds' must be a positive number" in capsys.readouterr().err
    (tmp_path / "nomodel.json").write_text('{"model": "nope", "seconds": 3}')
    assert main(["render", str(tmp_path / "nomodel.json"), "--out", str(tmp_path / "y")]) == 2
    assert "model 'nope' not found" in capsys.readouterr().err


def test_bench_times_each_level_on_the_engine_thread_policy(model_dir, capsys, monkeypatch):
    import studio.engine.speed as speed
    real = speed.time_prior
    threads_while_timing = []

    def recording(*args, **kwargs):
        threads_while_timing.append(torch.get_num_threads())
        return real(*args, **kwargs)
    monkeypatch.setattr(speed, "time_prior", recording)
    torch.set_num_threads(2)  # the autouse fixture puts the caller's count back afterwards
    rc = main(["bench", str(model_dir), "--device", "cpu", "--seconds", "1", "--candidates", "2", "--steps", "4"])
    assert rc == 0
    assert threads_while_timing == [1, 1, 1]  # tiny widths decode on one thread (cascade.cpu_threads)
    assert torch.get_num_threads() == 2
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 4
    assert [f["prior"] for f in lines[:3]] == ["level_2", "level_1", "level_0"]
    assert all(f["batch"] == 2 and f["device"] == "cpu" and f["ms_per_step"] > 0 for f in lines[:3])
    summary = lines[3]
    assert summary["seconds_of_audio"] == 1.0 and summary["candidates"] == 2
    assert 0 < summary["projected_top_level_s"] <= summary["projected_all_levels_s"]


def test_bench_names_the_bad_number(capsys):
    assert main(["bench", "--seconds", "0"]) == 2
    assert "'seconds' must be a positive number of seconds, at most 1200, not 0.0." in capsys.readouterr().err
    assert main(["bench", "--candidates", "0"]) == 2
    assert "'candidates' must be a whole number from 1 to 64, not 0." in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="asks for a GPU where there is none")
def test_bench_names_the_fix_for_a_missing_gpu(model_dir, capsys):
    assert main(["bench", str(model_dir), "--device", "cuda"]) == 2
    assert 'none is available; set device to "cpu"' in capsys.readouterr().err


def test_render_precision_flag_overrides_the_spec_file(model_dir, tmp_path):
    spec = {"model": "tiny", "seconds": 0.1, "levels": "top", "precision": "fp32", **SPEC}
    (tmp_path / "song.json").write_text(json.dumps(spec))
    base = ["render", str(tmp_path / "song.json"), "--models-dir", str(model_dir.parent), "--quiet"]
    assert main([*base, "--out", str(tmp_path / "file")]) == 0
    assert Take.load(tmp_path / "file").spec.precision == "fp32"
    assert main([*base, "--out", str(tmp_path / "flag"), "--precision", "bf16"]) == 0
    take = Take.load(tmp_path / "flag")
    assert take.spec.precision == "bf16" and take.record.status == "done"


def test_render_too_short_to_compile_says_how_to_compile_once(model_dir, tmp_path, capsys, monkeypatch):
    from studio.engine import step_compile

    if step_compile.unavailable_reason(torch.device("cpu")):
        pytest.skip(step_compile.unavailable_reason(torch.device("cpu")))
    monkeypatch.setattr(step_compile, "_setting", None)  # --no-compile below sets it: put back after the test
    monkeypatch.setenv("JUKEBOX_COMPILE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # nothing compiled on this "machine" yet
    spec = {"model": "tiny", "seconds": TINY_SECONDS, "candidates": 2, "levels": "top", **SPEC}
    (tmp_path / "song.json").write_text(json.dumps(spec))
    rc = main(["render", str(tmp_path / "song.json"), "--out", str(tmp_path / "t"), "--models-dir",
               str(model_dir.parent), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 0
    assert "note: level 2 sampled with the uncompiled step" in err and "JUKEBOX_COMPILE=always" in err
    assert not (tmp_path / "cache" / "jukebox-studio" / "compiled" / "steps").exists()  # the render compiled nothing
    rc = main(["render", str(tmp_path / "song.json"), "--out", str(tmp_path / "u"), "--models-dir",
               str(model_dir.parent), "--quiet", "--no-compile"])
    assert rc == 0 and "note:" not in capsys.readouterr().err  # asked for no compiling: nothing to say


def test_bench_times_the_compiled_step_where_a_render_would_load_it(model_dir, capsys, monkeypatch):
    """Where compiling pays and the compiled step is in the cache, a render runs it, so the bench times it too (and
    gives the eager step's figure beside it); the top level of a lyrics-in-vocabulary prior draws music codes only,
    as a render's, so both name the same compiled graph."""
    import studio.engine.speed as speed
    from studio.engine import cascade

    real, calls = speed.time_prior, []

    def recording(*args, **kwargs):
        calls.append(kwargs.get("compiled", args[7] if len(args) > 7 else None))
        return dict(real(*args[:7], compiled=False), compiled=bool(calls[-1]))  # (compiling is the slow part)
    monkeypatch.setattr(speed, "time_prior", recording)
    warm = cascade.StepPlan("a graph in the cache", compiled=True, wait=0.2, warm=True)
    monkeypatch.setattr(cascade.StepPlan, "decide", classmethod(lambda cls, *a: warm))
    assert main(["bench", str(model_dir), "--device", "cpu", "--seconds", "1", "--steps", "4"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert calls == [False, True] * 3
    assert all(f["compiled"] is True and f["eager_ms_per_step"] > 0 for f in lines[:3])
