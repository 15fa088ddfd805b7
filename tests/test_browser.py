"""Real browser: Debian's Chromium drives `streamlit run` on a loopback port.

Opens each page, uploads a DICOM slice and an ECG record, waits for the figures,
saves screenshots under test-artifacts/ and asserts that no error is shown.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server():
    """A fresh `streamlit run app.py` on a free loopback port: (process, url)."""
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode()[-2000:])
    return proc, url


def _stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server():
    proc, url = _start_server()
    yield url
    _stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1700})
    page = context.new_page()
    yield page
    context.close()


def _assert_no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def _upload(page, paths: list[Path]) -> None:
    page.get_by_text("Upload", exact=True).first.click()
    page.locator('input[type="file"]').first.set_input_files([str(p) for p in paths])


def _shoot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.wait_for_timeout(800)  # let plotly finish drawing
    page.screenshot(path=str(path), full_page=True)
    return path


def test_home_page(server, page):
    page.goto(server)
    page.get_by_text("not a diagnostic device").first.wait_for(timeout=60_000)
    page.get_by_text("Models run on").first.wait_for(timeout=60_000)
    _assert_no_error(page)
    assert _shoot(page, "home").stat().st_size > 10_000


def test_ct_upload_in_the_browser(server, page, ct_small):
    page.goto(f"{server}/ct")
    page.get_by_text("CT review").first.wait_for(timeout=60_000)
    _upload(page, [ct_small])
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_text("Technical metadata").wait_for(timeout=30_000)
    _assert_no_error(page)
    assert page.locator(".js-plotly-plot").count() == 1
    _shoot(page, "ct-upload")


def test_ecg_upload_in_the_browser(server, page, mitdb):
    page.goto(f"{server}/ecg")
    page.get_by_text("ECG review").first.wait_for(timeout=60_000)
    _upload(page, [mitdb / "119.hea", mitdb / "119.dat", mitdb / "119.atr"])
    page.get_by_text("Agreement with the reference annotations").first.wait_for(timeout=90_000)
    page.locator(".js-plotly-plot").nth(3).wait_for(timeout=60_000)
    _assert_no_error(page)
    assert page.locator(".js-plotly-plot").count() >= 4
    _shoot(page, "ecg-upload")


def test_ct_example_is_scored_by_the_held_out_fold_with_its_reference_nodule_drawn(server, page):
    from data_paths import require_data

    require_data("ct", "lidc")
    page.goto(f"{server}/ct")
    page.get_by_text("fold-B detector, trained on LIDC-IDRI-0003 only").first.wait_for(timeout=120_000)
    page.get_by_text("ranks it #4 of 80 candidates here").first.wait_for(timeout=60_000)
    _assert_no_error(page)
    # The caption arrives before plotly has drawn the slice figure (slower on a busy machine): wait for a figure
    # with shapes beyond the series strip's single slice marker, then read them all.
    all_shapes = "() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(el => (el.layout || {}).shapes || [])"
    page.wait_for_function(f"({all_shapes})().some(s => s.type === 'circle')", timeout=60_000)
    shapes = page.evaluate(f"({all_shapes})()")
    dashed = [s for s in shapes if s.get("line", {}).get("dash") == "dash"]
    assert len(dashed) == 1 and dashed[0]["type"] == "circle"
    assert abs((dashed[0]["x1"] - dashed[0]["x0"]) / 2 - 11.7) < 0.1  # the 23.4 mm nodule's radius, in mm
    _shoot(page, "ct-example-held-out")


def _pick_table_row(page, table, row: int) -> None:
    """Tick row ``row`` (0-based) of a single-row-selection dataframe: its checkbox column, below the header."""
    table.scroll_into_view_if_needed()
    box = table.bounding_box()  # relative to the viewport, so read after scrolling
    page.mouse.click(box["x"] + 12, box["y"] + 35 * (row + 1) + 17)


#: Each drawn plotly figure's title (Streamlit wraps it in <b>: tags stripped), x range and "type:marker symbol"s.
_PLOTS_JS = ("() => [...document.querySelectorAll('.js-plotly-plot')].map(el => "
             "({title: (((el.layout || {}).title || {}).text || '').replace(/<[^>]+>/g, ''),"
             " xrange: ((el.layout || {}).xaxis || {}).range,"
             " traces: (el.data || []).map(t => t.type + ':' + ((t.marker || {}).symbol || ''))}))")


def _plot_layouts(page) -> list[dict]:
    return page.evaluate(_PLOTS_JS)


def _wait_for_plot_titled(page, start: str) -> dict:
    page.wait_for_function(f"start => ({_PLOTS_JS})().some(p => p.title.startsWith(start))", arg=start,
                           timeout=60_000)
    return next(p for p in _plot_layouts(page) if p["title"].startswith(start))


def test_picking_a_candidate_zooms_on_it_with_grad_cam(server, page):
    from data_paths import require_data

    require_data("ct", "lidc")
    page.goto(f"{server}/ct")
    # The caption under the table is written after it: by then the page above has its final layout.
    page.get_by_text("Nodule probability: the detector's score").first.wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    _pick_table_row(page, page.locator('[data-testid="stDataFrame"]').first, 0)
    page.get_by_text("Grad-CAM opacity").wait_for(timeout=60_000)
    zoom = _wait_for_plot_titled(page, "candidate #1: nodule probability")
    assert "heatmap:" in zoom["traces"] and "scatter:cross-thin-open" in zoom["traces"]  # Grad-CAM and the centre
    _assert_no_error(page)
    _shoot(page, "ct-candidate-zoom")


def _click_slice_at(page, row: int, col: int, spacing_mm: tuple[float, float]) -> None:
    """Click the CT slice figure (the one with click targets) at pixel (row, col), through plotly's own axes."""
    where = page.evaluate(
        """([x, y]) => {
            const el = [...document.querySelectorAll('.js-plotly-plot')]
                .find(e => (e.data || []).some(t => t.name === 'click to zoom'));
            el.scrollIntoView({block: 'center'});
            const box = el.getBoundingClientRect(), xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis;
            return [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(y)];
        }""", [(col + 0.5) * spacing_mm[1], (row + 0.5) * spacing_mm[0]])
    page.mouse.click(*where)


def test_clicking_a_point_of_the_slice_zooms_on_it_and_a_later_table_pick_wins(server, page):
    from data_paths import require_data

    require_data("ct", "lidc")
    page.goto(f"{server}/ct")
    page.get_by_text("Nodule probability: the detector's score").first.wait_for(timeout=120_000)
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')]"
                           ".some(e => (e.data || []).some(t => t.name === 'click to zoom'))", timeout=60_000)
    page.wait_for_timeout(1000)
    spacing = (0.703125, 0.703125)  # LIDC-IDRI-0001
    _click_slice_at(page, 250, 262, spacing)  # mediastinum, away from every candidate marker
    zoom = _wait_for_plot_titled(page, "point (")
    row, col = (int(v) for v in zoom["title"].split("point (")[1].split(")")[0].split(", "))
    assert abs(row - 250) <= 2 and abs(col - 262) <= 2  # the nearest click target: every 4th pixel (2.8 mm) here
    assert "heatmap:" in zoom["traces"] and "scatter:cross-thin-open" in zoom["traces"]
    # The typed boxes follow the click, so the point can be nudged from the keyboard.
    assert page.get_by_label("Row (pixel)").input_value() == str(row)
    _pick_table_row(page, page.locator('[data-testid="stDataFrame"]').first, 0)  # chosen later: it wins
    _wait_for_plot_titled(page, "candidate #1: nodule probability")
    _click_slice_at(page, 367, 316, spacing)  # on the nodule's candidate marker (#4), clicked after the pick
    _wait_for_plot_titled(page, "candidate #4: nodule probability")
    _assert_no_error(page)
    _shoot(page, "ct-click-zoom")


def _beat_table_of_119(page, server: str, mitdb: Path):
    """Upload record 119 on the ECG page and return its beat table once analysed."""
    page.goto(f"{server}/ecg")
    page.get_by_text("ECG review").first.wait_for(timeout=60_000)
    _upload(page, [mitdb / "119.hea", mitdb / "119.dat"])
    table = page.locator('[data-testid="stDataFrame"]').filter(has_text="p(V)").first
    table.wait_for(timeout=90_000)
    return table


def test_picking_a_beat_jumps_the_strip_and_shows_its_saliency_and_timing(server, page, mitdb):
    table = _beat_table_of_119(page, server, mitdb)
    _pick_table_row(page, table, 3)  # 119's fourth V beat, past the first 10 s strip: the strip must move
    page.get_by_text("Saliency opacity").wait_for(timeout=60_000)
    page.get_by_text("RR before").first.wait_for(timeout=30_000)
    page.get_by_text("networks of the ensemble, for their mean score").first.wait_for(timeout=30_000)
    beat = _wait_for_plot_titled(page, "Beat ")
    at_s = float(beat["title"].split(" at ")[1].split(" s")[0])
    assert at_s > 15 and ", MLII: V (" in beat["title"]
    # 119 has V1, so the two-lead classifier ran: the same beat in V1 is drawn beside it, with the same shading
    second = _wait_for_plot_titled(page, "Same beat, lead V1")
    # same window (each panel keeps ECG paper's aspect, so their spans may differ, not their centres)
    assert sum(second["xrange"]) == pytest.approx(sum(beat["xrange"]))
    strips = [p for p in _plot_layouts(page) if p["xrange"] and p["xrange"][1] - p["xrange"][0] < 20
              and p["xrange"][0] <= at_s <= p["xrange"][1]]
    # the 10 s strip now shows the picked beat, in MLII and, below it on the same paper, V1
    assert len(strips) == 1 and strips[0]["traces"].count("scattergl:") == 2
    _assert_no_error(page)
    _shoot(page, "ecg-beat-pick")


def test_a_beat_pick_outlived_by_a_shorter_filtered_table_is_dropped_not_an_error(server, page, mitdb):
    table = _beat_table_of_119(page, server, mitdb)
    _pick_table_row(page, table, 5)
    page.get_by_text("Saliency opacity").wait_for(timeout=60_000)
    # Minimum probability 1.0 leaves (almost) no rows: row 5 of the old table must not be looked up in the new one.
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Minimum probability").get_by_role("slider")
    thumb.focus()
    page.keyboard.press("End")
    page.get_by_text("Pick a beat in the table").first.wait_for(timeout=60_000)
    _assert_no_error(page)


def test_junk_upload_shows_an_error_in_the_browser(server, page, tmp_path):
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"this is not DICOM" * 20)
    page.goto(f"{server}/ct")
    page.get_by_text("CT review").first.wait_for(timeout=60_000)
    _upload(page, [junk])
    page.locator('[data-testid="stAlertContentError"]').first.wait_for(timeout=60_000)
    assert "not a DICOM file" in page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    _shoot(page, "ct-junk")


def _open_ecg_sample(page, server: str, name: str) -> None:
    """Open the ECG page and choose the ecg/samples example whose label holds ``name``."""
    from data_paths import require_data

    require_data("ecg", "samples")
    page.goto(f"{server}/ecg")
    page.get_by_text("ECG review").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.keyboard.type(name)
    page.keyboard.press("Enter")


def test_twelve_lead_example_in_the_browser(server, page):
    _open_ecg_sample(page, server, "00841_hr")
    page.get_by_text("12-lead", exact=True).first.click()
    page.locator(".js-plotly-plot text", has_text="aVR").first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    # the model's classes under the rhythm strip: 00841's nine N beats and its one V beat
    page.get_by_text("Coloured letters under the rhythm strip").first.wait_for(timeout=60_000)
    letters = page.locator(".js-plotly-plot .textpoint text").evaluate_all("els => els.map(e => e.textContent)")
    assert sorted(letters) == ["N"] * 9 + ["V"]
    _assert_no_error(page)
    _shoot(page, "ecg-12-lead")


def test_a_beat_cut_by_the_record_start_is_shown_without_saliency(server, page):
    _open_ecg_sample(page, server, "17583_hr")
    page.get_by_text("Beat 1 (0.02 s) lies within 0.1 s of the record's start or end").first.wait_for(timeout=90_000)
    # the table lists the non-N classes by default: 17583's only one is that Q beat
    table = page.locator('[data-testid="stDataFrame"]').filter(has_text="p(V)").first
    _pick_table_row(page, table, 0)
    page.get_by_text("No saliency: this beat's QRS is cut by the record's start or end").first.wait_for(timeout=60_000)
    beat = _wait_for_plot_titled(page, "Beat ")
    assert ": Q (" in beat["title"] and beat["traces"] == ["scatter:"]  # the beat, no saliency band
    assert page.get_by_text("Saliency opacity").count() == 0
    _assert_no_error(page)
    _shoot(page, "ecg-cut-beat")


def test_deep_link_to_a_fresh_server_goes_through_the_router(browser):
    # A shared link such as /ecg may be the very first request after a restart; it must get
    # app.py's navigation and wide layout, not Streamlit's pages/-folder mode (pages.run_through_router).
    proc, url = _start_server()
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{url}/ecg")
        page.get_by_role("heading", name="ECG").first.wait_for(timeout=120_000)
        nav = page.locator('[data-testid="stSidebarNav"]')
        nav.get_by_text("Synthetic samples").wait_for(timeout=30_000)
        assert "synthetic" not in nav.inner_text().split()  # the folder's file names are not the menu
        assert page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"] > 900  # wide layout
        page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)  # the example is analysed, not just laid out
        _assert_no_error(page)
        _shoot(page, "deep_link_ecg")
        context.close()
    finally:
        _stop_server(proc)
