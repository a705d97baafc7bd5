"""A take whose files disagree with its record is never trusted: resuming names each damaged file and re-makes it
(codes sampled again from the take's seeds, audio decoded again from codes) to the very bytes an undamaged take
holds; what cannot be re-made is one message naming the file, and nothing is touched."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from studio.cli import main
from studio.engine.cascade import run_take
from studio.engine.events import JobDone, Warning_
from studio.engine.jobs import continue_take
from studio.engine.takes import Take
from tests.reliability.conftest import SHORT_SECONDS, copy_take, files


def _save(take, level, codes):
    np.save(take.codes_path(level), codes, allow_pickle=False)


def _truncate(path, size):
    path.write_bytes(path.read_bytes()[:size])


def _wav_at(path, sr):
    audio, _ = sf.read(path, dtype="float32")
    sf.write(path, audio, sr, subtype="PCM_16")


SAMPLED = "level {level} is sampled again (to the same codes: the take's seeds)"
DECODED = "it is decoded again from codes_l{level}.npy"
DAMAGE = {  # name -> (file, damage, what is wrong, what resuming does about it)
    "truncated codes": ("codes_l0.npy", lambda t: _truncate(t.codes_path(0), 500),
                        "it cannot be read (Failed to read all data for array. Expected (2, 1024) = 2048 elements, "
                        "could only read 46 elements. (file seems not fully written?))", SAMPLED.format(level=0)),
    "half-length codes": ("codes_l1.npy", lambda t: _save(t, 1, t.codes(1)[:, :128]),
                          "it holds codes of shape (2, 128), the take needs (2, 256) (candidates, tokens)",
                          SAMPLED.format(level=1)),
    "float codes": ("codes_l0.npy", lambda t: _save(t, 0, t.codes(0).astype(np.float64)),
                    "it holds float64 codes, not int64", SAMPLED.format(level=0)),
    "extra rows": ("codes_l2.npy", lambda t: _save(t, 2, np.concatenate([t.codes(2), t.codes(2)[:1]])),
                   "it holds codes of shape (3, 64), the take needs (2, 64) (candidates, tokens)",
                   SAMPLED.format(level=2)),
    "codes out of range": ("codes_l1.npy", lambda t: _save(t, 1, np.where(np.arange(256) == 9, 4096, t.codes(1))),
                           "it holds code 4096, outside the codebook (0-255, or -1 for not sampled yet)",
                           SAMPLED.format(level=1)),
    "unsampled codes of a done level": ("codes_l0.npy", lambda t: _save(t, 0, np.where(np.arange(1024) >= 1000, -1,
                                                                                       t.codes(0))),
                                        "48 of its codes are not sampled, yet the record says level 0 is done",
                                        SAMPLED.format(level=0)),
    "missing codes": ("codes_l1.npy", lambda t: t.codes_path(1).unlink(), "it is missing", SAMPLED.format(level=1)),
    "truncated wav": ("l0_c1.wav", lambda t: _truncate(t.audio_path(0, 1), 3000),
                      "it holds 1478 samples, the take's level has 8192", DECODED.format(level=0)),
    "missing wav": ("l1_c0.wav", lambda t: t.audio_path(1, 0).unlink(), "it is missing", DECODED.format(level=1)),
    "wav at another rate": ("l2_c0.wav", lambda t: _wav_at(t.audio_path(2, 0), 22050),
                            "it is 1-channel audio at 22050 Hz, the take's is mono at 44100 Hz",
                            DECODED.format(level=2)),
}


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_resuming_a_damaged_take_names_the_file_and_remakes_it_exactly(models, finished, tmp_path, name):
    file, damage, problem, action = DAMAGE[name]
    take = copy_take(finished, tmp_path / "take")
    damage(take)
    events = list(run_take(take, models))
    assert [e.message for e in events if isinstance(e, Warning_)] == [f"{take.path / file}: {problem}; {action}"]
    assert isinstance(events[-1], JobDone) and not events[-1].error and not events[-1].cancelled
    now, before = files(take.path), files(finished.path)
    record = json.loads(now.pop("take.json"))
    assert record["status"] == "done" and sorted(record["levels_done"]) == [0, 1, 2]
    before.pop("take.json")
    assert now == before  # codes, audio and alignment byte for byte


def test_resume_of_a_sound_finished_take_says_so_and_touches_nothing(models, finished, model_dir, tmp_path,
                                                                     capsys, monkeypatch):
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(model_dir.parent))
    take = copy_take(finished, tmp_path / "take")
    before = files(take.path)
    assert main(["resume", str(take.path)]) == 0
    assert capsys.readouterr().out == f"{take.path} is already finished.\n"
    assert files(take.path) == before


def test_resume_of_a_finished_take_with_a_truncated_codes_file_repairs_it(models, finished, model_dir, tmp_path,
                                                                         capsys, monkeypatch):
    """It used to say "already finished" without looking at the files."""
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(model_dir.parent))
    take = copy_take(finished, tmp_path / "take")
    _truncate(take.codes_path(0), 500)
    assert main(["resume", str(take.path), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out == f"done: {take.path}\n"
    assert err.startswith(f"warning: {take.codes_path(0)}: it cannot be read (")
    assert err.endswith(f"; {SAMPLED.format(level=0)}\n") and err.count("\n") == 1
    assert np.array_equal(Take.load(take.path).codes(0), finished.codes(0))


def test_an_edited_sample_rate_is_refused_naming_take_json_and_nothing_is_touched(models, finished, model_dir,
                                                                                tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(model_dir.parent))
    take = copy_take(finished, tmp_path / "take")
    record = json.loads((take.path / "take.json").read_text())
    (take.path / "take.json").write_text(json.dumps({**record, "sr": 22050}))
    before = files(take.path)
    message = (f"{take.path / 'take.json'}: its 'sr' 22050 and 'hop_lengths' [8, 32, 128] are not those of model "
               f"'tiny-prior_5b_lyrics' (44100, [8, 32, 128]); set them back to the model's values, or restore "
               f"take.json from a backup.")
    assert main(["resume", str(take.path)]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert files(take.path) == before
    events = list(run_take(Take.load(take.path), models))  # the studio's path: the same message, the take kept
    assert events[-1].error == message
    assert Take.load(take.path).record.status == "failed" and Take.load(take.path).record.sr == 22050
    assert {k: v for k, v in files(take.path).items() if k != "take.json"} == \
        {k: v for k, v in before.items() if k != "take.json"}


def test_codes_copied_from_a_parent_cannot_be_remade_and_are_left_alone(models, finished, model_dir, tmp_path,
                                                                        capsys, monkeypatch):
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(model_dir.parent))
    child = continue_take(copy_take(finished, tmp_path / "parent"), 2 * SHORT_SECONDS, tmp_path / "child", models)
    _save(child, 2, child.codes(2)[:, :100])
    before = files(child.path)
    assert main(["resume", str(child.path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {child.codes_path(2)}: it holds codes of shape (2, 100), the take needs (2, 128) (candidates, "
        f"tokens); it cannot be re-made from this take: restore it from a backup, or make this take again from its "
        f"parent.\n")
    assert files(child.path) == before
