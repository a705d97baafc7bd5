"""`studio wide TAKE --candidate N`: a rendered take's candidate made wide from the terminal, then refused twice; a
second wide version is named beside the first."""

import argparse
import json

from studio.cli import main
from studio.commands import wide
from studio.commands.edit import free_folder
from studio.engine.takes import Take
from tests.sampler.conftest import SPEC


def _wide(argv: list) -> int:
    parser = argparse.ArgumentParser(prog="studio wide")
    wide.add_arguments(parser)
    return wide.run(parser.parse_args(argv))


def test_wide_from_the_terminal(tiny_models, tmp_path, capsys):
    from tests.conftest import write_model_folder

    models_dir = write_model_folder(tiny_models, tmp_path / "models" / "tiny").parent
    spec = {"model": "tiny", "seconds": 8192 / 44100, "candidates": 2, "levels": "top", **SPEC}
    (tmp_path / "song.json").write_text(json.dumps(spec))
    top = tmp_path / "take"
    assert main(["render", str(tmp_path / "song.json"), "--out", str(top), "--models-dir", str(models_dir),
                 "--quiet"]) == 0
    assert _wide([str(top), "--candidate", "2", "--models-dir", str(models_dir), "--quiet"]) == 0
    made = Take.load(tmp_path / "take-wide-c2")
    assert made.record.status == "done" and made.plan.kind == "wide" and made.plan.candidates[0] == 1
    assert (made.codes(2) == Take.load(top).codes(2)[1]).all() and (made.codes(0) >= 0).all()
    capsys.readouterr()
    assert free_folder(top, "wide-c2") == tmp_path / "take-wide-c2-2"  # a second wide version gets a free name
    assert _wide([str(top), "--candidate", "2", "--out", str(tmp_path / "take-wide-c2"),
                  "--models-dir", str(models_dir)]) == 2  # the folder holds a take
    assert "already holds a take" in capsys.readouterr().err
    assert _wide([str(top), "--candidate", "3", "--out", str(tmp_path / "w3"), "--models-dir", str(models_dir)]) == 2
    assert "has candidates 1-2, not 3" in capsys.readouterr().err and not (tmp_path / "w3").exists()
