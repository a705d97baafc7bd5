"""The artist and genre map: a deterministic t-SNE that keeps planted clusters, cached once per table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.engine.label_map import LabelLayout, cache_dir, landmark_tsne, layout, model_layouts, named_rows, tsne
from studio.engine.labels import normalise_v2


def planted(n_per: int = 15, n_clusters: int = 4, width: int = 24, seed: int = 3):
    """Rows around ``n_clusters`` far-apart centres, and each row's cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, width))
    cluster = np.repeat(np.arange(n_clusters), n_per)
    rows = centres[cluster] + 0.05 * rng.normal(size=(len(cluster), width))
    return rows.astype(np.float32), cluster


def assert_clusters_kept(xy: np.ndarray, cluster: np.ndarray) -> None:
    """Every point's nearest neighbour is of its own cluster, and same-cluster pairs lie far closer than others."""
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert (cluster[d.argmin(1)] == cluster).all()
    same = cluster[:, None] == cluster[None]
    np.fill_diagonal(same, False)
    other = cluster[:, None] != cluster[None]
    assert d[same].max() < d[other].min()


def test_planted_clusters_stay_together_and_apart():
    rows, cluster = planted()
    xy = tsne(rows)
    assert xy.shape == (60, 2) and np.isfinite(xy).all()
    assert_clusters_kept(xy, cluster)


def test_wide_tables_keep_their_clusters_through_the_randomised_pca():
    rows, cluster = planted(n_per=30, width=300)  # 120 rows of 300: wider and taller than twice the 50 PCA dims
    assert_clusters_kept(tsne(rows), cluster)


def test_the_layout_is_deterministic():
    rows, _ = planted(seed=5)
    assert np.array_equal(tsne(rows), tsne(rows))
    assert np.array_equal(tsne(rows, seed=1), tsne(rows, seed=1))


def test_small_sets_adapt_the_perplexity():
    rows, cluster = planted(n_per=4, n_clusters=2)  # 8 rows: perplexity 30 could not be reached
    xy = tsne(rows)
    assert np.isfinite(xy).all()
    assert_clusters_kept(xy, cluster)
    assert tsne(rows[:1]).shape == (1, 2) and tsne(rows[:0]).shape == (0, 2)


def test_landmarks_place_the_rows_past_the_exact_limit_with_their_cluster():
    rows, cluster = planted(n_per=30, n_clusters=3)
    xy = landmark_tsne(rows, exact_max=40)  # 40 laid out exactly, 50 placed among them
    assert xy.shape == (90, 2) and np.isfinite(xy).all()
    assert_clusters_kept(xy, cluster)


def test_named_rows_skip_unknown_aliases_and_rows_the_model_lacks():
    table = {"unknown": 0, "various": 0, "": 0, "alan_jackson": 3, "alan_jackson_band": 3, "bach": 1, "beyond": 9}
    names, ids = named_rows(table, 5)
    assert names == ("bach", "alan jackson") and ids.tolist() == [1, 3]


def table_of(n: int) -> dict:
    return {"unknown": 0, **{f"artist_{i}": i for i in range(1, n + 1)}}


def test_a_second_layout_reads_the_cache_and_a_changed_table_recomputes(tmp_path):
    rows, _ = planted(n_per=6, n_clusters=3)
    weights = np.vstack([np.zeros((1, rows.shape[1]), np.float32), rows])  # row 0: "unknown"
    first = layout("artist", table_of(18), weights, tmp_path)
    files = list(tmp_path.glob("artist-*.json"))
    assert len(files) == 1
    assert first.names == tuple(f"artist {i}" for i in range(1, 19)) and first.ids.tolist() == list(range(1, 19))
    # the cache is what is read: a layout written into the file comes back as it is, not recomputed
    data = json.loads(files[0].read_text())
    data["x"] = [float(i) for i in range(18)]
    files[0].write_text(json.dumps(data))
    again = layout("artist", table_of(18), weights, tmp_path)
    assert again.x.tolist() == [float(i) for i in range(18)]
    assert np.array_equal(again.y, first.y) and again.names == first.names
    # another row of the table (a retrained model) is another key: computed afresh, the old file left alone
    changed = weights.copy()
    changed[4] += 0.5
    fresh = layout("artist", table_of(18), changed, tmp_path)
    assert len(list(tmp_path.glob("artist-*.json"))) == 2
    assert not np.array_equal(fresh.x, again.x)
    # so is another name for a row
    renamed = {**table_of(18), "artist_18": 0, "someone_else": 18}
    assert layout("artist", renamed, weights, tmp_path).names[-1] == "someone else"
    assert len(list(tmp_path.glob("artist-*.json"))) == 3


def test_a_damaged_cache_file_is_computed_again(tmp_path):
    rows, _ = planted(n_per=5, n_clusters=2)
    first = layout("genre", table_of(10), np.vstack([rows[:1], rows]), tmp_path)
    (path,) = tmp_path.glob("genre-*.json")
    path.write_text("{not json")
    again = layout("genre", table_of(10), np.vstack([rows[:1], rows]), tmp_path)
    assert np.array_equal(again.x, first.x) and json.loads(path.read_text())["names"] == list(first.names)


def test_the_cache_lives_in_the_user_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "jukebox-studio" / "label-maps"


def test_search_highlights_holders_and_enter_finds_the_nearest_spelling():
    names = ("wolfgang amadeus mozart", "leopold mozart", "johann sebastian bach")
    found = LabelLayout("artist", names, np.arange(1, 4), np.zeros(3, np.float32), np.zeros(3, np.float32))
    assert found.matching("Mozart").tolist() == [0, 1]
    assert found.matching("zzz").tolist() == []
    assert found.best_match("leopold") == 1
    assert found.best_match("Mozrat") in (0, 1) and found.best_match("Bahc") == 2
    assert found.best_match("qqqq") is None


def test_the_demo_models_map_names_each_point_by_its_own_id(tmp_path):
    from studio.engine.modelset import ModelSet

    try:
        prior = ModelSet.named("demo").prior(2)
    except (FileNotFoundError, OSError) as exc:
        pytest.skip(f"the demo model is not installed: {exc}")
    artists, genres = model_layouts(prior, tmp_path)
    labeller = prior.labeller
    for found, table in ((artists, labeller.artists), (genres, labeller.genres)):
        assert len(found.names) == len({i for n, i in table.items() if n and i != 0}) > 5
        for name, idx in zip(found.names, found.ids):
            assert table[normalise_v2(name)] == idx
        assert np.isfinite(found.x).all() and len(found.x) == len(found.names)
    assert {p.name.split("-")[0] for p in tmp_path.glob("*.json")} == {"artist", "genre"}
