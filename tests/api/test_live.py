"""The API against a live server: the Postman collection (newman) and schema fuzzing.

Both run the real tools as CI would; a missing tool is a failure, never a skip.
"""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rest_framework_simplejwt.tokens import RefreshToken

from rewards.services import program_set

ROOT = Path(__file__).resolve().parents[2]
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
POSTMAN = ROOT / "docs" / "postman"

# "Every answer conforms to the schema": status codes, content types, headers, bodies.
# Checks that expect a 2xx for schema-valid input do not apply: a random valid code is wrong.
SCHEMA_CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


def run(
    command: list[str | Path], *, timeout: int, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603 - our own tools, fixed arguments
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
    print(result.stdout[-20_000:], result.stderr[-5_000:])
    return result


def test_postman_collection_runs_green_with_newman(live_server, settings):
    assert NEWMAN.exists(), f"{NEWMAN} is missing: run `npm ci` (make test does it)"
    settings.SMS_BACKEND = "demo"
    settings.DEMO_MODE = True  # the demo backend shows codes only in demo mode (or DEBUG)
    # Short enough for the collection to wait out before its code_replaced case (it
    # skips that case past 10 s), long enough that its cooldown cases still meet it.
    settings.OTP_RESEND_COOLDOWN = 3
    # The demo program `make run` sets: the collection reads the rewards it grants.
    program_set(referrer_amount=100, friend_amount=50, milestones={3: 500, 10: 2000}, hold_days=0)
    result = run(
        [
            NEWMAN,
            "run",
            POSTMAN / "referral.postman_collection.json",
            "--environment",
            POSTMAN / "local.postman_environment.json",
            "--env-var",
            f"base_url={live_server.url}",
            "--timeout-request",
            "10000",
            "--color",
            "off",
            "--bail",
        ],
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-5_000:] + result.stderr
    assert "error code code_replaced" in result.stdout, "the code_replaced case was skipped"


def test_api_answers_conform_to_the_schema_under_fuzzing(
    live_server, make_member: Callable, tmp_path: Path
):
    assert SCHEMATHESIS.exists(), f"{SCHEMATHESIS} is missing: install requirements-dev.txt"
    access = RefreshToken.for_user(make_member()).access_token
    result = run(
        [
            SCHEMATHESIS,
            "run",
            f"{live_server.url}/api/schema/",
            "--checks",
            SCHEMA_CHECKS,
            "--max-examples",
            "30",
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "1",
            "--seed",
            "20260101",
            "--request-timeout",
            "10",
            "--header",
            f"Authorization: Bearer {access}",
        ],
        timeout=180,
        # Schemathesis keeps a cache in its working directory; keep it out of the tree.
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-10_000:] + result.stderr
