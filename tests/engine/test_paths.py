"""One model-lookup rule: the engine's model sets and the model store find the user's models in the same folder."""

from pathlib import Path

import pytest

from studio.engine.checkpoints import CheckpointError
from studio.engine.modelset import ModelSet
from studio.engine.paths import repo_models_dir, user_models_dir
from studio.modelstore import store


def _model_folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for stem in ("vqvae", "prior_level_0", "prior_level_1", "prior_level_2"):
        (folder / f"{stem}.safetensors").write_bytes(b"")  # found by name; networks load on first use
    return folder


def test_xdg_data_home_is_honoured_by_model_sets_and_the_store(tmp_path, monkeypatch):
    monkeypatch.delenv("JUKEBOX_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "jukebox-studio" / "models"
    assert user_models_dir() == store.default_models_dir() == expected
    folder = _model_folder(expected, "mine")
    ms = ModelSet.named("mine")
    assert ms.name == "mine" and ms.vqvae_path == folder / "vqvae.safetensors"
    assert ms.prior_paths == {lv: folder / f"prior_level_{lv}.safetensors" for lv in (0, 1, 2)}


def test_models_dir_variable_wins_and_home_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(tmp_path / "models"))
    assert user_models_dir() == store.default_models_dir() == tmp_path / "models"
    _model_folder(tmp_path / "xdg" / "jukebox-studio" / "models", "elsewhere")
    with pytest.raises(CheckpointError, match=r"model 'elsewhere' not found \(looked in") as err:
        ModelSet.named("elsewhere")  # only the one models directory is searched
    assert str(tmp_path / "models" / "elsewhere") in str(err.value)
    assert str(repo_models_dir() / "elsewhere") in str(err.value)
    monkeypatch.delenv("JUKEBOX_MODELS_DIR")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_models_dir() == tmp_path / "home" / ".local" / "share" / "jukebox-studio" / "models"


def test_the_bundled_demo_is_found_in_the_repositorys_models(tmp_path, monkeypatch):
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(tmp_path / "empty"))
    demo = Path(__file__).resolve().parents[2] / "models" / "demo"
    if not (demo / "vqvae.safetensors").is_file():
        pytest.skip("the bundled demo model is not in this checkout")
    assert ModelSet.named("demo").vqvae_path == demo / "vqvae.safetensors"
    assert [e.folder for e in store.discover() if e.source == "bundled"] == [demo]
