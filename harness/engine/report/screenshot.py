"""Screenshot the HTML leaderboard in headless Chromium, to check what a reviewer will see.

    python -m harness.engine.report.screenshot results/leaderboard.html leaderboard.png

The whole page is captured: Chromium first loads a copy of the page that records its own
height once laid out at the given width (read back with ``--dump-dom``), then screenshots a
window that tall. ``--height`` fixes the height instead. Chromium runs with a fresh, throw-away
profile and every background network feature off, so the screenshot also proves the page needs
no network.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.api import HarnessError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MAX_HEIGHT = 16_384
"""Tallest capture (Chromium's largest texture side): a taller page is cut at this height."""
_HEIGHT_ATTRIBUTE = "data-harness-page-height"
_PROBE = (
    "<script>addEventListener('load', () => { const d = document.documentElement; "
    f"d.setAttribute('{_HEIGHT_ATTRIBUTE}', Math.ceil(Math.max(d.scrollHeight, "
    "document.body ? document.body.scrollHeight : 0))); });</script>"
)
_SETTLE_MS = 5000
"""Virtual time Chromium lets the page run (fonts, images, scripts) before it is read."""


def find_chromium() -> str | None:
    """The first Chromium-like browser on PATH, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(
    page: Path,
    png: Path,
    *,
    width: int = 1280,
    height: int | None = None,
    timeout_s: float = 120,
) -> Path:
    """Render ``page`` at ``width`` CSS pixels into ``png``, the whole page tall (capped at
    MAX_HEIGHT) unless ``height`` is given."""
    browser = find_chromium()
    if browser is None:
        raise HarnessError("no Chromium on PATH; on Debian/Ubuntu: apt-get install -y chromium")
    page = page.resolve()
    if not page.is_file():
        raise HarnessError(f"{page} does not exist; build it with `harness report`")
    if height is None:
        height = min(page_height(page, width=width, timeout_s=timeout_s), MAX_HEIGHT)
    png = png.resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    done = _chromium(
        browser,
        [f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri()],
        timeout_s,
    )
    if not png.is_file():
        raise HarnessError(f"{browser} wrote no screenshot: {done.stderr.strip()[-2000:]}")
    return png


def page_height(page: Path, *, width: int = 1280, timeout_s: float = 120) -> int:
    """The height in CSS pixels of ``page`` laid out ``width`` pixels wide.

    A copy of the page with a script that records the height is loaded from a temporary folder
    (a ``<base>`` element keeps its relative links pointing at the page's own folder), so
    nothing is written beside the page.
    """
    browser = find_chromium()
    if browser is None:
        raise HarnessError("no Chromium on PATH; on Debian/Ubuntu: apt-get install -y chromium")
    html = page.read_text(encoding="utf-8", errors="replace")
    base = f'<base href="{page.parent.as_uri()}/">'
    head = re.search(r"<head[^>]*>", html, flags=re.IGNORECASE)
    html = html[: head.end()] + base + html[head.end() :] if head else base + html
    with tempfile.TemporaryDirectory(prefix="harness-page-height-") as folder:
        probe = Path(folder) / page.name
        probe.write_text(html + _PROBE, encoding="utf-8")
        done = _chromium(
            browser, [f"--window-size={width},800", "--dump-dom", probe.as_uri()], timeout_s
        )
    found = re.search(rf'{_HEIGHT_ATTRIBUTE}="(\d+)"', done.stdout)
    if found is None:
        raise HarnessError(
            f"{browser} did not report the height of {page}: {done.stderr.strip()[-2000:]}"
        )
    return max(int(found.group(1)), 1)


def _chromium(browser: str, args: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--virtual-time-budget={_SETTLE_MS}",
            f"--user-data-dir={profile}",
            *args,
        ]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{browser} did not finish within {timeout_s:.0f} s") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the HTML file")
    parser.add_argument("png", type=Path, help="where to write the screenshot")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument(
        "--height", type=int, default=None, help="fixed height (default: the whole page)"
    )
    args = parser.parse_args(argv)
    try:
        path = screenshot(args.page, args.png, width=args.width, height=args.height)
    except HarnessError as exc:
        parser.exit(2, f"error: {exc}\n")
    print(path)


if __name__ == "__main__":
    main()
