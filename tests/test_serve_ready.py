"""The launcher as a container runs it: the ready file (what the health check waits for) appears only
once the server is warmed, and SIGTERM, while warming or after, stops every process it started."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bnviz.ui.lessons import MEASURING
from bnviz.ui.visit import visit_sync
from tests.processes import alive, descendants

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(base: str) -> bool:
    try:
        return urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def _launch(tmp_path):
    port, ready = _free_port(), tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-m", "bnviz.ui.serve", "--port", str(port), "--address", "127.0.0.1",
                             "--log-to-stdout", "--ready-file", str(ready)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while not _healthy(base):
        assert proc.poll() is None and time.time() < deadline, "the server never answered its health check"
        time.sleep(0.2)
    return proc, base, ready


def _stop(proc) -> set:
    """SIGTERM the launcher; returns the processes it had started that are still alive 10 s after it
    ended (then kills them, and the launcher if it is still there)."""
    started = descendants(proc.pid)
    assert started, "the launcher started no server"
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        code = None
    deadline = time.time() + 10        # a worker notices within a second that its server has gone
    while any(alive(pid) for pid in started) and time.time() < deadline:
        time.sleep(0.2)
    left = {pid for pid in started if alive(pid)}
    for pid in left | ({proc.pid} if proc.poll() is None else set()):
        os.kill(pid, signal.SIGKILL)
    assert code == 0, f"the launcher ended with {code} (None: still running after 15 s)"
    return left


def test_ready_only_once_warm_and_sigterm_stops_everything(tmp_path):
    proc, base, ready = _launch(tmp_path)
    try:
        assert not ready.exists(), "ready while still warming"
        deadline = time.time() + 180
        while not ready.exists():
            assert proc.poll() is None and time.time() < deadline, "never became ready"
            time.sleep(0.3)
        lessons = visit_sync(base, "tab=Lessons")
        assert lessons.ok and not [t for t in lessons.texts("info") if t.startswith(MEASURING)]
    finally:
        left = _stop(proc)
    assert not left, f"still running after SIGTERM: {left}"
    assert not ready.exists(), "a stopped server must not look ready"


def test_sigterm_while_warming_stops_everything(tmp_path):
    proc, _, ready = _launch(tmp_path)
    assert not ready.exists()
    left = _stop(proc)
    assert not left, f"still running after SIGTERM: {left}"
    assert not ready.exists()
