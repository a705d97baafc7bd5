"""Nothing the user made is lost to a take folder: a render never writes into a folder holding files, and a damaged
take.json is one message naming the file and the fault, never a traceback and never the loss of the other takes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from studio.cli import main
from studio.engine.spec import SongSpec
from studio.engine.takes import DamagedTake, Take, TakeFolderError, TakePlan, TakeStatus, scan_takes
from tests.conftest import REPO

pytest.importorskip("pytestqt")
from PySide6.QtCore import QSettings  # noqa: E402


def _user_files(folder):
    """A folder holding a user's own l2_c0.wav and an old codes_l2.npy; their bytes by name."""
    folder.mkdir()
    sf.write(folder / "l2_c0.wav", np.sin(np.arange(4410) / 7.0).astype(np.float32), 44100, subtype="PCM_16")
    np.save(folder / "codes_l2.npy", np.arange(24, dtype=np.int64).reshape(2, 12))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _render(tmp_path, spec: dict, out):
    """``python -m studio render SPEC --out OUT`` in a fresh process: (exit code, stderr)."""
    (tmp_path / "song.json").write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "studio", "render", str(tmp_path / "song.json"), "--out", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, done.stderr


def _take(folder, status=None):
    take = Take.create(folder, SongSpec(1.0, seed=3, candidates=2), TakePlan(candidates=[0, 1]), "tiny", 44100,
                       [8, 32, 128])
    if status is not None:
        take.set_status(status)
    return take


def test_render_into_a_folder_of_user_files_is_refused_and_touches_nothing(tmp_path):
    out = tmp_path / "mine"
    before = _user_files(out)
    rc, err = _render(tmp_path, {"model": "demo", "seconds": 1.0, "levels": "top", "seed": 1}, out)
    assert rc == 2
    assert err == (f"error: '{out}' already holds files (codes_l2.npy, l2_c0.wav) and a new take never writes among "
                   f"them: choose a new --out folder, or `studio resume {out}` if it is a take.\n")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # byte for byte, and nothing added


def test_render_into_a_take_says_resume_before_looking_for_the_model(tmp_path):
    take = _take(tmp_path / "take", TakeStatus.CANCELLED)
    record = (take.path / "take.json").read_bytes()
    rc, err = _render(tmp_path, {"model": "no-such-model", "seconds": 1.0}, take.path)
    assert rc == 2  # the folder is checked first: the missing model is never looked for
    assert err == (f"error: '{take.path}' already holds a take: run `studio resume {take.path}` to finish it, or "
                   f"choose a new --out folder for a new take.\n")
    assert (take.path / "take.json").read_bytes() == record and os.listdir(take.path) == ["take.json"]


def test_a_new_take_goes_into_an_absent_or_empty_folder_only(tmp_path):
    (tmp_path / "empty").mkdir()
    assert _take(tmp_path / "empty").path == tmp_path / "empty"
    assert Take.load(tmp_path / "empty").record.status is TakeStatus.RUNNING
    assert _take(tmp_path / "new" / "deeper").path.is_dir()
    before = _user_files(tmp_path / "mine")
    with pytest.raises(TakeFolderError, match="already holds files"):
        _take(tmp_path / "mine")
    assert {p.name: p.read_bytes() for p in (tmp_path / "mine").iterdir()} == before


def _good_record(tmp_path) -> dict:
    return json.loads((_take(tmp_path / "model-take").path / "take.json").read_text())


DAMAGE = {  # name -> (take.json as the damage left it, given a good record; what the message says is wrong)
    "truncated": (lambda r: json.dumps(r)[:50], "it is not JSON: Unterminated string"),
    "empty": (lambda r: "", "it is not JSON: Expecting value: line 1 column 1"),
    "binary": (lambda r: "\x00\x01garbage", "it is not JSON"),
    "list": (lambda r: "[]", "the record is [], not an object"),
    "null": (lambda r: "null", "the record is null, not an object"),
    "plan null": (lambda r: json.dumps({**r, "plan": None}), "'plan' in the record must be an object, not null"),
    "seed text": (lambda r: json.dumps({**r, "seed": "7"}), "'seed' in the record must be a whole number, not \"7\""),
    "no sr": (lambda r: json.dumps({k: v for k, v in r.items() if k != "sr"}), "the record lacks the field(s) 'sr'"),
    "unknown field": (lambda r: json.dumps({**r, "colour": 1}), "the record has unknown field(s) 'colour'"),
    "levels text": (lambda r: json.dumps({**r, "plan": {**r["plan"], "levels": "all"}}),
                    "'levels' in the plan must be a list of levels, not \"all\""),
    "level beyond model": (lambda r: json.dumps({**r, "levels_done": [5]}),
                           "it names level 5, but its model has levels 0-2"),
    "windows by name": (lambda r: json.dumps({**r, "windows_done": {"top": 3}}),
                        "'windows_done' in the record must be an object of level: windows written"),
    "created NaN": (lambda r: json.dumps({**r, "created": float("nan")}),
                    "'created' in the record must be a time in seconds, not NaN"),
    "chosen beyond candidates": (lambda r: json.dumps({**r, "chosen": 4}),
                                 "'chosen' is candidate 4, but the take has 2"),
    "unknown status": (lambda r: json.dumps({**r, "status": "paused"}), "'paused' is not a valid TakeStatus"),
    "spec not a spec": (lambda r: json.dumps({**r, "spec": {"seconds": -1}}), "its song spec is not valid: 'seconds'"),
    "huge nesting": (lambda r: "[" * 200_000 + "]" * 200_000, "it is nested too deeply to be a take record"),
}


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_a_damaged_take_record_is_one_message_naming_file_and_fault(tmp_path, capsys, name):
    damage, fault = DAMAGE[name]
    folder = tmp_path / "takes" / "0001-generate"
    folder.mkdir(parents=True)
    (folder / "take.json").write_text(damage(_good_record(tmp_path)))
    with pytest.raises(DamagedTake) as caught:
        Take.load(folder)
    message = str(caught.value)
    assert message.startswith(f"{folder / 'take.json'}: damaged take record ({fault}")
    assert message.endswith("). Its codes and audio are left untouched: restore take.json from a backup, or move "
                            "the folder aside.")
    assert main(["resume", str(folder)]) == 2  # the CLI says it, and stops
    assert capsys.readouterr().err == f"error: {message}\n"
    scan = scan_takes(tmp_path / "takes")
    assert scan.takes == [] and [d.folder for d in scan.damaged] == [folder]


def test_a_project_with_a_damaged_take_opens_with_every_other_take_shown(qtbot, tmp_path):
    from studio.state.project import Project
    from studio.state.session import StudioSession
    from studio.ui.takes_browser import TakesBrowser

    project = Project.create(tmp_path / "song")
    first = _take(project.takes_dir / "0001-generate", TakeStatus.DONE)
    damaged = project.takes_dir / "0002-generate"
    kept = _user_files(damaged)
    (damaged / "take.json").write_text(json.dumps({**_good_record(tmp_path), "plan": None}))
    third = _take(project.takes_dir / "0003-generate", TakeStatus.CANCELLED)

    session = StudioSession(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), autosave_ms=3_600_000)
    errors = []
    session.error.connect(errors.append)
    try:
        session.project.open(project.folder)
        browser = TakesBrowser(session.project)
        qtbot.addWidget(browser)
        shown = {session.project.takes[i].name: session.project.takes[i] for i in range(len(session.project.takes))}
        assert sorted(shown) == ["0001-generate", "0002-generate", "0003-generate"]
        assert shown["0001-generate"].status is TakeStatus.DONE and shown["0003-generate"].id == third.record.id
        bad = shown["0002-generate"]
        fault = f"{damaged / 'take.json'}: damaged take record ('plan' in the record must be an object, not null)"
        assert bad.status is TakeStatus.DAMAGED and bad.error.startswith(fault) and not bad.resumable
        assert [t.name for t in session.project.interrupted()] == ["0003-generate"]  # never offered for resume

        rows = {browser.tree.topLevelItem(i).text(0): browser.tree.topLevelItem(i)
                for i in range(browser.tree.topLevelItemCount())}
        assert rows["0002-generate"].text(1) == "damaged" and rows["0002-generate"].toolTip(0) == bad.error
        assert rows["0001-generate · 1.00 s · 2 cand."].text(1) == "done"

        session.project.select(str(damaged))  # choosing it says why it cannot be shown, once
        assert session.take is None and len(errors) == 1
        assert errors[0].startswith(f"Could not read take 0002-generate: {fault}")
        session.project.select(str(first.path))  # the others still open
        assert session.take.summary.id == first.record.id and len(errors) == 1
    finally:
        session.shutdown()
    assert {p.name: p.read_bytes() for p in damaged.iterdir() if p.name != "take.json"} == kept


def test_a_record_with_huge_whole_numbers_loads_without_an_overflow(tmp_path):
    """Integers beyond a float's range are still finite numbers (the rule spec fields use too), never an
    OverflowError traceback."""
    folder = tmp_path / "takes" / "0001-generate"
    folder.mkdir(parents=True)
    huge = 10**400
    (folder / "take.json").write_text(json.dumps({**_good_record(tmp_path), "created": huge, "seed": huge}))
    record = Take.load(folder).record
    assert record.created == huge and record.seed == huge
