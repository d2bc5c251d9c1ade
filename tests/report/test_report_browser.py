"""The HTML report in a real browser: headless Debian Chromium, no console errors, every figure
rendered, nothing fetched from the network, a screenshot saved."""

from __future__ import annotations

import os

import pytest

from mmme.report import build_report

from .browser import chromium, inspect_page

pytest.importorskip("selenium")


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    drv = chromium(tmp_path_factory.mktemp("chromium-profile"))
    if drv is None:
        # CI installs chromium + chromium-driver (`make browser`); a missing browser there is a
        # failure, elsewhere a skip that says why.
        if os.environ.get("MMME_REQUIRE_BROWSER"):
            pytest.fail("MMME_REQUIRE_BROWSER is set but chromium or chromedriver is missing")
        pytest.skip("Debian chromium + chromium-driver not installed (run `make browser`)")
    yield drv
    drv.quit()


def test_report_renders_in_chromium(results, driver, tmp_path):
    page = build_report(results / "results", tmp_path / "report.html")
    shot = tmp_path / "report.png"
    got = inspect_page(driver, page, shot)
    assert got["errors"] == []
    assert len(got["images"]) >= 4
    bad = [i for i in got["images"] if not i["ok"]]
    assert bad == [], bad
    assert got["external"] == []
    assert any("Recognition" in t for t in got["titles"])
    assert shot.stat().st_size > 10_000


def test_broken_figure_is_seen(results, driver, tmp_path):
    # the check itself must fail on a figure that does not decode
    page = build_report(results / "results", tmp_path / "report.html")
    html = page.read_text().replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
    page.write_text(html)
    got = inspect_page(driver, page, tmp_path / "broken.png")
    assert sum(not i["ok"] for i in got["images"]) == 1
