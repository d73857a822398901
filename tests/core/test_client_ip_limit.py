import pytest

from auth_flow.models import Challenge

PROXY = "10.0.0.2"
CLIENT = "203.0.113.7"


@pytest.mark.django_db
def test_spoofed_forwarded_for_entries_do_not_dodge_the_ip_hourly_limit(
    client, settings, new_phone, caplog
):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.OTP_IP_HOURLY = 3

    def request_code(spoofed: str) -> int:
        # The client writes the left entries; the one trusted proxy appends the real peer.
        response = client.post(
            "/auth/phone/",
            {"phone": new_phone()},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"{spoofed}, {CLIENT}",
        )
        return response.status_code

    statuses = [request_code(f"198.51.100.{n}") for n in range(4)]

    assert statuses == [303, 303, 303, 429]
    assert set(Challenge.objects.values_list("ip", flat=True)) == {CLIENT}
    assert "code limited reason=ip_hourly_limit" in caplog.text
