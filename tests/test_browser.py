"""End to end in a real browser: ``streamlit run app.py`` with a stored interview, captured by headless Chromium."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _screenshot_module():
    spec = importlib.util.spec_from_file_location("screenshot_app", REPO / "scripts" / "screenshot_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("tab", ["Review flags"])
def test_browser_shows_a_stored_interview(tmp_path, tab):
    shot = _screenshot_module()
    if shot.find_chromium() is None:
        pytest.skip("no chromium on this machine (Debian package 'chromium'); the browser check needs it")
    db = tmp_path / "interviews.db"
    iid = shot.build_demo_db(db)
    text: list[str] = []
    with shot.serve_app(db) as url:
        png = shot.screenshot(f"{url}/?interview={iid}", tmp_path / "app.png", wait_for="Competencies", click=tab,
                              text=text, timeout_s=90)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # A page still loading is a blank skeleton of about 7 KB; a rendered one is far larger.
    assert len(data) > 40_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 1000)
    (page,) = text
    assert "Sample candidate" in page and "Игорь Смирнов" in page  # the stored interviews, in the sidebar
    assert "confirm" in page and "reject" in page  # the flag review tab
    assert "Traceback" not in page and "Error" not in page
