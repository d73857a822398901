"""`bench/send_code.py --provider smsru`, small: a burst through the real SMS.ru backend
to a fake provider is all answered, each code sent once, within the pool."""

import pytest
from django.db import connection

from auth_flow.sms.breaker import breakers_reset
from bench.common import Server
from bench.send_code import measure
from tests.fakes.sms_servers import FakeSmsServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_burst_through_the_smsru_backend_is_all_answered(live_server, settings):
    breakers_reset()
    with FakeSmsServer(kind="smsru", delay=(0.2, 0.4)) as fake:
        settings.SMS_BACKEND = "smsru"
        settings.SMSRU_API_ID = "bench"
        settings.SMSRU_BASE_URL = fake.url
        settings.OTP_PREFIX_HOURLY = 1000  # the burst's numbers are consecutive: one range
        server = Server("threaded", port=int(live_server.url.rsplit(":", 1)[1]), env={})
        result = measure(server, connection.settings_dict["NAME"], requests=40, first_phone=500)
    assert result.answered == 40, result
    assert len(fake.received) == 40
    assert result.peak_connections <= settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
