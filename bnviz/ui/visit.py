"""A visitor without a browser: opens a page of a running bnviz server the way the browser does.

It fetches the page (keeping any cookie a load balancer sets, for session
affinity), connects Streamlit's websocket (/_stcore/stream), asks for a script
run with the link's query and reads the page's messages until the run
finishes. Used to warm a server when it starts (bnviz.ui.serve) and by the
load benchmark (benchmarks/load.py). Talks to one base URL; never retries.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ALERTS = {1: "error", 2: "warning", 3: "info", 4: "success"}


@dataclass
class Visit:
    """What one visitor saw: seconds until the page's script run finished, and what the page held.

    ok: the run finished (within the timeout, without an exception); charts: plotly
    charts drawn (their JSON specs in specs); alerts: [(kind, text)]; alert_seconds: when each
    alert arrived (seconds from the start, like `seconds`); failure: why not ok.
    """

    query: str
    seconds: float = float("nan")
    ok: bool = False
    charts: int = 0
    specs: list = field(default_factory=list)
    alerts: list = field(default_factory=list)
    alert_seconds: list = field(default_factory=list)
    exception: str | None = None
    failure: str | None = None
    upstream: str | None = None

    def texts(self, kind: str) -> list:
        return [text for k, text in self.alerts if k == kind]

    def first_alert(self, words: str) -> float:
        """Seconds until the first alert containing `words` arrived (NaN if none did)."""
        return next((t for (_, text), t in zip(self.alerts, self.alert_seconds) if words in text), float("nan"))


def _cookies_from(base: str, timeout: float) -> tuple:
    """(Cookie header or "", upstream replica named by the balancer or None) from fetching the page."""
    with urllib.request.urlopen(base + "/", timeout=timeout) as response:
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        response.read()
        cookie = "; ".join(f"{k}={v.value}" for k, v in jar.items())
        return cookie, response.headers.get("X-Bnviz-Replica")


async def visit(base: str, query: str = "", timeout: float = 120.0, keep_specs: bool = False) -> Visit:
    """Open `base` (http://host:port) with the link query `query` ("lr=0.5&bn=0"); never raises."""
    import websockets

    result = Visit(query)
    started = time.perf_counter()
    try:
        cookie, result.upstream = await asyncio.to_thread(_cookies_from, base, timeout)
        url = "ws" + base[len("http"):] + "/_stcore/stream"
        headers = {"Cookie": cookie} if cookie else {}
        async with websockets.connect(url, subprotocols=["streamlit"], additional_headers=headers,
                                      max_size=None, open_timeout=timeout, ping_interval=None) as ws:
            msg = BackMsg()
            msg.rerun_script.query_string = query
            msg.rerun_script.page_script_hash = ""
            await ws.send(msg.SerializeToString())
            deadline = started + timeout
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    result.failure = f"no finished page within {timeout:g} s"
                    break
                forward = ForwardMsg()
                forward.ParseFromString(await asyncio.wait_for(ws.recv(), left))
                kind = forward.WhichOneof("type")
                if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                    _read_element(forward.delta.new_element, result, keep_specs, time.perf_counter() - started)
                elif kind == "script_finished":
                    if forward.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue
                    result.seconds = time.perf_counter() - started
                    result.ok = result.exception is None
                    if result.exception:
                        result.failure = "the page showed an exception"
                    break
    except Exception as err:       # a benchmark counts failures; it does not stop at them
        result.failure = f"{type(err).__name__}: {err}"
    return result


def _read_element(element, result: Visit, keep_specs: bool, seconds: float) -> None:
    which = element.WhichOneof("type")
    if which == "plotly_chart":
        result.charts += 1
        if keep_specs:
            result.specs.append(element.plotly_chart.spec)
    elif which == "alert":
        result.alerts.append((ALERTS.get(element.alert.format, "alert"), element.alert.body))
        result.alert_seconds.append(seconds)
    elif which == "exception":
        result.exception = element.exception.message or element.exception.type or "exception"


def visit_sync(base: str, query: str = "", timeout: float = 120.0, keep_specs: bool = False) -> Visit:
    """visit() from plain code, also where this thread already runs an event loop
    (Playwright's sync API leaves one running): then on a thread of its own."""
    def run() -> Visit:
        return asyncio.run(visit(base, query, timeout, keep_specs))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(run).result()
