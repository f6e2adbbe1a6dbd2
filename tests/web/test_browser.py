"""End-to-end in real headless Chromium (Debian's ``chromium``), driven by Playwright.

The server is uvicorn on 127.0.0.1 on a free port, in a thread, over a small study whose first case is a
2000 x 2500 synthetic radiograph (``wristbme.synth``) with the anatomy located by ``wristbme.anatomy``.
Re-scoring uses the real pipeline with the shipped demo model (or ``$WRISTBME_WEB_TEST_MODEL``) when
present, otherwise the test engine of ``webstudy.FakeEngineServices`` (the test prints which).

Enable: ``apt-get install -y chromium`` (never download browsers). Screenshots go to
``$WRISTBME_WEB_SHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("WRISTBME_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIRST_PAINT_BUDGET_MS = 1000.0
KEY_RE = re.compile(r"\bweb\.[a-z_]+\.[a-z_.]+\b")


def _skip_without_chromium() -> None:
    if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's with `apt-get install -y chromium` "
                    "(or set WRISTBME_CHROMIUM) to run the browser tests")
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download needed)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exactly(pixels, shape):
    """Crop (fingertips first: the wrist is at the bottom) or edge-pad to exactly ``shape`` (rows, cols)."""
    import numpy as np

    rows, cols = shape
    px = pixels[max(0, pixels.shape[0] - rows):, :]
    c0 = max(0, (px.shape[1] - cols) // 2)
    px = px[:, c0:c0 + cols]
    pad = ((rows - px.shape[0], 0), (0, cols - px.shape[1]))
    return np.pad(px, pad, mode="edge") if any(p for pair in pad for p in pair) else px


@pytest.fixture(scope="module")
def big_study(tmp_path_factory):
    _skip_without_chromium()
    from webstudy import build_study, model_under_test

    from wristbme.anatomy import anatomy_to_json, locate
    from wristbme.study.models import AnatomyResult, Image
    from wristbme.synth.phantom import HandSpec, render_phantom

    phantom = render_phantom(HandSpec(laterality="R", field="full", spacing_mm=0.1), seed=3)
    pixels = _exactly(phantom.radiograph.pixels, (2500, 2000))
    model_path = model_under_test()
    study = build_study(tmp_path_factory.mktemp("browser") / "study", pixels=pixels, spacing_mm=0.1,
                        model_path=model_path)
    study.model_path = model_path
    anatomy = locate(phantom.radiograph.with_pixels(pixels))
    from wristbme.study.store import open_store

    with open_store(study.root) as store, store.session() as s, s.begin():
        image = s.get(Image, study.image_ids["S01-0001"])
        assert (image.rows, image.cols) == (2500, 2000) and image.spacing_mm == (0.1, 0.1)
        s.add(AnatomyResult(image_id=image.id, data=anatomy_to_json(anatomy), method=anatomy.method))
    return study


@pytest.fixture(scope="module")
def server(big_study):
    import uvicorn
    from webstudy import FakeEngineServices

    from wristbme.web.app import create_app
    from wristbme.web.config import WebSettings
    from wristbme.web.services import StudyServices

    real = big_study.model_path is not None
    cls = StudyServices if real else type("TestServices", (FakeEngineServices, StudyServices), {})
    print(f"\nre-scoring engine in the browser test: {f'real pipeline + {big_study.model_path}' if real else 'test engine'}")
    port = _free_port()
    settings = WebSettings(study_dir=big_study.root, host="127.0.0.1", port=port, local_user="e2e-operator")
    app = create_app(settings, services=cls(settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 20 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    _skip_without_chromium()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # a sub-resource (script, style, image, fetch) that fails is an error; a page's own 404 is tested for
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}")
          if r.status >= 400 and r.request.resource_type != "document" else None)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("WRISTBME_WEB_SHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _first_paint_ms(pg) -> float:
    pg.wait_for_selector("#viewer-canvas[data-painted='1']", timeout=15000)
    return pg.evaluate("performance.getEntriesByName('wristbme:first-paint')[0].startTime")


def test_dashboard_and_case_list_filter(page, server, shots):
    page.goto(server + "/")
    assert page.get_by_role("heading", name="Study dashboard").is_visible()
    assert page.locator(".flow-analysed .n").inner_text() == "4"
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    page.get_by_role("link", name="Cases").first.click()
    page.wait_for_url(re.compile(r"/cases$"))
    assert page.locator("tr[data-case]").count() == 6
    page.get_by_label("Site").select_option("S02")
    page.get_by_label("MRI BME").select_option("yes")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"site=S02"))
    assert page.locator("tr[data-case]").all_inner_texts()[0].startswith("S02-0001")
    assert page.locator("tr[data-case]").count() == 1
    page.screenshot(path=str(shots / "cases.png"))


def test_viewer_first_paint_of_a_2000_by_2500_image(page, server, shots):
    page.goto(server + "/cases/S01-0001")  # cold: the preview is rendered from the DICOM on this request
    cold = _first_paint_ms(page)
    page.reload()
    warm = _first_paint_ms(page)
    print(f"\nviewer first paint, 2000x2500 image: cold {cold:.0f} ms (preview rendered), warm {warm:.0f} ms")
    (shots / "first_paint.txt").write_text(f"cold_ms={cold:.1f}\nwarm_ms={warm:.1f}\n")
    assert warm <= FIRST_PAINT_BUDGET_MS
    assert cold <= 3 * FIRST_PAINT_BUDGET_MS


def test_viewer_overlay_toggle_keyboard_zoom_and_full_resolution(page, server, shots):
    page.goto(server + "/cases/S01-0001")
    page.wait_for_selector("#viewer-canvas[data-painted='1']")
    canvas = page.locator("#viewer-canvas")
    before = page.evaluate("document.getElementById('viewer-canvas').toDataURL()")
    heat = page.get_by_label("Heatmap")
    heat.focus()
    page.keyboard.press("Space")
    assert heat.is_checked()
    assert page.evaluate("window.wristbmeViewer.state.show.heatmap") is True
    after = page.evaluate("document.getElementById('viewer-canvas').toDataURL()")
    assert after != before
    # window/level by keyboard on the sliders
    width = page.get_by_role("slider", name="Window")
    width.focus()
    for _ in range(60):
        page.keyboard.press("ArrowLeft")
    assert page.evaluate("window.wristbmeViewer.state.wl.width") == 255 - 60
    assert page.evaluate("document.getElementById('viewer-canvas').toDataURL()") != after
    page.get_by_label("Labels").check()
    page.screenshot(path=str(shots / "viewer.png"), full_page=False)
    # "0" shows the whole image from the preview; zooming in with the keyboard loads full resolution
    canvas.focus()
    page.keyboard.press("0")
    scale0 = page.evaluate("window.wristbmeViewer.state.scale")
    assert scale0 * 2500 <= 1000 + 1  # the whole 2500-row image fits the canvas
    page.screenshot(path=str(shots / "viewer_whole.png"))
    for _ in range(4):
        page.keyboard.press("+")
    assert page.evaluate("window.wristbmeViewer.state.scale") > scale0 * 2
    page.wait_for_selector("#viewer-canvas[data-resolution='full']", timeout=15000)
    page.keyboard.press("ArrowLeft")
    page.screenshot(path=str(shots / "viewer_zoomed.png"))
    page.keyboard.press("w")
    assert page.evaluate("window.wristbmeViewer.state.scale") > scale0


def test_main_controls_have_labels(page, server):
    page.goto(server + "/cases/S01-0001")
    for name in ("Zoom in", "Zoom out", "Fit to view", "Fit the wrist", "Edit regions", "Save and re-score",
                 "Discard changes"):
        assert page.get_by_role("button", name=name).count() == 1, name
    for name in ("Window", "Level"):
        assert page.get_by_role("slider", name=name).count() == 1, name
    for name in ("Regions", "Landmarks", "Heatmap", "Labels"):
        assert page.get_by_role("checkbox", name=name).count() == 1, name
    assert page.get_by_role("img", name=re.compile("Radiograph of case S01-0001")).count() == 1
    assert page.get_by_role("toolbar", name="View controls").count() == 1
    # the skip link is the first thing the keyboard reaches
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"


def test_move_a_landmark_save_and_see_the_new_score_and_audit(page, server, shots):
    page.goto(server + "/cases/S01-0001")
    page.wait_for_selector("#viewer-canvas[data-painted='1']")
    old_score = page.locator("#score-wrist").inner_text()
    page.get_by_role("button", name="Edit regions").click()
    assert page.get_by_role("button", name="Edit regions").get_attribute("aria-pressed") == "true"
    # zoom in so the drag is precise, then drag the lunate centre 16 screen px (about 2 mm) to the right
    page.locator("#viewer-canvas").focus()
    for _ in range(3):
        page.keyboard.press("+")
    sx, sy = page.evaluate("(() => { const v = window.wristbmeViewer; const p = v.state.anatomy.landmarks.lunate_centre;"
                           " return v.toScreen(p[0], p[1]); })()")
    box = page.locator("#viewer-canvas").bounding_box()
    x0 = page.evaluate("window.wristbmeViewer.state.anatomy.landmarks.lunate_centre[0]")
    page.mouse.move(box["x"] + sx, box["y"] + sy)
    page.mouse.down()
    page.mouse.move(box["x"] + sx + 8, box["y"] + sy, steps=3)
    page.mouse.move(box["x"] + sx + 16, box["y"] + sy, steps=3)
    page.mouse.up()
    x1 = page.evaluate("window.wristbmeViewer.state.anatomy.landmarks.lunate_centre[0]")
    scale = page.evaluate("window.wristbmeViewer.state.scale")
    assert x1 - x0 == pytest.approx(16 / scale, rel=0.05)
    # and one more pixel with the keyboard
    page.get_by_label("Point").select_option("lm:lunate_centre")
    page.locator("#viewer-canvas").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("window.wristbmeViewer.state.anatomy.landmarks.lunate_centre[0]") == pytest.approx(x1 + 1)
    assert page.locator("#edit-pending").inner_text().endswith("1")
    page.get_by_label("Note").fill("lunate centre moved in the browser test")
    page.screenshot(path=str(shots / "viewer_before_save.png"))
    page.get_by_role("button", name="Save and re-score").click()
    page.wait_for_selector("#viewer-status:has-text('Saved')", timeout=60000)
    new_score = page.locator("#score-wrist").inner_text()
    status = page.locator("#viewer-status").inner_text()
    print(f"\nwrist score before {old_score}, after the correction {new_score}; status: {status!r}")
    assert new_score != "–" and new_score in status
    assert "web.rescore" in page.locator("#audit-list").inner_text()
    assert "e2e-operator" in page.locator("#audit-list").inner_text()
    assert "e2e-operator" in page.locator("#corrections-list").inner_text()
    page.screenshot(path=str(shots / "viewer_after_save.png"))
    # persisted: a reload shows the same score and the corrected landmark
    page.reload()
    page.wait_for_selector("#viewer-canvas[data-painted='1']")
    assert page.locator("#score-wrist").inner_text() == new_score
    assert page.evaluate("window.wristbmeViewer.state.anatomy.landmarks.lunate_centre[0]") == pytest.approx(
        x1 + 1, abs=0.5)


def test_polygon_point_by_keyboard_and_discard(page, server):
    page.goto(server + "/cases/S01-0001")
    page.wait_for_selector("#viewer-canvas[data-painted='1']")
    page.get_by_role("button", name="Edit regions").focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("button", name="Edit regions").get_attribute("aria-pressed") == "true"
    x0, y0 = page.evaluate("window.wristbmeViewer.state.anatomy.regions.lunate.polygon[0]")
    page.get_by_label("Point").select_option("v:lunate:0")
    page.locator("#viewer-canvas").focus()
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("ArrowLeft")
    x1, y1 = page.evaluate("window.wristbmeViewer.state.anatomy.regions.lunate.polygon[0]")
    assert (x1, y1) == pytest.approx((x0 - 1, y0 + 10))
    assert page.get_by_role("button", name="Save and re-score").is_enabled()
    page.get_by_role("button", name="Discard changes").click()
    assert page.evaluate("window.wristbmeViewer.state.anatomy.regions.lunate.polygon[0]") == pytest.approx([x0, y0])
    assert page.get_by_role("button", name="Save and re-score").is_disabled()
    assert page.locator("#viewer-status").inner_text() == "Changes discarded."


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_pages_render_in_both_languages_without_raw_keys(page, server, lang, shots):
    for path in ("/", "/cases", "/cases/S01-0001", "/audit", "/report/", "/subjects/S01-0002/withdraw"):
        page.goto(f"{server}{path}{'&' if '?' in path else '?'}lang={lang}")
        text = page.locator("body").inner_text()
        assert not KEY_RE.findall(text), (path, KEY_RE.findall(text))
        assert page.locator("html").get_attribute("lang") == lang
    if lang == "ja":
        page.goto(f"{server}/cases/S01-0001?lang=ja")
        page.wait_for_selector("#viewer-canvas[data-painted='1']")
        assert page.get_by_role("button", name="拡大").count() == 1
        page.screenshot(path=str(shots / "viewer_ja.png"))
