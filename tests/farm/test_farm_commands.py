"""The farm's faces without a cluster: a missing Ray is one clear message, and a local render never imports Ray."""

import json
import subprocess
import sys

from studio.cli import main
from tests.conftest import REPO


def test_a_missing_ray_is_one_message_naming_the_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as where it is not installed
    (tmp_path / "song.json").write_text(json.dumps({"seconds": 1}))
    (tmp_path / "songs.jsonl").write_text(json.dumps({"seconds": 1}) + "\n")
    for argv in (["render", str(tmp_path / "song.json"), "--out", str(tmp_path / "t"), "--ray"],
                 ["batch", str(tmp_path / "songs.jsonl"), "--out", str(tmp_path / "b"), "--ray", "10.0.0.1:6379"],
                 ["farm", "status"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == "error: the render farm needs Ray, which is not installed: pip install 'jukebox-studio[farm]'\n"
    assert not (tmp_path / "t").exists() and not (tmp_path / "b").exists()  # nothing made before the message


def test_a_local_render_never_imports_ray():
    code = ("import sys\nfrom studio.cli import main\ntry:\n    main(['render', '--help'])\nexcept SystemExit:\n"
            "    pass\nprint(sorted(n for n in sys.modules if n == 'ray' or n.startswith('studio.farm')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--ray [auto|ADDRESS]" in done.stdout  # the route is offered ...
    assert done.stdout.splitlines()[-1] == "[]"  # ... and nothing of it is loaded


def test_a_bad_batch_line_is_named(tmp_path, capsys):
    (tmp_path / "songs.jsonl").write_text(json.dumps({"seconds": 1}) + "\n" + json.dumps({"seconds": -1}) + "\n")
    assert main(["batch", str(tmp_path / "songs.jsonl"), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'songs.jsonl'}, line 2: 'seconds' must be")
