"""Open a real report in headless Chromium: no console errors, counts as in the manifest, not blank."""

import io
import json
import time

import numpy as np
import pytest

from datadiet.io import manifest_path
from datadiet.report import write_report
from tests.report._browser import chromium

pytest.importorskip("plotly")
pytestmark = pytest.mark.slow


def _parse(text):
    return float(text.split()[0].replace(",", ""))


def test_report_in_headless_chromium(bbc_selection, bbc_jsonl, bbc_embedding, tmp_path):
    from PIL import Image

    report = write_report(bbc_selection, tmp_path / "report.html", data=bbc_jsonl)
    manifest = json.loads(manifest_path(bbc_selection).read_text())
    with chromium() as driver:
        driver.get(report.as_uri())
        deadline = time.time() + 60
        while time.time() < deadline and driver.execute_script(
                "return document.querySelectorAll('.js-plotly-plot .main-svg').length") == 0:
            time.sleep(0.2)
        n_plots = driver.execute_script("return document.querySelectorAll('.js-plotly-plot').length")
        drawn = driver.execute_script("return document.querySelectorAll('.js-plotly-plot .main-svg').length")
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        # every resource came from the file itself: nothing fetched from a network
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => !n.startsWith('file:') && !n.startsWith('data:'))")
        shown = {e.get_attribute("data-count"): _parse(e.find_element("css selector", ".n").text)
                 for e in driver.find_elements("css selector", "[data-count]")}
        points = driver.execute_script(
            "return document.querySelectorAll('#embedding-map .scatterlayer .point').length")
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(height + 120, 8000))
        png = driver.get_screenshot_as_png()
    (tmp_path / "report.png").write_bytes(png)
    assert errors == []
    assert fetched == []
    assert n_plots >= 5 and drawn >= n_plots  # every chart drawn by the inlined plotly.js
    for k, v in manifest["counts"].items():
        assert shown[k] == v
    assert shown["n_input"] == manifest["n_input"]
    assert shown["total_repeats"] == manifest["total_repeats"]
    assert points == 2225  # the map draws every row of this small corpus
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)
    assert img.shape[0] > 1500 and img.shape[1] >= 1200
    assert img.std() > 20  # not a blank page
    colours = np.unique(img[::4, ::4].reshape(-1, 3), axis=0)
    assert len(colours) > 50
    kept_green = np.all(np.abs(img - np.array([0x2A, 0x9D, 0x8F])) < 12, axis=2).mean()
    assert kept_green > 0.005  # the kept bars / points are drawn, not just text
