"""A real HTTP server on loopback, started per test, serving generated files with (or without) Range support."""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from studio.engine.configs import official_file
from studio.modelstore import catalog

SHARED = Path(__file__).resolve().parents[3] / "shared" / "jukebox-reference"


def make_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@dataclass
class Hit:
    method: str
    path: str
    range: str | None
    status: int
    sent: int  # body bytes written


@dataclass
class LoopbackServer:
    """Serves ``files`` ({url path: bytes}). Behaviour knobs can be changed while it runs."""

    files: dict
    honour_range: bool = True
    drop_after: int | None = None  # close the connection after this many body bytes...
    drops_left: int = 0  # ...for this many requests
    drop_path: str | None = None  # ...of this path only (None: any path)
    delay: float = 0.0  # seconds to sleep per 64 KiB written (to make a transfer slow enough to cancel)
    log: list = field(default_factory=list)  # Hit per request, appended by the handler threads
    url: str = ""
    # Requests still being handled. A client can have read the whole response before the handler thread records
    # its hit, so ``hits`` waits for the handlers to finish first (an event, not a sleep).
    active: int = 0
    idle: threading.Condition = field(default_factory=threading.Condition)

    @property
    def hits(self) -> list:
        with self.idle:
            if not self.idle.wait_for(lambda: self.active == 0, timeout=60):
                raise AssertionError("the loopback server is still handling a request after 60 s")
            return list(self.log)

    def sent_for(self, path: str) -> list:
        return [h for h in self.hits if h.path == path and h.method == "GET"]


def _handler(state: LoopbackServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

        def _serve(self, head: bool):
            path = self.path.split("?")[0]
            data = state.files.get(path)
            rng = self.headers.get("Range")
            if data is None:
                self.send_error(404, "not here")
                state.log.append(Hit(self.command, path, rng, 404, 0))
                return
            start, status = 0, 200
            m = re.fullmatch(r"bytes=(\d+)-", rng or "")
            if m and state.honour_range and not head:
                start = int(m.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    state.log.append(Hit(self.command, path, rng, 416, 0))
                    return
                status = 206
            body = data[start:]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes" if state.honour_range else "none")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if head:
                state.log.append(Hit("HEAD", path, rng, status, 0))
                return
            limit = len(body)
            if state.drop_after is not None and state.drops_left > 0 and state.drop_path in (None, path):
                state.drops_left -= 1
                limit = min(limit, state.drop_after)
            sent = 0
            try:
                while sent < limit:
                    piece = body[sent:min(limit, sent + 65536)]
                    self.wfile.write(piece)
                    sent += len(piece)
                    if state.delay:
                        time.sleep(state.delay)
            except (BrokenPipeError, ConnectionResetError):
                pass
            state.log.append(Hit("GET", path, rng, status, sent))
            if limit < len(body):
                self.wfile.flush()
                self.close_connection = True

        def _handle(self, head: bool):
            with state.idle:
                state.active += 1
            try:
                self._serve(head)
            finally:
                with state.idle:
                    state.active -= 1
                    state.idle.notify_all()

        def do_GET(self):
            self._handle(head=False)

        def do_HEAD(self):
            self._handle(head=True)

    return Handler


@pytest.fixture
def serve():
    """``serve(files, **knobs) -> LoopbackServer`` on 127.0.0.1 with a free port; stopped after the test."""
    servers = []

    def start(files: dict, **knobs) -> LoopbackServer:
        state = LoopbackServer(files=dict(files), **knobs)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        servers.append(httpd)
        return state

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


# --- a fake official tree: small generated checkpoints and tables, served under the official paths -------------

SIZES = {"vqvae": 1_200_000, 0: 2_000_000, 1: 2_000_000, 2: 3_000_000}


def official_tree(name: str) -> dict:
    """{url path: bytes} for every file of ``name`` under the mirror layout (jukebox/models, jukebox/data/ids)."""
    files = {}
    for i, level in enumerate(("vqvae", 0, 1, 2)):
        rel = official_file(name, level)
        seed = zlib.crc32(rel.encode()) if level == 2 else i  # shared files identical across models
        files[f"/{catalog.WEIGHTS_PREFIX}{rel}"] = make_bytes(SIZES[level], seed + 1)
    for t in catalog.IDS_SHA256:
        files[f"/{catalog.IDS_PREFIX}{t}"] = f"unknown;0\nartist {t};1\n".encode()
    return files


@pytest.fixture
def fake_ids(monkeypatch):
    """Pin the generated tables' sha256 in place of the real ones (the real ones are checked separately)."""
    for t in list(catalog.IDS_SHA256):
        data = f"unknown;0\nartist {t};1\n".encode()
        monkeypatch.setitem(catalog.IDS_SHA256, t, hashlib.sha256(data).hexdigest())


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    d = tmp_path / "models"
    monkeypatch.setenv("JUKEBOX_MODELS_DIR", str(d))
    return d
