"""The Prometheus alert rules (site_config/prometheus/): valid, firing when they should,
and about metrics the service exports."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "site_config" / "prometheus"
TOKEN = "metrics-token-for-the-tests-0123456789"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        reason = "promtool is not installed (Debian's prometheus: scripts/install-test-tools)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return subprocess.run(  # noqa: S603 - fixed arguments
        [promtool, *args], cwd=RULES, capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_finds_the_rules_valid():
    result = _promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


def test_each_alert_fires_on_its_case_and_not_before():
    result = _promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_every_metric_a_rule_reads_is_exported(client, settings):
    settings.METRICS_TOKEN = TOKEN
    client.get("/")  # so that the request series have a sample
    exported = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    names = set(re.findall(r"^# TYPE (\w+) ", exported, re.M))
    names |= {f"{name}_total" for name in names}
    read = set(re.findall(r"\b(referral_[a-z_]+)", (RULES / "alerts.yml").read_text()))
    assert read <= names, sorted(read - names)
