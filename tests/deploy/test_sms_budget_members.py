"""Strangers cannot spend the members' budget: two `make serve` servers on one
PostgreSQL, a fake SMS.ru, a pumping burst that spends a range's and then the
country's hourly budget; a member's browser (the `device` cookie) and a member's
app (its `device_token`) still get their codes."""

import http.client
import json
import re
import threading
from collections import Counter

import pytest

from tests.deploy.conftest import Browser, Server
from tests.fakes.sms_servers import FakeSmsServer

pytestmark = pytest.mark.postgres

REGION = 8
PREFIX = 3
WEB_MEMBER = "+79996610001"
API_MEMBER = "+79996620002"


def post_json(server: Server, path: str, body: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        answer = json.loads(response.read() or b"{}")
    finally:
        connection.close()
    return response.status, answer


def last_code(fake: FakeSmsServer, phone: str) -> str:
    texts = [r.form["msg"] for r in fake.received if r.form.get("to") == phone.lstrip("+")]
    return re.search(r"\d{4}", texts[-1])[0]


def test_strangers_spending_a_range_and_the_country_leave_members_with_devices_their_codes(
    serve, serve_database_url
):
    with FakeSmsServer(kind="smsru", delay=(0.02, 0.1)) as fake:
        env = {
            "DATABASE_URL": serve_database_url,
            "SECURE_SSL_REDIRECT": "0",
            "SMS_BACKEND": "smsru",
            "SMSRU_API_ID": "budget-test",
            "SMSRU_BASE_URL": fake.url,
            "OTP_REGION_HOURLY": str(REGION),
            "OTP_PREFIX_HOURLY": str(PREFIX),
            "OTP_IP_HOURLY": "1000",  # every request comes from 127.0.0.1
        }
        first, second = serve(**env), serve(**env)

        # Two members signed in earlier: a browser (device cookie) and an app (device_token).
        browser = Browser()
        assert browser.request(first, "GET", "/").status == 200
        assert browser.post(first, "/auth/phone/", {"phone": WEB_MEMBER}).status == 303
        signed_in = browser.post(second, "/auth/code/", {"code": last_code(fake, WEB_MEMBER)})
        assert signed_in.status == 302, signed_in.text
        assert browser.cookies.get("device")
        status, asked = post_json(first, "/api/v1/auth/code/", {"phone": API_MEMBER})
        assert status == 202, asked
        body = {"phone": API_MEMBER, "code": last_code(fake, API_MEMBER)}
        status, tokens = post_json(
            second, "/api/v1/auth/token/", {**body, "challenge": asked["challenge"]}
        )
        assert status == 200, tokens

        # A pumping run: first on one range, then spread over the country, through both.
        pumped = [f"+7999550{index:04d}" for index in range(12)]
        spread = [f"+7999{index:02d}{index:05d}" for index in range(10, 40)]
        answers: dict[str, tuple[int, str]] = {}

        def burst(phones: list[str]) -> None:
            barrier = threading.Barrier(len(phones))

            def send(index: int, phone: str) -> None:
                barrier.wait()
                status, answer = post_json(
                    (first, second)[index % 2], "/api/v1/auth/code/", {"phone": phone}
                )
                answers[phone] = (status, answer.get("code", ""))

            threads = [threading.Thread(target=send, args=pair) for pair in enumerate(phones)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

        burst(pumped)
        assert Counter(answers[phone] for phone in pumped) == {
            (202, ""): PREFIX,
            (503, "sms_budget_exhausted"): len(pumped) - PREFIX,
        }
        burst(spread)
        # The country's budget: the two members' sign-ins, the range's three, then the rest.
        assert Counter(answers[phone] for phone in spread) == {
            (202, ""): REGION - 2 - PREFIX,
            (503, "sms_budget_exhausted"): len(spread) - (REGION - 2 - PREFIX),
        }
        # Any stranger now: the country is spent (a member's number answers the same:
        # which budget applies depends on the token a request carries, not the number).
        status, unknown = post_json(first, "/api/v1/auth/code/", {"phone": "+79996629999"})
        assert (status, unknown["code"]) == (503, "sms_budget_exhausted")
        sent_before = len(fake.received)

        # The members' own devices still get their codes, through either server (the
        # browser signed out since: its device cookie outlives the session).
        assert browser.post(first, "/auth/logout/", {}).status == 302
        assert browser.request(second, "GET", "/").status == 200
        again = browser.post(second, "/auth/phone/", {"phone": WEB_MEMBER})
        assert again.status == 303, again.text
        body = {"phone": API_MEMBER, "device_token": tokens["device_token"]}
        status, resent = post_json(first, "/api/v1/auth/code/", body)
        assert status == 202, resent
        assert len(fake.received) == sent_before + 2
        status, verified = post_json(
            second,
            "/api/v1/auth/token/",
            {
                "phone": API_MEMBER,
                "code": last_code(fake, API_MEMBER),
                "challenge": resent["challenge"],
            },
        )
        assert status == 200, verified

    logs = first.output() + second.output()
    assert "sms budget exhausted budget=px:799955" in logs
    assert "sms budget exhausted budget=cc:7" in logs
