"""Which Chromium the browser tests drive, and what happens without one.

One policy for every browser test (tests/e2e/, tests/api/test_docs_browser.py),
applied by the `browser` fixture in tests/conftest.py: Debian's Chromium (or
`CHROMIUM`); missing, the tests skip with one reason saying what to install,
except in CI, where they fail.
"""

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = "Chromium not found: apt-get install chromium (or set CHROMIUM=/path)"


def chromium_path() -> str | None:
    """`CHROMIUM` if set (and there), else chromium on PATH."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser_message() -> str:
    configured = os.environ.get("CHROMIUM")
    if configured:
        return (
            f"Chromium not found at CHROMIUM={configured}: "
            "apt-get install chromium, or point CHROMIUM at one"
        )
    return MISSING


def require_chromium() -> str:
    """The Chromium to launch; without one, skip the test (fail it in CI)."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail(missing_browser_message())
        pytest.skip(missing_browser_message())
    return executable
