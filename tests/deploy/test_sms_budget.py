"""The hourly SMS budget holds across processes: two `make serve` servers on one
PostgreSQL, a parallel burst through both, a fake SMS.ru counting what it was asked."""

import threading
from collections import Counter

import pytest

from tests.deploy.conftest import post_code
from tests.fakes.sms_servers import FakeSmsServer

pytestmark = pytest.mark.postgres

BUDGET = 12
REQUESTS = 40


def test_budget_holds_across_two_servers_under_a_parallel_burst(serve, serve_database_url):
    with FakeSmsServer(kind="smsru", delay=(0.05, 0.2)) as fake:
        env = {
            "DATABASE_URL": serve_database_url,
            "SECURE_SSL_REDIRECT": "0",
            "SMS_BACKEND": "smsru",
            "SMSRU_API_ID": "budget-test",
            "SMSRU_BASE_URL": fake.url,
            "OTP_GLOBAL_HOURLY": str(BUDGET),
            "OTP_DEVICE_HOURLY": "0",  # strangers may use the whole budget
            "OTP_IP_HOURLY": "1000",  # every request comes from 127.0.0.1
        }
        servers = [serve(**env), serve(**env)]
        answers: list[tuple[int, str]] = [(0, "")] * REQUESTS
        barrier = threading.Barrier(REQUESTS)

        def send(index: int) -> None:
            barrier.wait()
            answers[index] = post_code(servers[index % 2], f"+7999555{index:04d}")

        threads = [threading.Thread(target=send, args=(i,)) for i in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    outcomes = Counter(answers)
    assert outcomes == {(202, ""): BUDGET, (503, "sms_budget_exhausted"): REQUESTS - BUDGET}
    assert len(fake.received) == BUDGET
    logs = servers[0].output() + servers[1].output()
    # One ERROR line for the window, from whichever process refused first.
    assert logs.count("sms budget exhausted budget=global") == 1
