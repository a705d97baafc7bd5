"""A model's own sampling defaults (sampling.json): a spec that leaves them unset samples with them, through the CLI
exactly as if the user had typed them; a value the user sets wins; a bad file is one clear error."""

import json

import numpy as np
import pytest
import torch

from studio.cli import main
from studio.engine.jobs import new_take
from studio.engine.modelset import ModelSet
from studio.engine.sampling_defaults import (REFERENCE, SAMPLING_FILE, SamplingDefaults, read_sampling_defaults,
                                             write_sampling_defaults)
from studio.engine.spec import SongSpec, SpecError
from studio.engine.takes import Take

TOML = 'model = "tiny"\nseconds = 0.1\nlevels = "top"\nsong_seconds = 90\nartist = "Alan Jackson"\nseed = 4\n'
MODEL_OWN = SamplingDefaults(temperature=(0.9, 0.8, 0.4), top_k=0, top_p=0.6)


@pytest.fixture
def model_dir(tiny_models, tmp_path):
    torch.set_num_threads(1)
    from tests.conftest import write_model_folder

    return write_model_folder(tiny_models, tmp_path / "models" / "tiny")


def render(tmp_path, model_dir, name: str, extra: str = "") -> Take:
    (tmp_path / f"{name}.toml").write_text(TOML + extra)
    out = tmp_path / name
    rc = main(["render", str(tmp_path / f"{name}.toml"), "--out", str(out), "--models-dir", str(model_dir.parent),
               "--quiet"])
    assert rc == 0
    return Take.load(out)


def test_unset_spec_samples_with_the_models_own_values(model_dir, tmp_path):
    write_sampling_defaults(model_dir / SAMPLING_FILE, MODEL_OWN, measured={"by": "test"})
    own = render(tmp_path, model_dir, "own")
    assert own.spec.temperature == [0.9, 0.8, 0.4] and own.spec.top_k == 0 and own.spec.top_p == 0.6
    # the same values typed by the user give the same codes: the defaults reached the sampler, not just the record
    typed = render(tmp_path, model_dir, "typed", "temperature = [0.9, 0.8, 0.4]\ntop_p = 0.6\n")
    np.testing.assert_array_equal(own.codes(2), typed.codes(2))
    # and they differ from the reference values a model without sampling.json uses
    (model_dir / SAMPLING_FILE).unlink()
    plain = render(tmp_path, model_dir, "plain")
    assert plain.spec.temperature == list(REFERENCE.temperature) and plain.spec.top_p == 0.0
    assert (plain.codes(2) != own.codes(2)).any()


def test_values_the_user_sets_win_over_the_models(model_dir, tmp_path):
    write_sampling_defaults(model_dir / SAMPLING_FILE, MODEL_OWN)
    mine = render(tmp_path, model_dir, "mine", "temperature = 1.3\ntop_k = 5\n")
    assert mine.spec.temperature == [1.3, 1.3, 1.3]
    assert mine.spec.top_k == 5 and mine.spec.top_p == 0.0  # the user chose top-k: the model's top-p is not mixed in
    own = render(tmp_path, model_dir, "own")
    assert (mine.codes(2) != own.codes(2)).any()
    # a user who sets only the temperature still gets the model's filter
    temp_only = render(tmp_path, model_dir, "temp_only", "temperature = [0.9, 0.8, 1.1]\n")
    assert temp_only.spec.temperature == [0.9, 0.8, 1.1] and temp_only.spec.top_p == 0.6


def test_a_bad_sampling_file_is_one_error_naming_it_and_no_take_is_made(model_dir, tmp_path):
    (model_dir / SAMPLING_FILE).write_text(json.dumps({"temperature": [0.9, 0.0, 1.0]}))
    models = ModelSet.from_folder(model_dir, "tiny")
    with pytest.raises(SpecError, match=r"sampling\.json: 'temperature' must be three numbers"):
        new_take(SongSpec(seconds=0.1, levels="top", seed=1), tmp_path / "take", models)
    assert not (tmp_path / "take").exists()
    (model_dir / SAMPLING_FILE).write_text('{"temperature": [0.9, 0.9, 0.9], "top_k": 5, "top_p": 0.5}')
    with pytest.raises(SpecError, match="one filter at most"):
        read_sampling_defaults(model_dir / SAMPLING_FILE)
    (model_dir / SAMPLING_FILE).write_text("{not json")
    with pytest.raises(SpecError, match="not a readable sampling table"):
        read_sampling_defaults(model_dir / SAMPLING_FILE)


def test_the_bundled_models_defaults_read_back():
    from studio.engine.paths import repo_models_dir

    path = repo_models_dir() / "demo" / SAMPLING_FILE
    assert path.is_file()
    measured = json.loads(path.read_text())["measured"]  # written by tools/tune_sampling.py from measurements
    d = read_sampling_defaults(path)
    assert list(d.temperature) == [measured["levels"][str(lv)]["chosen"] for lv in (0, 1, 2)]
    assert not (d.top_k and d.top_p)
