"""Takes farmed out to a real local Ray cluster (two CPU workers) against the same takes rendered in process."""

import json

import numpy as np
import pytest

from studio.cli import main
from studio.engine.events import JobDone, WindowDone
from studio.engine.jobs import new_take
from studio.engine.spec import SongSpec
from studio.engine.takes import Take
from studio.farm.cluster import cluster_status
from studio.farm.driver import FarmDriver
from studio.farm.pool import WorkerPool
from tests.farm.conftest import FARM_SPEC

pytestmark = pytest.mark.farm


def same_take(a: Take, b: Take) -> None:
    """Every file the take's job writes is byte-equal; the record agrees on all but its id and times."""
    names = sorted(p.name for p in a.path.iterdir() if not p.name.startswith(".") and p.name != "take.json")
    assert names == sorted(p.name for p in b.path.iterdir() if not p.name.startswith(".") and p.name != "take.json")
    assert {"codes_l0.npy", "l0_c2.wav", "alignment_c2.npy"} <= set(names)
    for name in names:
        assert (a.path / name).read_bytes() == (b.path / name).read_bytes(), name
    ra, rb = json.loads((a.path / "take.json").read_text()), json.loads((b.path / "take.json").read_text())
    for key in ("spec", "plan", "seed", "status", "windows_done", "levels_done", "error"):
        assert ra[key] == rb[key], key


@pytest.fixture
def pool(ray_cluster, farm_models):
    p = WorkerPool(ray_cluster, farm_models)
    yield p
    p.close()


def test_a_farmed_take_equals_the_in_process_take(pool, farm_models, local_take, tmp_path):
    take = new_take(SongSpec(**FARM_SPEC), tmp_path / "farm", farm_models)
    events = [ev for _, ev in FarmDriver(pool).run([take], farm_models)]
    assert events[-1] == JobDone(str(take.path))
    assert sum(isinstance(e, WindowDone) for e in events) == 19
    same_take(Take.load(take.path), local_take)


def test_killing_a_worker_mid_take_still_ends_in_the_same_take(pool, ray_cluster, farm_models, local_take, tmp_path,
                                                               capsys):
    take = new_take(SongSpec(**FARM_SPEC), tmp_path / "farm", farm_models)
    killed = None
    for _, ev in FarmDriver(pool).run([take], farm_models):
        if killed is None and isinstance(ev, WindowDone):
            assert main(["farm", "status"]) == 0
            shown = capsys.readouterr().out
            busy = [w for w in cluster_status(ray_cluster)["workers"] if w["doing"] != "idle"]
            if busy:
                killed = busy[0]["name"]
                assert f"worker {killed} (" in shown and "1 node(s)" in shown
                ray_cluster.kill(ray_cluster.get_actor(killed), no_restart=True)
    assert killed is not None, "no worker was ever busy when a window finished"
    assert ev == JobDone(str(take.path))
    same_take(Take.load(take.path), local_take)
    names = [w["name"] for w in cluster_status(ray_cluster)["workers"]]
    assert len(names) == 2 and killed not in names  # the lost worker was replaced


def test_cancel_keeps_what_is_done_and_the_take_resumes_to_the_same_take(pool, farm_models, local_take, tmp_path):
    from studio.engine.cascade import run_take

    take = new_take(SongSpec(**FARM_SPEC), tmp_path / "farm", farm_models)
    seen = []
    events = [ev for _, ev in FarmDriver(pool).run([take], farm_models, cancel=lambda: len(seen) >= 4)
              if not seen.append(ev)]
    assert events[-1] == JobDone(str(take.path), cancelled=True)
    cut = Take.load(take.path)
    assert cut.record.status == "cancelled"
    sampled = (cut.codes(1) >= 0).sum() + (cut.codes(2) >= 0).sum()
    assert 0 < sampled < cut.codes(1).size + cut.codes(2).size  # kept what was done, stopped before the end
    assert not list(run_take(cut, farm_models))[-1].error  # resumed in process, as `studio resume` does
    same_take(Take.load(take.path), local_take)


def test_a_batch_of_three_specs_on_two_workers(ray_cluster, model_dir, tmp_path, capsys):
    lines = [json.dumps({**FARM_SPEC, "model": "tiny", "candidates": 1, "seed": seed}) for seed in (1, 2, 3)]
    (tmp_path / "songs.jsonl").write_text("\n".join(lines) + "\n")
    rc = main(["batch", str(tmp_path / "songs.jsonl"), "--out", str(tmp_path / "out"), "--ray", "--models-dir",
               str(model_dir.parent), "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "3 done, 0 failed, 0 stopped" in out
    codes = []
    for n in ("001", "002", "003"):
        take = Take.load(tmp_path / "out" / n)
        assert take.record.status == "done" and take.record.levels_done == [2, 1, 0]
        assert (take.codes(0) >= 0).all() and take.audio_path(0, 0).is_file()
        codes.append(take.codes(2))
    assert not np.array_equal(codes[0], codes[1])  # each line is its own song


def test_render_on_the_farm_makes_the_take_a_local_render_makes(ray_cluster, model_dir, local_take, tmp_path, capsys):
    (tmp_path / "song.json").write_text(json.dumps({**FARM_SPEC, "model": "tiny"}))
    rc = main(["render", str(tmp_path / "song.json"), "--out", str(tmp_path / "take"), "--ray", "--workers", "1",
               "--models-dir", str(model_dir.parent), "--quiet"])
    assert rc == 0 and capsys.readouterr().out == f"done: {tmp_path / 'take'}\n"
    take = Take.load(tmp_path / "take")
    for level in range(3):  # the saved tiny model is the same network: the same codes
        assert take.codes_path(level).read_bytes() == local_take.codes_path(level).read_bytes()


def test_edited_takes_farm_to_the_takes_made_in_process(pool, farm_models, local_take, tmp_path):
    """Regenerate (every level), join and wide make the same codes on the farm as in this process."""
    from studio.engine.cascade import run_take
    from studio.engine.take_edits import join_takes, regenerate_take
    from studio.engine.wide import wide_take

    half = local_take.spec.seconds / 2
    makers = {
        "regenerate": lambda d: regenerate_take(local_take, half, d, farm_models, [1], count=2, levels="all", seed=3),
        "join": lambda d: join_takes(local_take, 0, half, local_take, 2, 0.0, d, farm_models, seam=(0.01, 0.02)),
        "wide": lambda d: wide_take(local_take, 1, d, farm_models),
    }
    for kind, make in makers.items():
        here, farmed = make(tmp_path / f"{kind}-here"), make(tmp_path / f"{kind}-farm")
        assert not list(run_take(here, farm_models))[-1].error, kind
        events = [ev for _, ev in FarmDriver(pool).run([farmed], farm_models)]
        assert events[-1] == JobDone(str(farmed.path)), kind
        for level in range(farm_models.levels):
            codes = Take.load(farmed.path).codes(level)
            assert (codes >= 0).all() and np.array_equal(codes, Take.load(here.path).codes(level)), (kind, level)
