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


@pytest.mark.django_db
def test_every_page_or_fragment_answer_varies_on_htmx_and_a_history_restore_gets_the_page(
    client,
):
    fragment = client.post("/auth/phone/", {"phone": "nope"}, HTTP_HX_REQUEST="true")
    restore = client.post(
        "/auth/phone/",
        {"phone": "nope"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert fragment.status_code == restore.status_code == 422
    assert "<html" not in fragment.content.decode()
    assert "<html" in restore.content.decode()
    assert "HX-Request" in fragment["Vary"] and "HX-Request" in restore["Vary"]
