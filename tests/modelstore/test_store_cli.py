"""Discovery of model folders, the settings file, and the `studio models` command."""

from __future__ import annotations

import json

import pytest

from studio.cli import main
from studio.modelstore import (
    Manifest, Settings, Status, UnknownModelError, check_folder, discover, find_model, set_mirror,
)
from studio.modelstore import store
from tests.modelstore.conftest import official_tree


def _model(folder, name, files=None, **extra):
    folder.mkdir(parents=True)
    files = files or {"weights.safetensors": b"12345678"}
    for rel, data in files.items():
        (folder / rel).write_bytes(data)
    manifest = {"name": name, "files": {rel: {"size": len(d)} for rel, d in files.items()}, **extra}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_discovery_finds_user_bundled_and_pointed_folders(tmp_path, models_dir, monkeypatch):
    _model(models_dir / "mine", "mine")
    bundled = tmp_path / "repo_models"
    _model(bundled / "demo", "demo", card="a model card")
    monkeypatch.setattr(store, "repo_models_dir", lambda: bundled)
    pointed = tmp_path / "elsewhere" / "loose"
    _model(pointed, "loose")
    (models_dir / "not_a_model").mkdir()
    (models_dir / "broken").mkdir()
    (models_dir / "broken" / "manifest.json").write_text("{not json")
    errors = []
    found = discover(extra=[pointed, pointed.parent], errors=errors)
    assert [(e.name, e.source) for e in found] == [("mine", "user"), ("demo", "bundled"), ("loose", "pointed")]
    assert len(errors) == 1 and "broken" in str(errors[0]) and "Fix:" in str(errors[0])
    demo = found[1].manifest
    assert demo.extra["card"] == "a model card" and demo.files[0].size == 8
    assert check_folder(found[1].folder).status is Status.COMPLETE
    demo.save(found[1].folder)  # rewriting keeps unknown keys
    assert json.loads((found[1].folder / "manifest.json").read_text())["card"] == "a model card"


def test_find_model_by_name_or_folder_and_a_clear_miss(tmp_path, models_dir):
    _model(models_dir / "mine", "mine")
    assert find_model("mine").folder == models_dir / "mine"
    assert find_model(str(models_dir / "mine")).source == "pointed"
    with pytest.raises(UnknownModelError) as err:
        find_model("5b")
    assert "no model named '5b'" in str(err.value) and "studio models download 5b" in str(err.value)
    with pytest.raises(UnknownModelError, match="has no manifest.json"):
        find_model(str(tmp_path))


def test_default_dir_and_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("JUKEBOX_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store.default_models_dir() == tmp_path / "xdg" / "jukebox-studio" / "models"
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(tmp_path / "m"))
    assert store.default_models_dir() == tmp_path / "m"
    set_mirror(tmp_path / "m", "http://mirror.local/")
    assert Settings.load(tmp_path / "m").mirror == "http://mirror.local/"
    with pytest.raises(ValueError, match="not an http"):
        set_mirror(tmp_path / "m", "ftp://x")


def test_cli_download_list_verify(serve, models_dir, fake_ids, capsys):
    server = serve(official_tree("1b_lyrics"))
    assert main(["models", "download", "1b_lyrics", "--mirror", server.url]) == 2  # stdin is not a terminal
    out = capsys.readouterr()
    assert "Noncommercial" in out.out and "--accept-licence" in out.err
    assert main(["models", "download", "1b_lyrics", "--mirror", server.url, "--save-mirror",
                 "--accept-licence"]) == 0
    out = capsys.readouterr()
    assert "done: 1b_lyrics" in out.out and "[##############################] 100%" in out.err
    assert Settings.load(models_dir).mirror == server.url

    assert main(["models", "list"]) == 0
    assert "1b_lyrics      complete" in capsys.readouterr().out
    assert main(["models", "verify", "1b_lyrics"]) == 0
    assert "1b_lyrics (" in capsys.readouterr().out
    ids = models_dir / "1b_lyrics" / "ids" / "v2_genre_ids.txt"
    ids.write_bytes(ids.read_bytes()[::-1])
    assert main(["models", "verify", str(models_dir / "1b_lyrics")]) == 1
    out = capsys.readouterr().out
    assert "BAD ids/v2_genre_ids.txt: sha256" in out and "fix: delete the damaged files" in out


def test_cli_reports_offline_and_memory_refusal(models_dir, fake_ids, capsys):
    assert main(["models", "download", "5b", "--mirror", "http://127.0.0.1:9", "--accept-licence"]) == 2
    assert "error: cannot reach 127.0.0.1:9: the connection was refused" in capsys.readouterr().err
    assert main(["models", "check", "5b_lyrics", "--device", "cpu", "--level", "2", "--batch", "4000"]) == 2
    err = capsys.readouterr().err
    assert "error: 5b_lyrics level 2" in err and "Fix:" in err
    assert main(["models", "licence"]) == 0
    assert "https://github.com/openai/jukebox/blob/master/LICENSE" in capsys.readouterr().out
    assert main(["models", "mirror", "http://m.local/"]) == 0 and "http://m.local/" in capsys.readouterr().out
    assert Manifest  # the public API stays importable alongside the CLI


def test_modelstore_imports_no_qt_and_no_requests():
    import subprocess
    import sys

    code = ("import sys, studio.modelstore, studio.modelstore.cli, studio.modelstore.hardware; "
            "print(sorted(m for m in ('PySide6', 'pyqtgraph', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
