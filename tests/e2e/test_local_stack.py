"""A newcomer's first minutes: start the stack, click the printed link, see the click; Ctrl-C stops
it all (the Java emulator too), and a restart keeps the data and the links."""

import http.client
import time
import urllib.request
from urllib.parse import urlsplit

from tests.e2e.conftest import group_alive, links_in


def get(url: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", f"{parts.path}?{parts.query}", headers=headers or {})
    return connection.getresponse()


BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"}


def test_the_printed_link_lands_on_the_demo_page_and_the_click_reaches_the_warehouse(demo_stack):
    stack, _data = demo_stack  # a /go click records, it moves no campaign: the shared stack will do
    link = stack.url("sample /go link")
    (tracking_id,) = links_in(link)

    response = get(link, BROWSER)
    assert response.status == 302
    landing = response.getheader("Location")
    assert landing.startswith(f"{stack.base}/demo/?i={tracking_id}&oie_t=")
    page = urllib.request.urlopen(landing, timeout=30).read().decode()
    assert "Acme Analytics" in page

    clicks = urllib.request.urlopen(f"{stack.base}/_dev/clicks", timeout=30).read().decode()
    assert tracking_id in clicks
    assert "Pixel events" in urllib.request.urlopen(f"{stack.base}/_dev/events", timeout=30).read().decode()
    admin = next(line for line in stack.output if "RevOps admin:" in line)
    assert "key: oie_" in admin
    login = urllib.request.urlopen(f"{stack.base}/outcomes/t/demo/admin/login", timeout=30).read().decode()
    assert "Admin API key" in login
    index = urllib.request.urlopen(f"{stack.base}/", timeout=30).read().decode()
    assert tracking_id in index


def test_ctrl_c_stops_everything_and_data_survives_a_restart_with_the_same_links(stack_factory):
    first = stack_factory()
    link = first.url("sample /go link")
    get(link, BROWSER).read()
    assert first.stop() == 0
    assert "stopped." in first.output
    time.sleep(0.5)
    assert not group_alive(first.process.pid), "the emulator (Java) outlived the stack"

    second = stack_factory()
    assert second.url("sample /go link") == link.replace(first.base, second.base)
    clicks = urllib.request.urlopen(f"{second.base}/_dev/clicks", timeout=30).read().decode()
    assert links_in(link)[0] in clicks  # the first run's click is still in the warehouse
    assert second.stop() == 0
