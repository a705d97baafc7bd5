"""`studio render` and `studio resume` on a model folder in the project's own format."""

import json
import shutil

import numpy as np
import pytest

from studio.cli import main
from studio.engine import save_model
from studio.engine.takes import Take
from tests.sampler.conftest import SPEC, TINY_SECONDS


@pytest.fixture
def model_dir(tiny_models, tmp_path):
    d = tmp_path / "models" / "tiny"
    save_model(tiny_models.vqvae, d / "vqvae")
    for level in range(3):
        save_model(tiny_models.prior(level), d / f"prior_level_{level}")
    from tests.conftest import IDS
    shutil.copytree(IDS, d / "ids")
    return d


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
