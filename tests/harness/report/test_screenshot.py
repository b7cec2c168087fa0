"""The HTML page rendered by headless Chromium (skipped where no Chromium is installed)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from harness.report import ReportFiles
from harness.report.screenshot import find_chromium, screenshot


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium (apt-get install chromium)")
def test_page_renders_at_1280_px(report_files: ReportFiles, tmp_path: Path) -> None:
    png = screenshot(report_files.html, tmp_path / "leaderboard.png", width=1280, height=1600)

    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (1280, 1600)
    assert len(data) > 50_000  # tables and plots, not a blank page
