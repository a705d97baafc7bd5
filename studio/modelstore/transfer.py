"""One file over HTTP(S) with urllib: resume through Range requests, sha256 while streaming, atomic rename.

The bytes go to ``<dest>.part``; an interrupted or cancelled transfer leaves it for the next run, which asks for the
rest with ``Range: bytes=N-``. A server that ignores the range (status 200) restarts the file cleanly from 0. Nothing
here prints: progress goes to the ``progress`` callback.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlsplit

from studio.modelstore.errors import (
    ChecksumError, DownloadCancelled, DownloadError, DownloadInterrupted, OfflineError, human_bytes,
)

CHUNK = 1 << 20
USER_AGENT = "jukebox-studio-modelstore/1"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED = re.compile(r"bytes\s+\*/(\d+)")  # the Content-Range of a 416 reply


@dataclass(frozen=True)
class FetchResult:
    path: Path
    size: int
    sha256: str
    resumed_from: int  # bytes already in the .part file that the server agreed to continue from
    transferred: int  # bytes received over the network by this call (all attempts)


def _offline(url: str, reason: object) -> OfflineError:
    host = urlsplit(url).netloc or url
    if isinstance(reason, socket.gaierror):
        why = "the name does not resolve (DNS failure)"
    elif isinstance(reason, ConnectionRefusedError):
        why = "the connection was refused"
    elif isinstance(reason, (TimeoutError, socket.timeout)):
        why = "the connection timed out"
    else:
        why = str(reason)
    return OfflineError(f"cannot reach {host}: {why}; you may be offline, or the server is down",
                        "check your network connection, or pass --mirror URL (or set a mirror in the model dialog) "
                        "pointing at a server you can reach")


def open_url(url: str, headers: Optional[dict] = None, method: str = "GET", timeout: float = 30.0):
    """urlopen with our User-Agent; network failures become :class:`OfflineError`, HTTP errors stay HTTPError."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})}, method=method)
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError as exc:
        raise _offline(url, exc.reason) from exc
    except (ConnectionError, TimeoutError, socket.timeout) as exc:
        raise _offline(url, exc) from exc


def remote_size(url: str, timeout: float = 30.0) -> Optional[int]:
    """Content-Length from a HEAD request; None if the server does not say (or refuses HEAD)."""
    try:
        with open_url(url, method="HEAD", timeout=timeout) as resp:
            value = resp.headers.get("Content-Length")
            return int(value) if value and value.isdigit() else None
    except urllib.error.HTTPError as exc:
        if exc.code in (403, 404, 410):
            raise DownloadError(f"{url} answered HTTP {exc.code} {exc.reason}",
                                "check the model name, or that the mirror serves the official paths "
                                "(e.g. MIRROR/jukebox/models/5b/vqvae.pth.tar)") from exc
        return None


def _http_error(url: str, exc: urllib.error.HTTPError) -> DownloadError:
    return DownloadError(f"{url} answered HTTP {exc.code} {exc.reason}",
                         "check the model name and the mirror URL; try again later if the server is busy")


def fetch_file(url: str, dest: Path, *, expected_sha256: Optional[str] = None, expected_size: Optional[int] = None,
               progress: Optional[Callable[[int, Optional[int]], None]] = None,
               cancel: Optional[Callable[[], bool]] = None, retries: int = 2, timeout: float = 30.0,
               chunk_size: int = CHUNK) -> FetchResult:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), then verify and rename atomically.

    Args:
        expected_sha256: checked after the transfer (a pinned hash or the one recorded on first download).
        progress: ``progress(done_bytes, total_bytes_or_None)`` after every chunk.
        cancel: polled after every chunk; True stops with :class:`DownloadCancelled`, keeping the .part file.
        retries: automatic resumptions after a dropped connection before :class:`DownloadInterrupted`.

    Raises:
        OfflineError, DownloadError, DownloadInterrupted, DownloadCancelled, ChecksumError.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    transferred, attempts, first_offset = 0, 0, None
    while True:
        offset = part.stat().st_size if part.exists() else 0
        try:
            resp = open_url(url, {"Range": f"bytes={offset}-"} if offset else None, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:  # the .part is already as long as (or longer than) the file
                m = _UNSATISFIED.search(exc.headers.get("Content-Range", "") or "")
                total = int(m.group(1)) if m else None
                if total == offset:
                    if first_offset is None:
                        first_offset = offset
                    break
                part.unlink()
                continue
            raise _http_error(url, exc) from exc
        with resp:
            total, mode = _plan_write(resp, offset)
            if mode == "wb":
                offset = 0
            if first_offset is None:
                first_offset = offset
            if expected_size is not None and total is not None and total != expected_size:
                raise DownloadError(f"{url} is {total} B but {expected_size} B were recorded for it",
                                    "the server holds a different file; check the mirror, or pass --rehash")
            try:
                got = _stream(resp, part, mode, offset, total, progress, cancel, chunk_size)
                transferred += got
            except (http.client.IncompleteRead, ConnectionError, TimeoutError, socket.timeout, OSError) as exc:
                done = part.stat().st_size if part.exists() else 0
                transferred += max(0, done - offset)
                attempts += 1
                if attempts > retries:
                    raise DownloadInterrupted(
                        f"the transfer of {url} stopped after {human_bytes(done)}"
                        + (f" of {human_bytes(total)}" if total else "") + f" ({type(exc).__name__})",
                        "run the same command again: it resumes where it stopped", done, total) from exc
                continue
        size = part.stat().st_size
        if total is not None and size < total:  # closed early without an error
            attempts += 1
            if attempts > retries:
                raise DownloadInterrupted(f"the server closed {url} after {human_bytes(size)} of {human_bytes(total)}",
                                          "run the same command again: it resumes where it stopped", size, total)
            continue
        break
    digest = _hash(part)
    if expected_sha256 and digest != expected_sha256:
        bad = part.with_name(dest.name + ".corrupt")
        os.replace(part, bad)
        raise ChecksumError(f"{dest.name} from {url} has sha256 {digest[:16]}... but {expected_sha256[:16]}... was "
                            f"expected (kept as {bad.name})",
                            "run the download again; if it repeats, the server sends a different file: drop the "
                            "mirror, or pass --rehash to accept the new bytes")
    os.replace(part, dest)
    return FetchResult(dest, dest.stat().st_size, digest, first_offset or 0, transferred)


def _plan_write(resp, offset: int) -> tuple:
    """(total size or None, file mode): append on a matching 206, start over on a 200 or a mismatched range."""
    length = resp.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if resp.status == 206:
        m = _CONTENT_RANGE.search(resp.headers.get("Content-Range", "") or "")
        if m and int(m.group(1)) == offset:
            total = int(m.group(3)) if m.group(3).isdigit() else (offset + length if length is not None else None)
            return total, "ab"
        raise DownloadError(f"the server answered a range request with an unexpected range "
                            f"({resp.headers.get('Content-Range')!r})", "delete the .part file and try again")
    return length, "wb"  # 200: the whole file (a server that ignores Range); restart cleanly


def _stream(resp, part: Path, mode: str, offset: int, total, progress, cancel, chunk_size: int) -> int:
    got = 0
    with open(part, mode) as f:
        while True:
            chunk = resp.read(chunk_size)
            if not chunk:
                break
            f.write(chunk)
            got += len(chunk)
            if progress:
                progress(offset + got, total)
            if cancel and cancel():
                f.flush()
                raise DownloadCancelled("download cancelled", "run it again to resume where it stopped")
        f.flush()
        os.fsync(f.fileno())
    return got


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 << 20):
            h.update(chunk)
    return h.hexdigest()
