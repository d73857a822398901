"""Without Chromium, browser tests skip with one reason saying what to install; CI fails them."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser import require_chromium

ROOT = Path(__file__).resolve().parents[1]


def test_a_configured_chromium_is_the_one_launched(monkeypatch, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(chromium))

    assert require_chromium() == str(chromium)


def test_without_chromium_a_browser_test_skips_naming_what_to_install(monkeypatch):
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_chromium()


def test_without_chromium_in_ci_a_browser_test_fails(monkeypatch):
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        require_chromium()


def test_every_browser_test_skips_for_the_same_one_reason_outside_ci():
    """The e2e tests and the API docs test alike: none fails for a missing browser."""
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["CHROMIUM"] = "/nonexistent/chromium"
    # Its own database name: nothing reaches the database, but the parent run owns its name.
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        env["DATABASE_URL"] = parts._replace(path=parts.path + "_nobrowser").geturl()

    result = subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/e2e",
            "tests/api/test_docs_browser.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert "skipped" in summary
    assert "passed" not in summary
    assert "failed" not in summary
    assert "error" not in summary
    reasons = {line.split(": ", 1)[1] for line in result.stdout.splitlines() if "SKIPPED" in line}
    assert reasons == {
        "Chromium not found at CHROMIUM=/nonexistent/chromium: "
        "apt-get install chromium, or point CHROMIUM at one"
    }
