"""The HTML page rendered by headless Chromium (skipped where no Chromium is installed)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from PIL import Image

from harness.engine.report import ReportFiles
from harness.engine.report.screenshot import find_chromium, page_height, screenshot

pytestmark = pytest.mark.skipif(
    find_chromium() is None, reason="no Chromium (apt-get install chromium)"
)

TALL_PAGE = """<!doctype html>
<html><head><style>body { margin: 0 } div { height: 1000px }</style></head>
<body><div style="background: #fff"></div><div style="background: #00f"></div>
<div style="background: #fff"></div><div style="background: #fff"></div>
<div style="background: #f00"></div></body></html>
"""


def _size(png: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", png.read_bytes()[16:24])  # the IHDR chunk
    return width, height


def test_page_renders_at_1280_px(report_files: ReportFiles, tmp_path: Path) -> None:
    png = screenshot(report_files.html, tmp_path / "leaderboard.png", width=1280, height=1600)

    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert _size(png) == (1280, 1600)
    assert len(data) > 50_000  # tables and plots, not a blank page


def test_the_whole_report_page_is_captured(report_files: ReportFiles, tmp_path: Path) -> None:
    png = screenshot(report_files.html, tmp_path / "leaderboard.png")

    assert _size(png) == (1280, page_height(report_files.html, width=1280))


def test_a_page_taller_than_any_window_is_captured_to_its_last_pixel(tmp_path: Path) -> None:
    page = tmp_path / "tall.html"
    page.write_text(TALL_PAGE)

    png = screenshot(page, tmp_path / "tall.png", width=400)

    assert page_height(page, width=400) == 5000
    with Image.open(png) as image:
        assert image.size == (400, 5000)
        rgb = image.convert("RGB")
        assert rgb.getpixel((200, 1500)) == (0, 0, 255)  # the second block
        assert rgb.getpixel((200, 4999)) == (255, 0, 0)  # the last block, to the bottom row
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tall.html", "tall.png"]
