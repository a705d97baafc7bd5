"""The sampler process dies with its studio, however the studio ends: a real studio-side process (a SamplerThread
serving a sampler process) is killed, and the test waits on the sampler's own exit."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

STUDIO_SIDE = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QCoreApplication
    from studio.workers.sampling_worker import SamplerThread

    def main():
        app = QCoreApplication([])
        sampler = SamplerThread()
        sampler.worker.event.connect(lambda event: print(sampler.pid, flush=True))  # it serves: say its pid
        sampler.load_models("no-such-model")  # answered with ModelsFailed once the process runs
        sys.stdin.read()  # live until killed

    if __name__ == "__main__":
        main()
""")


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="waits on a non-child process's exit with a pidfd (Linux)")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_the_sampler_process_exits_when_its_studio_is_killed(tmp_path, how):
    script = tmp_path / "studio_side.py"
    script.write_text(STUDIO_SIDE)
    studio = subprocess.Popen([sys.executable, str(script)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(REPO)}, text=True)
    sampler_pid = None
    try:
        sampler_pid = int(studio.stdout.readline())
        waiter = os.pidfd_open(sampler_pid)
        poller = select.poll()
        poller.register(waiter, select.POLLIN)
        assert poller.poll(0) == []  # serving
        studio.send_signal(how)
        assert studio.wait(60) == -how
        assert poller.poll(60_000) != [], "the sampler process outlived its studio"  # a failure bound, not a sleep
        sampler_pid = None
    finally:
        if studio.poll() is None:
            studio.kill()
        if sampler_pid is not None:
            os.kill(sampler_pid, signal.SIGKILL)
