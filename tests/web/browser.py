"""Debian's chromium, driven through Debian's chromedriver by selenium: nothing is
downloaded at test time (SE_OFFLINE keeps Selenium Manager from looking for drivers)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Chromium as root in a container: no sandbox, no GPU, nothing fetched in the background.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def chromium_or_skip() -> None:
    """Skip when Debian's chromium is missing (install: apt-get install chromium
    chromium-driver; .ci/run does); in CI a missing browser is a failure."""
    if shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER):
        return
    message = "Debian's chromium and chromium-driver are needed: apt-get install -y chromium chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def chromium_start(profile_dir: Path):
    """A headless chromium with a fresh profile in ``profile_dir``; the caller quits it."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*CHROMIUM_ARGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
