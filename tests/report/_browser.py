"""Headless Chromium driven by Selenium (chromedriver from Debian; Selenium Manager never downloads)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-dev-shm-usage", "--window-size=1280,2000", "--hide-scrollbars"]
_tried = False


def _install() -> str | None:
    """Try once to install Chromium from Debian (as root); return why not when it cannot."""
    global _tried
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return None
    if _tried:
        return "an earlier install attempt failed"
    _tried = True
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "not root or no apt-get"
    try:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"], check=True,
                       capture_output=True, timeout=1200, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except (subprocess.SubprocessError, OSError) as e:
        return f"apt-get install chromium chromium-driver failed ({e})"
    return None if CHROMIUM.exists() and CHROMEDRIVER.exists() else "chromium still missing after apt-get"


@contextmanager
def chromium() -> Iterator[Any]:
    """A Selenium Chrome driver on the system Chromium with a fresh profile; skips when unavailable."""
    why = _install()
    if why is not None:
        pytest.skip(f"headless Chromium is not available ({why}); install it with: "
                    "apt-get install -y chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed; pip install -e '.[dev]'")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download a driver or browser
    profile = tempfile.mkdtemp(prefix="datadiet-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for f in FLAGS:
        opts.add_argument(f)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
