"""Screenshot the HTML leaderboard in headless Chromium, to check what a reviewer will see.

    python -m harness.report.screenshot results/leaderboard.html leaderboard.png --height 3000

Chromium runs with a fresh, throw-away profile and every background network feature off, so
the screenshot also proves the page needs no network.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.api import HarnessError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The first Chromium-like browser on PATH, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(
    page: Path, png: Path, *, width: int = 1280, height: int = 2000, timeout_s: float = 120
) -> Path:
    """Render ``page`` at ``width`` x ``height`` CSS pixels into ``png``."""
    browser = find_chromium()
    if browser is None:
        raise HarnessError("no Chromium on PATH; on Debian/Ubuntu: apt-get install -y chromium")
    png = png.resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
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
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{browser} did not finish within {timeout_s:.0f} s") from None
    if not png.is_file():
        raise HarnessError(f"{browser} wrote no screenshot: {done.stderr.strip()[-2000:]}")
    return png


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the HTML file")
    parser.add_argument("png", type=Path, help="where to write the screenshot")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args(argv)
    try:
        path = screenshot(args.page, args.png, width=args.width, height=args.height)
    except HarnessError as exc:
        parser.exit(2, f"error: {exc}\n")
    print(path)


if __name__ == "__main__":
    main()
