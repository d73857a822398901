"""scripts/install-test-tools: `make test`'s one install step, for CI and a fresh machine alike.

Nothing is uninstalled for these tests: `CHROMIUM` pointing nowhere makes the
browser missing, and fake `id` / `apt-get` on a PATH of their own stand in for
root, a laptop and the package manager.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-test-tools"
BASH = shutil.which("bash") or "/bin/bash"


def _fake(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path: Path):
    """A PATH holding only the fakes the test adds; `apt.log` records apt-get's calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"

    def run(*, uid: int, apt: bool, have: tuple[str, ...] = (), chromium: str = "/nonexistent"):
        _fake(bin_dir, "id", f'[ "$1" = -u ] && echo {uid}')
        if apt:
            _fake(bin_dir, "apt-get", f'echo "$*" >> {log}')
        for tool in have:
            _fake(bin_dir, tool, "true")
        result = subprocess.run(  # noqa: S603 - the script under test
            [BASH, str(SCRIPT)],
            env={"PATH": str(bin_dir), "CHROMIUM": chromium},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        calls = log.read_text().splitlines() if log.exists() else []
        return result, calls

    return run


def test_as_root_with_apt_it_installs_only_what_is_missing(machine):
    result, calls = machine(uid=0, apt=True, have=("msgfmt", "pgbouncer", "promtool"))

    assert result.returncode == 0, result.stderr
    assert calls == ["update -qq", "install -y -qq chromium wrk"]
    assert result.stdout == "Installing chromium wrk (apt-get)\n"


def test_with_everything_present_it_says_nothing_and_installs_nothing(machine, tmp_path):
    chromium = tmp_path / "chromium"
    _fake(tmp_path, "chromium", "true")

    result, calls = machine(
        uid=0, apt=True, have=("msgfmt", "wrk", "pgbouncer", "promtool"), chromium=str(chromium)
    )

    assert (result.returncode, result.stdout, result.stderr, calls) == (0, "", "", [])


def test_not_root_it_prints_one_line_naming_what_to_install_and_goes_on(machine):
    result, calls = machine(uid=1000, apt=True, have=("pgbouncer", "promtool"))

    assert result.returncode == 0
    assert calls == []
    assert result.stdout.splitlines() == [
        "Not installing chromium gettext wrk (not root): "
        "sudo apt-get install chromium gettext wrk; browser tests skip without chromium."
    ]


def test_without_apt_get_it_prints_one_line_and_goes_on(machine):
    result, calls = machine(uid=0, apt=False, have=("wrk", "pgbouncer", "promtool"))

    assert result.returncode == 0
    assert calls == []
    assert result.stdout.splitlines() == [
        "Not installing chromium gettext (no apt-get here): install them with your "
        "package manager; browser tests skip without chromium."
    ]


def test_pgbouncer_and_promtool_come_from_their_debian_packages(machine, tmp_path):
    chromium = tmp_path / "chromium"
    _fake(tmp_path, "chromium", "true")

    result, calls = machine(uid=0, apt=True, have=("msgfmt", "wrk"), chromium=str(chromium))

    assert result.returncode == 0, result.stderr
    assert calls == ["update -qq", "install -y -qq pgbouncer prometheus"]


def test_make_test_and_ci_share_the_one_install_step():
    makefile = (ROOT / "Makefile").read_text()
    assert "\n\t@scripts/install-test-tools\n" in makefile.split("\ntools:", 1)[1]
    test_prerequisites = makefile.split("\ntest:", 1)[1].split("\n", 1)[0].split()
    assert "tools" in test_prerequisites
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get" not in ci
    assert ci.rstrip().endswith("make test")
