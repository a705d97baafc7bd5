"""`studio regenerate` and `studio join` on a model folder in the project's own format: real takes, real runs."""

import json

import numpy as np
import pytest

from studio.cli import main
from studio.engine.takes import Take
from tests.sampler.conftest import SPEC, TINY_SECONDS

HOP, SR = 128, 44100


@pytest.fixture
def rendered(tiny_models, tmp_path, capsys):
    """(models folder, two top-level takes of two candidates rendered by `studio render`, seeds 11 and 12)."""
    from tests.conftest import write_model_folder

    models = write_model_folder(tiny_models, tmp_path / "models" / "tiny").parent
    takes = []
    for seed in (11, 12):
        spec = {"model": "tiny", "seconds": TINY_SECONDS, "candidates": 2, "levels": "top", **SPEC, "seed": seed}
        (tmp_path / f"song{seed}.json").write_text(json.dumps(spec))
        out = tmp_path / f"take{seed}"
        assert main(["render", str(tmp_path / f"song{seed}.json"), "--out", str(out), "--models-dir", str(models),
                     "--quiet"]) == 0
        takes.append(out)
    capsys.readouterr()
    return models, takes


def test_regenerate_renders_a_take_kept_up_to_the_time(rendered, capsys):
    models, (a, _) = rendered
    rc = main(["regenerate", str(a), "--at", "0.2", "--candidate", "2", "--count", "3", "--models-dir", str(models),
               "--quiet"])
    out = a.with_name("take11-regenerated")
    assert rc == 0 and capsys.readouterr().out.strip() == f"done: {out}"
    take, parent = Take.load(out), Take.load(a)
    at_tok = int(0.2 * SR) // HOP
    codes = take.codes(2)
    assert take.plan.kind == "regenerate" and take.record.parent == parent.record.id and codes.shape == (3, 128)
    assert (codes[:, :at_tok] == parent.codes(2)[1, :at_tok]).all() and codes.min() >= 0
    assert take.audio_path(2, 2).is_file()


def test_join_renders_the_splice_with_every_level(rendered, tmp_path, capsys):
    models, (a, b) = rendered
    out = tmp_path / "joined"
    rc = main(["join", str(a), str(b), "--at", "0.2", "--from", "0.1", "--other-candidate", "2", "--out", str(out),
               "--models-dir", str(models), "--quiet"])
    assert rc == 0 and capsys.readouterr().out.strip() == f"done: {out}"
    take = Take.load(out)
    at_tok, from_tok = int(0.2 * SR) // HOP, int(0.1 * SR) // HOP
    expected = np.concatenate([Take.load(a).codes(2)[0, :at_tok], Take.load(b).codes(2)[1, from_tok:]])
    assert (take.codes(2)[0] == expected).all()
    assert take.record.levels_done == [2, 1, 0] and take.record.joined["path"] == str(b)
    assert take.codes(0).min() >= 0 and take.audio_path(0, 0).is_file()


def test_bad_input_is_one_line_and_status_2_before_any_folder(rendered, tmp_path, capsys):
    models, (a, b) = rendered
    cases = [(["regenerate", str(a), "--at", "5"], "error: the time to regenerate from must lie inside the take"),
             (["regenerate", str(a), "--at", "0.2", "--candidate", "3"],
              "error: choose one of the take's 2 candidates"),
             (["regenerate", str(a), "--at", "0.2", "--count", "0"], "error: 'candidates' must be"),
             (["join", str(a), str(b), "--at", "0.2", "--other-candidate", "5"],
              "error: the second take (take12) has candidates 1-2, not 5"),
             (["join", str(a), str(tmp_path / "nowhere"), "--at", "0.2"], "is not a take folder"),
             (["join", str(a), str(b), "--at", "0.2", "--out", str(a)], "already holds a take")]
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv, message in cases:
        assert main([*argv, "--models-dir", str(models)]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no folder made
