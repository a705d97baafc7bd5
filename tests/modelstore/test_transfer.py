"""fetch_file against a real loopback HTTP server: full, cut and resumed, Range ignored, offline, bad checksum."""

from __future__ import annotations

import hashlib
import socket

import pytest

from studio.modelstore import (
    ChecksumError, DownloadCancelled, DownloadError, DownloadInterrupted, OfflineError, fetch_file,
)
from tests.modelstore.conftest import make_bytes

MB = 1 << 20
DATA = make_bytes(5 * MB + 123, seed=7)
SHA = hashlib.sha256(DATA).hexdigest()


def test_full_download_writes_the_exact_bytes_and_renames_atomically(serve, tmp_path):
    server = serve({"/f.bin": DATA})
    seen = []
    result = fetch_file(server.url + "/f.bin", tmp_path / "sub" / "f.bin", expected_sha256=SHA,
                        progress=lambda d, t: seen.append((d, t)))
    out = tmp_path / "sub" / "f.bin"
    assert out.read_bytes() == DATA
    assert not (tmp_path / "sub" / "f.bin.part").exists()
    assert (result.size, result.sha256, result.resumed_from, result.transferred) == (len(DATA), SHA, 0, len(DATA))
    assert seen[-1] == (len(DATA), len(DATA)) and all(t == len(DATA) for _, t in seen)
    assert [h.range for h in server.sent_for("/f.bin")] == [None]


def test_cut_then_resume_transfers_only_the_remainder(serve, tmp_path):
    server = serve({"/f.bin": DATA}, drop_after=2 * MB, drops_left=1)
    dest = tmp_path / "f.bin"
    with pytest.raises(DownloadInterrupted) as err:
        fetch_file(server.url + "/f.bin", dest, retries=0)
    assert "run the same command again" in str(err.value)
    part = tmp_path / "f.bin.part"
    assert part.stat().st_size == 2 * MB and not dest.exists()
    assert err.value.done == 2 * MB and err.value.total == len(DATA)

    result = fetch_file(server.url + "/f.bin", dest, expected_sha256=SHA, retries=0)
    assert dest.read_bytes() == DATA and not part.exists()
    second = server.sent_for("/f.bin")[-1]
    assert second.range == f"bytes={2 * MB}-" and second.status == 206
    assert second.sent == len(DATA) - 2 * MB
    assert result.resumed_from == 2 * MB and result.transferred == len(DATA) - 2 * MB


def test_dropped_connection_is_resumed_automatically_within_retries(serve, tmp_path):
    server = serve({"/f.bin": DATA}, drop_after=1 * MB, drops_left=2)
    result = fetch_file(server.url + "/f.bin", tmp_path / "f.bin", expected_sha256=SHA, retries=2)
    assert (tmp_path / "f.bin").read_bytes() == DATA
    assert [h.range for h in server.sent_for("/f.bin")] == [None, f"bytes={MB}-", f"bytes={2 * MB}-"]
    assert result.transferred == len(DATA)


def test_server_that_ignores_range_restarts_the_file_cleanly(serve, tmp_path):
    server = serve({"/f.bin": DATA}, honour_range=False)
    (tmp_path / "f.bin.part").write_bytes(b"\x00" * MB)  # stale bytes that must not survive
    result = fetch_file(server.url + "/f.bin", tmp_path / "f.bin", expected_sha256=SHA)
    assert (tmp_path / "f.bin").read_bytes() == DATA
    hit = server.sent_for("/f.bin")[0]
    assert hit.range == f"bytes={MB}-" and hit.status == 200
    assert result.resumed_from == 0 and result.transferred == len(DATA)


def test_part_file_already_complete_is_finished_without_a_transfer(serve, tmp_path):
    server = serve({"/f.bin": DATA})
    (tmp_path / "f.bin.part").write_bytes(DATA)
    result = fetch_file(server.url + "/f.bin", tmp_path / "f.bin", expected_sha256=SHA)
    assert result.transferred == 0 and (tmp_path / "f.bin").read_bytes() == DATA
    assert server.sent_for("/f.bin")[0].status == 416


def test_closed_port_means_offline_with_a_fix(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OfflineError) as err:
        fetch_file(f"http://127.0.0.1:{port}/f.bin", tmp_path / "f.bin", timeout=5)
    msg = str(err.value)
    assert f"cannot reach 127.0.0.1:{port}: the connection was refused" in msg and "Fix: " in msg
    assert "--mirror" in msg
    assert not list(tmp_path.iterdir())


def test_dns_failure_means_offline(tmp_path, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(OfflineError, match="does not resolve"):
        fetch_file("http://models.example/f.bin", tmp_path / "f.bin", timeout=5)


def test_checksum_mismatch_keeps_the_bytes_aside_and_names_both_hashes(serve, tmp_path):
    server = serve({"/f.bin": DATA})
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as err:
        fetch_file(server.url + "/f.bin", tmp_path / "f.bin", expected_sha256=wrong)
    assert SHA[:16] in str(err.value) and wrong[:16] in str(err.value)
    assert not (tmp_path / "f.bin").exists()
    assert (tmp_path / "f.bin.corrupt").read_bytes() == DATA


def test_cancel_keeps_the_part_file_for_later(serve, tmp_path):
    server = serve({"/f.bin": DATA})
    calls = []
    with pytest.raises(DownloadCancelled):
        fetch_file(server.url + "/f.bin", tmp_path / "f.bin", cancel=lambda: calls.append(1) or len(calls) >= 2,
                   chunk_size=MB)
    assert (tmp_path / "f.bin.part").stat().st_size == 2 * MB
    assert not (tmp_path / "f.bin").exists()


def test_missing_file_is_an_http_error_naming_the_status(serve, tmp_path):
    server = serve({})
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_file(server.url + "/nope.bin", tmp_path / "nope.bin")
