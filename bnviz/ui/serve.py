"""Serve the lab: N Streamlit replicas, each warmed at start, with nginx in front when N > 1.

    python -m bnviz.ui.serve                      # one replica on :8501
    python -m bnviz.ui.serve --replicas 2 --port 8500   # replicas on :8501, :8502; nginx on :8500

Warm start: first the engine's compiled training loop is compiled (or found in its disk cache);
once a replica answers its health check, a visitor (bnviz.ui.visit)
opens the default experiment on every tab, so the default run, its figures,
the worker processes and every import are ready before the first student
arrives. nginx gives each visitor a cookie and keeps them on one replica
(Streamlit needs that: a session lives in one process, and uploads go over
HTTP to the process that holds the websocket). Ctrl-C or SIGTERM stops
everything this launcher started.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
# Warmed tabs: all but Sweeps, whose trainings start only when a visitor asks for one.
TABS = ("Lessons", "Training", "Loss landscape", "Activations", "Running statistics & test time",
        "Batch calculator", "Parameters", "The math")
LESSONS_WAIT = 90.0     # seconds warm() waits at most for the lesson verdicts


# One BLAS thread per process: with two cores shared by a busy server, OpenBLAS's
# threads fight each other (an SVD measured 20x slower with 2 threads than with 1).
SERVER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def start_replica(port: int, address: str = "127.0.0.1", log=None) -> subprocess.Popen:
    """`streamlit run app.py` on one port, with the production settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", address, "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT, env=os.environ | SERVER_ENV)


def wait_healthy(base: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server at {base} exited with code {proc.returncode}")
        try:
            if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{base} did not become healthy within {timeout:g} s")


def warm(base: str) -> float:
    """Open the default experiment on every tab, then wait (at most LESSONS_WAIT) until the
    lesson verdicts are measured, so no visitor waits for them; returns the seconds it took."""
    from urllib.parse import urlencode

    from .lessons import MEASURING
    from .visit import visit_sync

    started = time.perf_counter()
    for tab in TABS:
        visit_sync(base, urlencode({"tab": tab}) if tab != TABS[0] else "")
    while time.perf_counter() - started < LESSONS_WAIT:
        seen = visit_sync(base, urlencode({"tab": "Lessons"}))
        if seen.ok and not any(text.startswith(MEASURING) for text in seen.texts("info")):
            break
        time.sleep(0.5)
    return time.perf_counter() - started


def warm_apart(base: str) -> float:
    """warm() in a short-lived process: the launcher lives as long as its replicas, and the page's
    imports that warm() needs (Streamlit, the lessons) would keep about 110 MB in it for nothing."""
    done = subprocess.run([sys.executable, "-c", f"from bnviz.ui.serve import warm; print(warm({base!r}))"],
                          cwd=ROOT, capture_output=True, text=True, env=os.environ | SERVER_ENV, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"warming {base} failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(done.stdout.split()[-1])


def compile_apart() -> float:
    """Compile the engine's training loop (bnviz.compiled) once, in a short-lived process, before the
    replicas start: it lands in the disk cache, so no replica's worker compiles while visitors wait
    (a worker then loads it in well under a second). Returns the seconds it took (0: NumPy loop)."""
    done = subprocess.run([sys.executable, "-c", "from bnviz.compiled import warm; print(warm())"],
                          cwd=ROOT, capture_output=True, text=True, env=os.environ | SERVER_ENV, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"compiling the training loop failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(done.stdout.split()[-1])


def nginx_config(listen: str, ports: list, prefix: Path) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports)
    return TEMPLATE.read_text().format(listen=listen, servers=servers, prefix=prefix)


def start_nginx(listen: str, ports: list, prefix: Path, log=None) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise RuntimeError("nginx is not installed (bash scripts/ensure_nginx.sh installs it as root)")
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(listen, ports, prefix))
    return subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf)], stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)


class Servers:
    """Replicas (and nginx when more than one) started together, stopped together."""

    def __init__(self, replicas: int = 1, port: int = 8501, address: str = "127.0.0.1", warm_start: bool = True,
                 log_dir: Path | None = None, log_to_stdout: bool = False):
        self.procs: list = []
        self.prefix = Path(tempfile.mkdtemp(prefix="bnviz-serve-"))
        self.log_dir = log_dir or self.prefix
        self.log_to_stdout = log_to_stdout      # in a container, the engine collects the output
        single = replicas <= 1
        self.ports = [port] if single else [port + i for i in range(1, replicas + 1)]
        self.replica_urls = [f"http://127.0.0.1:{p}" for p in self.ports]
        self.url = f"http://127.0.0.1:{port}"
        self.warm_seconds: list = []
        self.compile_seconds = compile_apart() if warm_start else 0.0
        try:
            replicas_procs = [start_replica(p, address if single else "127.0.0.1", self._log(f"replica-{p}"))
                              for p in self.ports]
            self.procs += replicas_procs
            for url, proc in zip(self.replica_urls, replicas_procs):
                wait_healthy(url, proc=proc)
            if warm_start:         # before nginx opens the door, so the first visitor finds them warm
                self.warm_seconds = [warm_apart(url) for url in self.replica_urls]
            if not single:
                self.procs.append(start_nginx(f"{address}:{port}", self.ports, self.prefix / "nginx",
                                              self._log("nginx")))
                wait_healthy(self.url, 30, self.procs[-1])
        except BaseException:
            self.stop()
            raise

    def _log(self, name: str):
        if self.log_to_stdout:
            return sys.stdout
        return open(self.log_dir / f"{name}.log", "w")

    @property
    def pids(self) -> list:
        """Process ids of the replicas (not nginx)."""
        return [p.pid for p in self.procs[:len(self.ports)]]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs = []
        shutil.rmtree(self.prefix / "nginx", ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("BNVIZ_REPLICAS", 1)))
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--address", default="0.0.0.0")
    parser.add_argument("--no-warm", action="store_true", help="skip opening the default experiment at start")
    parser.add_argument("--log-to-stdout", action="store_true",
                        help="the servers' output on this process's standard output instead of log files")
    parser.add_argument("--ready-file", type=Path,
                        help="created once every replica is warmed (a container's health check waits for it)")
    args = parser.parse_args(argv)
    if args.ready_file:
        args.ready_file.unlink(missing_ok=True)
    # A stop while starting (a container's PID 1 ignores SIGTERM without a handler) stops what has started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    servers = Servers(args.replicas, args.port, args.address, not args.no_warm, log_to_stdout=args.log_to_stdout)
    if args.ready_file:
        args.ready_file.touch()

    def stop(*_):
        if args.ready_file:
            args.ready_file.unlink(missing_ok=True)
        servers.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    warmed = ", ".join(f"{s:.1f} s" for s in servers.warm_seconds)
    print(f"bnviz at {servers.url} ({len(servers.ports)} replica{'s' if len(servers.ports) > 1 else ''}"
          f"{'; warmed in ' + warmed if warmed else ''}"
          f"{f'; training loop compiled in {servers.compile_seconds:.1f} s' if servers.compile_seconds else ''}); "
          f"logs {'on standard output' if args.log_to_stdout else 'in ' + str(servers.log_dir)}", flush=True)
    while all(p.poll() is None for p in servers.procs):
        time.sleep(1.0)
    print("a server process ended; stopping the others", file=sys.stderr)
    servers.stop()
    sys.exit(1)


if __name__ == "__main__":
    main()
