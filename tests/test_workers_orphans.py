"""Worker processes end with the server that started them, even when it could not shut its pool down
(SIGKILL, or a SIGTERM that stops it mid-job): none is left holding its memory."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import alive, children

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]

SERVER = """
import os, time
from bnviz.workers import Pool
pool = Pool(2)
busy = pool.submit(time.sleep, 300)                # one worker is in the middle of a job
idle = pool.submit(os.getpid).result(120)          # the other has finished one and waits
print(idle, flush=True)
time.sleep(300)
"""


def test_workers_end_when_their_server_is_killed():
    server = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    workers = []
    try:
        idle = int(server.stdout.readline())
        workers = children(server.pid)
        assert idle in workers and len(workers) >= 3     # two workers and the resource tracker
        server.kill()
        server.wait(10)
        deadline = time.time() + 10
        while any(alive(pid) for pid in workers) and time.time() < deadline:
            time.sleep(0.2)
        left = [pid for pid in workers if alive(pid)]
        assert not left, f"processes outlived their server: {left}"
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if server.poll() is None:
            server.kill()
