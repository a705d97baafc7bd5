"""tools/package_demo.py --replace: one prior of a longer run goes into a model folder only when the run's label
tables extend the folder's (every name keeps the id the other priors learned); the manifest then lists its bytes."""

import json
import shutil
import sys
from pathlib import Path

from studio.engine import save_model
from studio.engine.modelset import ModelSet

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import package_demo  # noqa: E402


def _folder(tiny_models, tmp_path) -> Path:
    from tests.conftest import write_model_folder

    return write_model_folder(tiny_models, tmp_path / "dest")


def _run(folder: Path, tmp_path: Path, artists: str) -> Path:
    """A run folder holding a copy of the folder's top prior and tables with ``artists`` appended."""
    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    save_model(ModelSet.from_folder(folder).prior(2), run / "model" / "prior_level_2", extra={"trained_steps": 9})
    shutil.copytree(folder / "ids", run / "model" / "ids")
    table = run / "model" / "ids" / "v2_artist_ids.txt"
    table.write_text(artists(table.read_text()))
    return run


def test_a_run_whose_tables_extend_the_folders_replaces_its_prior(tiny_models, tmp_path):
    folder = _folder(tiny_models, tmp_path)
    old = (folder / "ids" / "v2_artist_ids.txt").read_text()
    run = _run(folder, tmp_path, lambda t: t.rstrip("\n") + "\nnew_singer;99999\n")
    assert package_demo.main(["--replace", "2", str(run), "--dest", str(folder)]) == 0
    table = (folder / "ids" / "v2_artist_ids.txt").read_text()
    assert table.startswith(old.rstrip("\n")) and table.endswith("new_singer;99999\n")
    assert '"trained_steps": 9' in (folder / "prior_level_2.json").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {f["path"]: f["size"] for f in manifest["files"]}
    assert listed["prior_level_2.safetensors"] == (folder / "prior_level_2.safetensors").stat().st_size
    assert ModelSet.from_folder(folder).prior(2).cfg.level == 2  # the folder still loads, its digests intact


def test_a_run_that_renumbers_a_name_is_refused_and_nothing_is_copied(tiny_models, tmp_path, capsys):
    folder = _folder(tiny_models, tmp_path)
    before = {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    run = _run(folder, tmp_path, lambda t: "\n".join(reversed(t.strip().splitlines())) + "\n")
    assert package_demo.main(["--replace", "2", str(run), "--dest", str(folder)]) == 2
    assert "does not extend" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
