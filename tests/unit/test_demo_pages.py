"""The demo site's pages share one layout: each is served whole, with its own title and content."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from oie.devstack.gateway import root_app

PAGES = {
    "/demo/": ("Acme Analytics — see your pipeline warm up", 'id="book"'),
    "/demo/product": ("Product — Acme Analytics", 'id="tour"'),
    "/demo/pricing": ("Pricing — Acme Analytics", 'id="plans"'),
    "/demo/case-studies": ("Case studies — Acme Analytics", 'id="northwind"'),
}
NAV = ('href="/demo/">Home', 'href="/demo/product">Product', 'href="/demo/pricing">Pricing', "Case studies</a></nav>")


@pytest.mark.parametrize("path", PAGES)
def test_each_demo_page_has_its_title_the_pixel_the_navigation_and_its_own_content(path):
    title, content = PAGES[path]
    answer = Client(root_app(lambda: "")).get(path)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert page.startswith("<!doctype html>\n") and page.endswith("</body></html>\n")
    assert f"<title>{title}</title>" in page and content in page
    assert '<script async src="/static/oie.js" data-tenant="demo"></script>' in page
    assert all(link in page for link in NAV)
    # The layout's blocks are filled, never shown.
    assert "{%" not in page and "%}" not in page
