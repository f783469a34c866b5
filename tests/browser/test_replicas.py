"""Two replicas behind nginx, in Chromium: the page loads, an upload reaches its replica, links agree."""
import os
import shutil
import socket

import pytest

from tests.browser.helpers import CHART, first_trace, open_page, wait_idle

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def balanced():
    """Two replicas and nginx on free local ports; yields the balancer's URL. With BNVIZ_BALANCER_URL
    set, that running balancer instead (scripts/check_compose.sh points it at compose.yaml's nginx)."""
    if os.environ.get("BNVIZ_BALANCER_URL"):
        yield os.environ["BNVIZ_BALANCER_URL"].rstrip("/")
        return
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: bash scripts/ensure_nginx.sh installs it as root")
        pytest.skip("nginx is not installed (bash scripts/ensure_nginx.sh)")
    from bnviz.ui.serve import Servers

    port = _free_port()
    while any(_busy(port + i) for i in (1, 2)):
        port = _free_port()
    with Servers(2, port, "127.0.0.1", warm_start=False) as servers:
        yield servers.url


def _busy(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_a_csv_upload_works_through_the_balancer(balanced, page, artifacts):
    open_page(page, balanced + "/?epochs=5&compare=off&tab=Training", charts=1)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.locator("[data-testid='stSelectbox']").filter(has_text="Data set").first.click()
    page.get_by_role("option", name="Upload a CSV…").click()
    wait_idle(page)
    rows = "gpa,iq,placed\n" + "".join(f"{5 + i * 0.1:.2f},{80 + (i * 7) % 50},{int(i % 3 == 0)}\n"
                                       for i in range(60))
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "mine.csv", "mimeType": "text/csv", "buffer": rows.encode()}])
    page.wait_for_url("**source=upload**", timeout=60000)
    wait_idle(page)
    page.screenshot(path=str(artifacts / "replicas-upload.png"), full_page=True)
    assert page.get_by_text("Features: gpa and iq").count() >= 1
    assert page.get_by_text("cannot be used").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0


def test_the_same_link_gives_the_same_numbers_on_both_replicas(balanced, browser):
    link = balanced + "/?lr=0.3&hidden=4,2&epochs=12&compare=off&tab=Training"
    numbers = {}
    for _ in range(16):                       # fresh visitors until both replicas have served the link
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        replica = page.goto(link).headers.get("x-bnviz-replica")
        page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 1", timeout=60000)
        wait_idle(page)
        numbers.setdefault(replica, first_trace(page))
        context.close()
        if len(numbers) == 2:
            break
    assert len(numbers) == 2, f"only one replica served the link: {list(numbers)}"
    first, second = numbers.values()
    assert len(first) > 10 and first == second
