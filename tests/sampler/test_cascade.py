"""Windowed sampling through all three levels, takes on disk, cancel and resume, continue, upsample."""

import json

import numpy as np
import pytest
import soundfile as sf

from studio.engine.cascade import run_take
from studio.engine.events import (AlignmentReady, JobDone, JobPlanned, LevelDone, Progress, WindowDone)
from studio.engine.jobs import continue_take, new_take, upsample_take
from studio.engine.spec import SongSpec, SpecError
from studio.engine.takes import Take, interrupted_takes
from studio.engine.windows import window_starts
from tests.sampler.conftest import SPEC, TINY_SECONDS


def run(take, models, cancel=None):
    return list(run_take(take, models, cancel))


def test_window_schedules_match_reference(fixtures_dir):
    man = json.loads((fixtures_dir / "manifest.json").read_text())
    for level, sched in man["e2e_5b_ancestral"]["windows"].items():
        assert window_starts(sched["total_tokens"], 64, sched["hop_length"]) == sched["starts"]
    assert window_starts(6890, 6144, 768) == [0, 746]  # REFERENCE §4, 1b_lyrics at 20 s
    assert window_starts(27560, 8192, 4096)[-1] == 27560 - 8192


def test_e2e_codes_decode_to_reference_audio(fixtures_dir, tiny_models):
    import torch
    for case in ["e2e_5b_ancestral", "e2e_5b_lyrics_ancestral", "e2e_1b_lyrics_ancestral"]:
        d = np.load(fixtures_dir / case / "result.npz")
        for level in range(3):
            x = tiny_models.vqvae.decode([torch.from_numpy(d[f"zs_l{level}"])], start_level=level).numpy()
            np.testing.assert_allclose(x, d[f"x_l{level}"][..., 0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("top,case", [("prior_5b_lyrics", "e2e_5b_lyrics_ancestral"),
                                      ("prior_1b_lyrics", "e2e_1b_lyrics_ancestral")])
def test_lyric_alignment_matches_reference(fixtures_dir, top, case):
    from studio.engine.alignment import lyric_alignment
    from tests.conftest import tiny_model_set
    prior = tiny_model_set(top).prior(2)
    d = np.load(fixtures_dir / case / "result.npz")
    metas = json.loads((fixtures_dir / "manifest.json").read_text())["metas"]
    for i, m in enumerate(metas):
        info = prior.resolve_labels(m["artist"], m["genre"], m["lyrics"])
        got = lyric_alignment(prior, d["zs_l2"][i:i + 1], info, m["total_length"], 0, 0.125)[0]
        np.testing.assert_allclose(got, d[f"alignment_item{i}"], atol=1e-5)


def test_full_cascade_writes_take_and_events_in_order(tiny_models, tmp_path):
    spec = SongSpec(seconds=TINY_SECONDS, candidates=2, **SPEC)
    take = new_take(spec, tmp_path / "t", tiny_models)
    events = run(take, tiny_models)
    kinds = [type(e) for e in events]
    assert kinds[0] is JobPlanned and kinds[-1] is JobDone and not events[-1].error
    levels_done = [e.level for e in events if isinstance(e, LevelDone)]
    assert levels_done == [2, 1, 0]
    assert kinds.index(AlignmentReady) == kinds.index(LevelDone) + 1  # right after the top level
    plan = events[0]
    assert 0 < plan.eta < float("inf")  # a whole-job estimate before the first window, timed on this machine
    n_windows = {lv: len(w) for lv, w in plan.windows.items()}
    assert n_windows == {2: 9, 1: 15, 0: 63}
    assert sum(isinstance(e, WindowDone) for e in events) == 87
    prog = [e for e in events if isinstance(e, Progress)]
    assert all(0 < p.step <= p.n_steps for p in prog) and prog[-1].eta == pytest.approx(0, abs=0.5)
    back = Take.load(take.path)
    assert back.record.status == "done" and back.record.levels_done == [2, 1, 0]
    for level, n in [(2, 128), (1, 512), (0, 2048)]:
        codes = back.codes(level)
        assert codes.shape == (2, n) and codes.min() >= 0 and codes.max() < 256
        for c in range(2):
            audio, sr = sf.read(back.audio_path(level, c))
            assert sr == 44100 and len(audio) == 16384
    mat, lyr = back.alignment(0)
    assert mat.shape == (128, len("I met a traveller from an antique land"))
    assert np.allclose(mat[:, :16].sum(1), 1.0, atol=1e-4)  # every music token attends over the lyric window


def test_same_seed_same_take_different_seed_differs(tiny_models, tmp_path):
    spec = dict(seconds=TINY_SECONDS, candidates=2, levels="top", **SPEC)
    a = new_take(SongSpec(**spec), tmp_path / "a", tiny_models)
    b = new_take(SongSpec(**spec), tmp_path / "b", tiny_models)
    c = new_take(SongSpec(**{**spec, "seed": 12}), tmp_path / "c", tiny_models)
    for t in (a, b, c):
        run(t, tiny_models)
    assert (a.codes(2) == b.codes(2)).all()
    assert (a.codes(2) != c.codes(2)).mean() > 0.5


def test_cancel_mid_window_then_resume_equals_uninterrupted(tiny_models, tmp_path):
    spec = dict(seconds=TINY_SECONDS, candidates=2, levels="top", **SPEC)
    ref = new_take(SongSpec(**spec), tmp_path / "ref", tiny_models)
    run(ref, tiny_models)

    take = new_take(SongSpec(**spec), tmp_path / "cut", tiny_models)
    steps = {"n": 0}

    def cancel():
        steps["n"] += 1
        return steps["n"] > 100  # inside the fourth top window

    events = run(take, tiny_models, cancel)
    assert events[-1].cancelled
    cut = Take.load(take.path)
    assert cut.record.status == "cancelled"
    assert 0 < (cut.codes(2) >= 0).sum() < cut.codes(2).size
    assert [t.path for t in interrupted_takes(tmp_path)] == [cut.path]
    events = run(cut, tiny_models)
    assert not events[-1].cancelled and not events[-1].error
    assert (Take.load(take.path).codes(2) == ref.codes(2)).all()


@pytest.mark.parametrize("after", ["last window", "level done"])
def test_cancel_after_the_last_window_stops_before_decoding_or_the_alignment(tiny_models, tmp_path, after):
    """A cancel once the top level's codes are sampled stops at once (before its decode, or between the alignment's
    windows), not after them; resuming gives the uninterrupted take's audio and alignment."""
    spec = dict(seconds=TINY_SECONDS, candidates=2, levels="top", **SPEC)
    ref = new_take(SongSpec(**spec), tmp_path / "ref", tiny_models)
    run(ref, tiny_models)
    take = new_take(SongSpec(**spec), tmp_path / "cut", tiny_models)
    flag = {"set": False}
    events = []
    for ev in run_take(take, tiny_models, lambda: flag["set"]):
        events.append(ev)
        if after == "last window" and isinstance(ev, WindowDone) and ev.window == ev.n_windows - 1:
            flag["set"] = True
        if after == "level done" and isinstance(ev, LevelDone):
            flag["set"] = True
    assert events[-1].cancelled and not any(isinstance(e, AlignmentReady) for e in events)
    assert any(isinstance(e, LevelDone) for e in events) == (after == "level done")
    cut = Take.load(take.path)
    assert (cut.codes(2) == ref.codes(2)).all() and cut.alignment(0) is None
    events = run(cut, tiny_models)
    assert not events[-1].cancelled and not events[-1].error
    done = Take.load(take.path)
    for c in range(2):
        np.testing.assert_array_equal(done.alignment(c)[0], ref.alignment(c)[0])
        np.testing.assert_array_equal(sf.read(done.path / f"l2_c{c}.wav")[0], sf.read(ref.path / f"l2_c{c}.wav")[0])


def test_upsampling_one_candidate_equals_its_share_of_the_batch(tiny_models, tmp_path):
    full = new_take(SongSpec(seconds=TINY_SECONDS, candidates=2, **SPEC), tmp_path / "full", tiny_models)
    run(full, tiny_models)
    top = new_take(SongSpec(seconds=TINY_SECONDS, candidates=2, levels="top", **SPEC), tmp_path / "top",
                   tiny_models)
    run(top, tiny_models)
    child = upsample_take(Take.load(top.path), tmp_path / "up", tiny_models, candidates=[1])
    events = run(child, tiny_models)
    assert [e.level for e in events if isinstance(e, LevelDone)] == [1, 0]
    for level in (1, 0):
        assert (child.codes(level)[0] == full.codes(level)[1]).all()
    assert child.record.parent == top.record.id


def test_upsample_only_a_range(tiny_models, tmp_path):
    top = new_take(SongSpec(seconds=TINY_SECONDS, candidates=1, levels="top", **SPEC), tmp_path / "top",
                   tiny_models)
    run(top, tiny_models)
    child = upsample_take(top, tmp_path / "r", tiny_models, [0], range_seconds=[0.1, 0.2])
    run(child, tiny_models)
    c1 = child.codes(1)[0]
    lo, hi = int(0.1 * 44100) // 32, -(-int(0.2 * 44100) // 32)
    assert (c1[lo:hi] >= 0).all()  # the range is upsampled
    assert (c1 < 0).sum() > 0  # and not the whole song
    audio, _ = sf.read(child.audio_path(0, 0))
    assert np.abs(audio[: int(0.02 * 44100)]).max() == 0  # silence outside what was upsampled


def test_continue_extends_and_keeps_parent(tiny_models, tmp_path):
    short = new_take(SongSpec(seconds=8192 / 44100, candidates=2, levels="top", **SPEC), tmp_path / "s",
                     tiny_models)
    run(short, tiny_models)
    cont = continue_take(short, TINY_SECONDS, tmp_path / "c", tiny_models, candidates=[1])
    run(cont, tiny_models)
    codes = cont.codes(2)
    assert codes.shape == (1, 128) and codes.min() >= 0
    assert (codes[0, :64] == short.codes(2)[1]).all()
    with pytest.raises(SpecError, match="longer than its parent"):
        continue_take(short, 0.1, tmp_path / "bad", tiny_models)


def test_primed_run_keeps_the_prompt_codes(fixtures_dir, tmp_path):
    from tests.conftest import tiny_model_set
    models = tiny_model_set("prior_1b_lyrics")
    d = np.load(fixtures_dir / "e2e_1b_lyrics_primed" / "result.npz")
    clip = tmp_path / "mine.wav"
    pad = np.zeros(4410, dtype=np.float32)  # the clip starts 0.1 s into the user's file
    sf.write(clip, np.concatenate([pad, d["x_prompt"][0, :, 0]]), 44100, subtype="FLOAT")
    spec = SongSpec(seconds=TINY_SECONDS, candidates=1, prime={"file": str(clip), "start": 0.1}, **SPEC)
    take = new_take(spec, tmp_path / "p", models)
    events = run(take, models)
    assert not events[-1].error
    for level, n in [(2, 32), (1, 128), (0, 512)]:
        got = take.codes(level)[0, :n]
        assert (got != d[f"prompt_zs_l{level}"][0]).mean() <= 1 / 32
        assert (take.codes(level) >= 0).all()


def test_bad_specs_fail_with_clear_messages(tiny_models, tmp_path):
    with pytest.raises(SpecError, match="seconds"):
        SongSpec.from_dict({"artist": "x"})
    with pytest.raises(SpecError, match="unknown spec keys: colour"):
        SongSpec.from_dict({"seconds": 1, "colour": "red"})
    with pytest.raises(SpecError, match="temperature"):
        SongSpec(seconds=1, temperature=[1, 2])
    spec = SongSpec(seconds=TINY_SECONDS, **{**SPEC, "song_seconds": 700})
    with pytest.raises(SpecError, match="longer than this model"):  # refused before any folder is made
        new_take(spec, tmp_path / "long", tiny_models)
    assert not (tmp_path / "long").exists()


def test_unknown_artist_warns_and_falls_back(tiny_models, tmp_path):
    from studio.engine.events import Warning_
    spec = SongSpec(seconds=8192 / 44100, levels="top", **{**SPEC, "artist": "Nobody At All"})
    events = run(new_take(spec, tmp_path / "w", tiny_models), tiny_models)
    assert any(isinstance(e, Warning_) and "Unknown artist" in e.message for e in events)
    assert not events[-1].error


def test_memory_check_limits_batch_and_refuses_before_sampling(tiny_models, tmp_path, monkeypatch):
    import studio.engine.memory as hw
    from studio.engine.events import Warning_
    real = hw.available_memory
    prior = tiny_models.prior(2)
    from studio.engine.cascade import priming_chunk
    est = hw.estimate(prior.cfg, 1, "fp32", priming_chunk(prior.cfg), vqvae=None)
    per = est.kv_cache + est.activations

    def tight(device=None):
        m = real(device)
        return hw.DeviceMemory(m.device, m.name, int(per * 2.5 / hw.USABLE_FRACTION), m.total)
    monkeypatch.setattr(hw, "available_memory", tight)
    spec = SongSpec(seconds=8192 / 44100, candidates=4, levels="top", **SPEC)
    take = new_take(spec, tmp_path / "m", tiny_models)
    events = run(take, tiny_models)
    assert any(isinstance(e, Warning_) and "2 candidate(s) at a time" in e.message for e in events)
    assert not events[-1].error and (take.codes(2) >= 0).all()

    monkeypatch.setattr(hw, "available_memory", lambda device=None: hw.DeviceMemory("cpu", "CPU RAM", 10, 10))
    take = new_take(spec, tmp_path / "n", tiny_models)
    events = run(take, tiny_models)
    assert "GiB per candidate" in events[-1].error and "resume" in events[-1].error
    assert Take.load(take.path).record.status == "failed"


def test_corrupt_priming_clip_is_refused_before_a_take_is_made(tiny_models, tmp_path):
    bad = tmp_path / "broken.flac"
    bad.write_bytes(b"fLaC" + b"\x00" * 200)
    spec = SongSpec(seconds=TINY_SECONDS, levels="top", prime={"file": str(bad)}, **SPEC)
    with pytest.raises(SpecError, match=r"'prime.file': Could not read 'broken.flac' as audio.*convert the file"):
        new_take(spec, tmp_path / "p", tiny_models)
    assert not (tmp_path / "p").exists()


def test_compiled_take_says_it_prepares_and_equals_the_eager_take(tiny_models, tmp_path, monkeypatch):
    """With compiling forced, every level announces "preparing the sampler" and the take's codes equal an
    uncompiled run's (the compiled step gives the eager step's logits; the noise is the same stream)."""
    from studio.engine import step_compile
    from studio.engine.events import Preparing

    spec = SongSpec(seconds=TINY_SECONDS, candidates=2, **SPEC)
    eager = new_take(spec, tmp_path / "eager", tiny_models)
    assert not any(isinstance(e, Preparing) for e in run(eager, tiny_models))
    monkeypatch.setenv("JUKEBOX_COMPILE", "always")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(step_compile, "_ran_here", set())
    compiled = new_take(spec, tmp_path / "compiled", tiny_models)
    events = run(compiled, tiny_models)
    assert not events[-1].error
    assert [e.level for e in events if isinstance(e, Preparing)] == [2, 1, 0]
    assert not step_compile._failed, step_compile._failed
    assert len(list((tmp_path / "cache" / "jukebox-studio" / "compiled" / "warm").iterdir())) == 3
    import torch
    kept = tmp_path / "cache" / "jukebox-studio" / "compiled" / "prepare_seconds.json"
    seen = json.loads(kept.read_text())  # how long this machine took to compile, for the next "about N s"
    assert seen["cpu-compile"] > 0 and set(seen) == {"cpu-compile"}
    cpu = torch.device("cpu")
    assert step_compile.expected_compile_s(cpu, "a graph not compiled yet") == seen["cpu-compile"]
    kept.write_text("{damaged")
    assert step_compile.expected_compile_s(cpu, "a graph not compiled yet") == step_compile.COMPILE_S[("cpu", False)]
    for level in range(3):
        assert np.array_equal(Take.load(compiled.path).codes(level), Take.load(eager.path).codes(level))


def test_sample_dtype_narrows_only_wide_priors_on_cpus_with_native_bf16(monkeypatch):
    """"auto" on a CPU: int8 weights for priors CPU_REDUCED_MIN_WIDTH wide where the CPU multiplies bf16 natively,
    else float32 (the demo's width and the fixtures stay exact); "fp32", "bf16" and "int8" are taken as asked."""
    import dataclasses

    import torch

    from studio.engine import cascade
    from studio.engine.demo_config import demo_prior

    cpu = torch.device("cpu")
    demo = demo_prior(0)
    wide = dataclasses.replace(demo, width=cascade.CPU_REDUCED_MIN_WIDTH)
    assert demo.width < cascade.CPU_REDUCED_MIN_WIDTH == 512
    monkeypatch.setattr(cascade, "cpu_has_native_bf16", lambda: True)
    assert cascade.sample_dtype(cpu, wide) == cascade.sample_dtype(cpu, wide, "auto") == torch.int8
    assert cascade.sample_dtype(cpu, demo, "auto") == torch.float32
    assert cascade.sample_dtype(cpu, wide, "fp32") == torch.float32
    assert cascade.sample_dtype(cpu, demo, "bf16") == torch.bfloat16
    assert cascade.sample_dtype(cpu, demo, "int8") == torch.int8
    monkeypatch.setattr(cascade, "cpu_has_native_bf16", lambda: False)
    assert cascade.sample_dtype(cpu, wide, "auto") == torch.float32
    assert cascade.sample_dtype(cpu, wide, "bf16") == torch.bfloat16
    monkeypatch.undo()

    def unavailable():
        raise RuntimeError("no oneDNN in this build")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", unavailable)
    assert cascade.cpu_has_native_bf16() is False
    assert cascade.sample_dtype(cpu, wide, "auto") == torch.float32


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_narrow_render_on_cpu_runs_end_to_end_and_records_its_precision(tiny_models, tmp_path, precision):
    import torch

    spec = SongSpec(seconds=8192 / 44100, precision=precision, **SPEC)
    take = new_take(spec, tmp_path / precision, tiny_models)
    events = run(take, tiny_models)
    assert not events[-1].error, events[-1].error
    assert [e.level for e in events if isinstance(e, LevelDone)] == [2, 1, 0]
    c_attn = tiny_models.prior(0).prior.transformer.layers[0].attn.c_attn
    if precision == "bf16":
        assert c_attn.w.dtype == torch.bfloat16 and c_attn.wq is None
    else:
        assert c_attn.wq.dtype == torch.int8 and c_attn.w is None  # the float copy is dropped
    back = Take.load(take.path)
    assert back.record.status == "done" and back.spec.precision == precision
    assert json.loads((take.path / "take.json").read_text())["spec"]["precision"] == precision
    for level, n in [(2, 64), (1, 256), (0, 1024)]:
        codes = back.codes(level)
        assert codes.shape == (1, n) and codes.min() >= 0 and codes.max() < 256
        assert back.audio_path(level, 0).is_file()


def test_eta_leaves_out_the_compile_of_a_levels_first_window():
    """A 6 s render's first level-0 window compiled the step (45 s) and sampled 80 tokens: the ETA then said 55
    minutes for what took seconds. The window that prepared the sampler is timed from its first step on."""
    from studio.engine.cascade import _Clock
    now = [100.0]
    clock = _Clock(now=lambda: now[0])
    clock.window_begun()
    now[0] += 45.0  # priming, then the first step's call compiles the step
    clock.stepped(1, 80)
    now[0] += 79 * 0.01  # 79 more steps at 10 ms
    clock.window_done(0, 80, prepared=True)
    assert clock.rate[0] == pytest.approx(0.01)  # 79 steps in 0.79 s: the whole window at that pace, per token
    assert clock.eta({0: 12 * 256}) == pytest.approx(12 * 256 * 0.01)  # about 31 s, not 28 minutes
    clock.window_begun()  # a later window: priming counts, it recurs every window
    now[0] += 0.5
    clock.stepped(1, 256)
    now[0] += 255 * 0.01
    clock.window_done(0, 256, prepared=False)
    assert clock.rate[0] == pytest.approx((0.5 + 2.55) / 256)
    clock.window_begun()  # a prepared window of one step tells nothing about the rate: the last one stands
    now[0] += 30.0
    clock.stepped(1, 1)
    clock.window_done(0, 1, prepared=True)
    assert clock.rate[0] == pytest.approx((0.5 + 2.55) / 256)
    clock.waits[1] = 40.0  # a level still to come compiles its step first: its wait counts while it has tokens left
    assert clock.eta({0: 256, 1: 100}) == pytest.approx(3.05 + 40.0 + 100 * (0.5 + 2.55) / 256)
    assert clock.eta({0: 256, 1: 0}) == pytest.approx(3.05)


def test_the_estimate_counts_the_tokens_of_overlapping_windows_once():
    """A 20 s demo song's top level is 20 windows of 384 tokens over 1,250: the first estimate counted 7,680 (and
    2x at the upsamplers), and said 1:12 for a render that took 0:17."""
    from studio.engine.windows import level_windows, tokens_to_sample

    windows = level_windows(1250, 384, 48)
    assert len(windows) == 20 and sum(w.end - w.start for w in windows) == 7680
    codes = -np.ones((2, 1250), dtype=np.int64)
    assert tokens_to_sample(codes, windows) == 1250
    assert tokens_to_sample(codes, windows[3:]) == 1250 - windows[3].start  # the ETA from the fourth window on
    codes[:, :500] = 7  # a primed (or resumed) start every candidate has
    assert tokens_to_sample(codes, windows) == 750
    codes[0, 500:600] = 7  # one candidate further: the window still samples those for the other
    assert tokens_to_sample(codes, windows) == 750
    planned = JobPlanned((2,), {2: [(w.start, w.end) for w in windows]}, {2: 1250}, 2)
    added = planned.added[2]  # what the progress bars are sized in: the same rule
    assert sum(added) == 1250 and added[:2] == [384, 48] and added[-1] == windows[-1].end - windows[-2].end
