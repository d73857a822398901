import pytest
from django.test import RequestFactory

from core.http import client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),
        (1, "6.6.6.6, 2.2.2.2", "2.2.2.2"),
        (2, "6.6.6.6, 2.2.2.2, 172.16.0.5", "2.2.2.2"),
        (1, "", "10.0.0.1"),
        (1, "not-an-ip", "10.0.0.1"),
        (1, "2001:db8:1:2:aaaa::1", "2001:db8:1:2::"),
        (1, "::ffff:192.0.2.9", "192.0.2.9"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_one_ipv6_client_counts_as_its_64_block(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    factory = RequestFactory()
    first = client_ip(factory.get("/", REMOTE_ADDR="2001:db8:1:2::1"))
    other = client_ip(factory.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9"))
    elsewhere = client_ip(factory.get("/", REMOTE_ADDR="2001:db8:1:3::1"))
    assert first == other != elsewhere


@pytest.mark.django_db
def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
