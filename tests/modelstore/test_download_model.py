"""download_model end to end against a loopback mirror: layout, manifest, licence, disk space, reuse, verify."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import namedtuple

import pytest

from studio.modelstore import (
    DiskSpaceError, LicenceNotAccepted, Manifest, OfflineError, Settings, Status, check_folder, download_model,
    official_files,
)
from studio.modelstore import catalog
from tests.modelstore.conftest import SHARED, official_tree

EXPECTED_1B = [
    "ids/v2_artist_ids.txt", "ids/v2_genre_ids.txt", "ids/v3_artist_ids.txt", "ids/v3_genre_ids.txt",
    "5b/vqvae.pth.tar", "5b/prior_level_0.pth.tar", "5b/prior_level_1.pth.tar", "1b_lyrics/prior_level_2.pth.tar",
]


def test_official_urls_and_mirror_paths():
    official = {s.path: s.url for s in official_files("5b_lyrics")}
    assert official["5b/vqvae.pth.tar"] == "https://openaipublic.azureedge.net/jukebox/models/5b/vqvae.pth.tar"
    assert official["5b_lyrics/prior_level_2.pth.tar"] == \
        "https://openaipublic.azureedge.net/jukebox/models/5b_lyrics/prior_level_2.pth.tar"
    assert official["ids/v2_genre_ids.txt"] == \
        "https://raw.githubusercontent.com/openai/jukebox/master/jukebox/data/ids/v2_genre_ids.txt"
    assert "ids/v3_artist_ids.txt" not in official  # v3 tables only serve 1b_lyrics
    mirrored = {s.path: s.url for s in official_files("1b_lyrics", "http://m.local/base/")}
    assert mirrored["5b/prior_level_1.pth.tar"] == "http://m.local/base/jukebox/models/5b/prior_level_1.pth.tar"
    assert mirrored["ids/v3_genre_ids.txt"] == "http://m.local/base/jukebox/data/ids/v3_genre_ids.txt"
    assert list(mirrored) == EXPECTED_1B


@pytest.mark.skipif(not (SHARED / "ids").is_dir(), reason="shared/jukebox-reference not present")
def test_pinned_table_hashes_match_the_upstream_copies():
    for name, digest in catalog.IDS_SHA256.items():
        assert hashlib.sha256((SHARED / "ids" / name).read_bytes()).hexdigest() == digest


def test_full_download_fills_the_documented_layout(serve, models_dir, fake_ids):
    tree = official_tree("1b_lyrics")
    server = serve(tree)
    events = []
    result = download_model("1b_lyrics", models_dir, mirror=server.url, accept=True, progress=events.append)
    folder = models_dir / "1b_lyrics"
    assert result.folder == folder
    for rel in EXPECTED_1B:
        prefix = catalog.IDS_PREFIX if rel.startswith("ids/") else catalog.WEIGHTS_PREFIX
        served = tree["/" + prefix + rel.removeprefix("ids/")]
        assert (folder / rel).read_bytes() == served
    assert not list(folder.rglob("*.part"))
    assert result.transferred == sum(len(b) for b in tree.values())

    m = json.loads((folder / "manifest.json").read_text())
    assert m["name"] == "1b_lyrics" and m["kind"] == "official" and m["format"] == 1
    assert [f["path"] for f in m["files"]] == EXPECTED_1B
    for f in m["files"]:
        assert f["size"] == (folder / f["path"]).stat().st_size
        assert f["sha256"] == hashlib.sha256((folder / f["path"]).read_bytes()).hexdigest()
    assert m["licence"]["accepted"] is True and m["licence"]["accepted_at"]
    assert "No portion" not in m["licence"]["text"] and "commercial purposes" in m["licence"]["text"]
    assert "github.com/openai/jukebox/blob/master/LICENSE" in m["licence"]["text"]
    assert check_folder(folder, deep=True).status is Status.COMPLETE
    assert events[-1].stage == "done" and {e.stage for e in events} >= {"plan", "download"}

    again = download_model("1b_lyrics", models_dir, mirror=server.url)  # accepted once: no flag needed now
    assert again.transferred == 0 and len(again.skipped) == len(EXPECTED_1B)


def test_licence_must_be_accepted_before_any_request(serve, models_dir, fake_ids):
    server = serve(official_tree("5b"))
    with pytest.raises(LicenceNotAccepted) as err:
        download_model("5b", models_dir, mirror=server.url)
    assert "--accept-licence" in str(err.value)
    assert server.hits == [] and not (models_dir / "5b").exists()


def test_short_disk_is_refused_before_starting(serve, models_dir, fake_ids, monkeypatch):
    tree = official_tree("5b")
    server = serve(tree)
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 1_000_000, 1_000_000))
    with pytest.raises(DiskSpaceError) as err:
        download_model("5b", models_dir, mirror=server.url, accept=True)
    need = sum(len(tree["/" + (catalog.IDS_PREFIX if s.path.startswith("ids/") else catalog.WEIGHTS_PREFIX)
                        + s.path.removeprefix("ids/")]) for s in official_files("5b"))
    assert err.value.need == need and err.value.free == 1_000_000
    assert "1.0 MB free" in str(err.value) and "--to DIR" in str(err.value)
    assert [h for h in server.hits if h.method == "GET"] == []  # sizes asked with HEAD only
    assert not list((models_dir / "5b").rglob("*.part"))


def test_offline_download_names_the_cause(models_dir, fake_ids):
    with pytest.raises(OfflineError, match="connection was refused"):
        download_model("1b_lyrics", models_dir, mirror="http://127.0.0.1:9", accept=True, timeout=5)


def test_cut_download_resumes_on_the_next_run(serve, models_dir, fake_ids):
    tree = official_tree("1b_lyrics")
    cut = "/jukebox/models/5b/prior_level_0.pth.tar"
    server = serve(tree, drop_after=500_000, drops_left=1, drop_path=cut)
    with pytest.raises(Exception, match="resumes where it stopped"):
        download_model("1b_lyrics", models_dir, mirror=server.url, accept=True, retries=0)
    first = [h for h in server.hits if h.method == "GET"][-1]
    assert first.path == cut and first.sent == 500_000
    done = Manifest.load(models_dir / "1b_lyrics")
    result = download_model("1b_lyrics", models_dir, mirror=server.url)
    resumed = server.sent_for(first.path)[-1]
    assert resumed.range == "bytes=500000-" and resumed.sent == len(tree[first.path]) - 500_000
    already = sum(f.size for f in done.files if f.size)
    assert result.transferred == sum(len(b) for b in tree.values()) - already - 500_000
    assert check_folder(models_dir / "1b_lyrics", deep=True).status is Status.COMPLETE


def test_shared_files_are_linked_from_a_sibling_model(serve, models_dir, fake_ids):
    tree = {**official_tree("1b_lyrics"), **official_tree("5b_lyrics")}
    server = serve(tree)
    download_model("1b_lyrics", models_dir, mirror=server.url, accept=True)
    result = download_model("5b_lyrics", models_dir, mirror=server.url)
    assert set(result.reused) == {"5b/vqvae.pth.tar", "5b/prior_level_0.pth.tar", "5b/prior_level_1.pth.tar"}
    a, b = models_dir / "1b_lyrics" / "5b" / "vqvae.pth.tar", models_dir / "5b_lyrics" / "5b" / "vqvae.pth.tar"
    assert a.stat().st_ino == b.stat().st_ino
    top = tree["/jukebox/models/5b_lyrics/prior_level_2.pth.tar"]
    assert result.transferred == len(top) + sum(len(tree["/jukebox/data/ids/" + t]) for t in
                                                ("v2_artist_ids.txt", "v2_genre_ids.txt"))
    assert check_folder(models_dir / "5b_lyrics", deep=True).status is Status.COMPLETE


def test_verify_catches_corruption_and_a_new_download_repairs_it(serve, models_dir, fake_ids):
    server = serve(official_tree("1b_lyrics"))
    download_model("1b_lyrics", models_dir, mirror=server.url, accept=True)
    folder = models_dir / "1b_lyrics"
    target = folder / "5b" / "prior_level_0.pth.tar"
    raw = bytearray(target.read_bytes())
    raw[1000] ^= 0xFF  # same size, different bytes: only the sha256 pass sees it
    target.write_bytes(bytes(raw))
    assert check_folder(folder).status is Status.COMPLETE
    deep = check_folder(folder, deep=True)
    assert deep.status is Status.CORRUPT
    assert [(f.path, f.status) for f in deep.problems] == [("5b/prior_level_0.pth.tar", Status.CORRUPT)]
    (folder / "5b" / "vqvae.pth.tar").write_bytes(b"short")
    quick = check_folder(folder)
    assert quick.status is Status.CORRUPT and "size 5 B, expected 1200000 B" in quick.problems[0].detail
    (folder / "1b_lyrics" / "prior_level_2.pth.tar").unlink()
    assert any(f.status is Status.MISSING for f in check_folder(folder).files)
    target.unlink()
    result = download_model("1b_lyrics", models_dir, mirror=server.url)
    assert set(result.fetched) == {"5b/vqvae.pth.tar", "5b/prior_level_0.pth.tar", "1b_lyrics/prior_level_2.pth.tar"}
    assert check_folder(folder, deep=True).status is Status.COMPLETE


def test_mirror_setting_is_used_when_none_is_given(serve, models_dir, fake_ids):
    server = serve(official_tree("1b_lyrics"))
    Settings(mirror=server.url).save(models_dir)
    download_model("1b_lyrics", models_dir, accept=True)
    assert {h.path for h in server.hits if h.method == "GET"} == {"/" + (catalog.IDS_PREFIX if p.startswith("ids/")
                                                                         else catalog.WEIGHTS_PREFIX)
                                                                  + p.removeprefix("ids/") for p in EXPECTED_1B}
    assert json.loads((models_dir / "settings.json").read_text())["licence_accepted_at"]


def test_files_copied_in_by_hand_are_adopted_not_downloaded(serve, models_dir, fake_ids):
    tree = official_tree("1b_lyrics")
    server = serve(tree)
    folder = models_dir / "1b_lyrics"
    (folder / "5b").mkdir(parents=True)
    vq = tree["/jukebox/models/5b/vqvae.pth.tar"]
    (folder / "5b" / "vqvae.pth.tar").write_bytes(vq)  # e.g. from the reference's ~/.cache/jukebox/models
    result = download_model("1b_lyrics", models_dir, mirror=server.url, accept=True)
    assert "5b/vqvae.pth.tar" in result.skipped and server.sent_for("/jukebox/models/5b/vqvae.pth.tar") == []
    entry = Manifest.load(folder).entry("5b/vqvae.pth.tar")
    assert (entry.size, entry.sha256) == (len(vq), hashlib.sha256(vq).hexdigest())
