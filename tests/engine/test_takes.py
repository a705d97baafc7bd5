"""Take statuses: one enum, stored in take.json as the plain words it always held."""

import json

import pytest

from studio.engine.spec import SongSpec
from studio.engine.takes import Take, TakePlan, TakeStatus, find_takes, interrupted_takes


def _take(root, name):
    return Take.create(root / name, SongSpec(1.0, seed=3), TakePlan(candidates=[0]), "tiny", 44100, [8, 32, 128])


def test_statuses_reach_disk_as_words_and_come_back_as_the_enum(tmp_path):
    take = _take(tmp_path, "a")
    assert take.record.status is TakeStatus.RUNNING and take.record.finished is None
    take.set_status(TakeStatus.FAILED, "out of memory")
    on_disk = json.loads((take.path / "take.json").read_text())
    assert on_disk["status"] == "failed" and on_disk["error"] == "out of memory" and on_disk["finished"] > 0
    back = Take.load(take.path)
    assert back.record.status is TakeStatus.FAILED and f"{back.record.status}" == "failed"
    assert not back.finished and back.record.status.resumable
    back.set_status(TakeStatus.DONE)
    assert Take.load(take.path).finished and not TakeStatus.DONE.resumable


def test_interrupted_takes_are_those_that_did_not_finish(tmp_path):
    for name, status in [("running", None), ("cancelled", TakeStatus.CANCELLED), ("failed", TakeStatus.FAILED),
                         ("done", TakeStatus.DONE)]:
        take = _take(tmp_path, name)
        if status is not None:
            take.set_status(status)
    assert sorted(t.path.name for t in interrupted_takes(tmp_path)) == ["cancelled", "failed", "running"]
    assert len(find_takes(tmp_path)) == 4


def test_an_unknown_status_is_a_damaged_record(tmp_path):
    take = _take(tmp_path, "odd")
    data = json.loads((take.path / "take.json").read_text())
    data["status"] = "paused"
    (take.path / "take.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"take\.json: damaged take record \('paused' is not a valid TakeStatus\)"):
        Take.load(take.path)
    assert find_takes(tmp_path) == []  # skipped, not a crash
