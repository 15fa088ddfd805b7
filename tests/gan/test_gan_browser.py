"""The Synthetic samples page in a real browser (Debian Chromium via Playwright), with a screenshot."""

import pytest

from test_browser import CHROMIUM, _assert_no_error, _shoot, browser, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (apt-get install chromium)")


def test_synthetic_page_in_the_browser(server, page, ct_generator, ecg_generator):  # noqa: F811
    page.goto(f"{server}/synthetic")
    page.get_by_text("Synthetic samples").first.wait_for(timeout=90_000)
    page.get_by_text("Measured quality").first.wait_for(timeout=120_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert page.get_by_text("SYNTHETIC · nodule").count() >= 1
    _assert_no_error(page)
    assert _shoot(page, "synthetic-ct").stat().st_size > 10_000
    page.get_by_text("ECG beats", exact=True).first.click()
    page.get_by_text("SYNTHETIC beats").first.wait_for(timeout=120_000)
    _assert_no_error(page)
    assert _shoot(page, "synthetic-ecg").stat().st_size > 10_000
