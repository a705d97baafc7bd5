"""`studio models labels`: the artists and genres a model's own tables hold, searched by name."""

from __future__ import annotations

from studio.cli import main


def test_labels_lists_the_bundled_models_names_readably(models_dir, capsys):
    assert main(["models", "labels", "demo"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "demo: 29 artists:" and "  johann sebastian bach" in out and "  wolfgang amadeus mozart" in out
    assert "  jacopo da bologna" in out  # the 8-hour set's name, added with the bottom upsampler trained on it
    assert "demo: 19 genres:" in out and "  chorale" in out and "  waltz" in out and "  unknown" not in out


def test_labels_search_filters_and_answers_a_misspelling(models_dir, capsys):
    assert main(["models", "labels", "demo", "--search", "bach"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["demo: 2 artists holding 'bach':", "  c p e bach", "  johann sebastian bach"]
    assert main(["models", "labels", "demo", "--genres", "--search", "jigg"]) == 0
    assert capsys.readouterr().out.splitlines() == ["demo: no genre holds 'jigg'; the nearest:", "  jig"]
    assert main(["models", "labels", "demo", "--artists", "--search", "Mozart"]) == 0
    assert capsys.readouterr().out.splitlines() == ["demo: 1 artist holding 'Mozart':", "  wolfgang amadeus mozart"]


def test_labels_of_an_unknown_model_is_one_message_and_exit_1(models_dir, capsys):
    assert main(["models", "labels", "no_such_model"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "no model named 'no_such_model'" in captured.err


def test_labels_of_a_folder_without_tables_says_how_to_get_them(models_dir, tmp_path, capsys):
    folder = tmp_path / "bare"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "bare", "files": {}}')
    assert main(["models", "labels", str(folder)]) == 1
    assert "no artist/genre tables" in capsys.readouterr().err
