from unittest import mock

import pytest
from django.db import OperationalError, connection


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_fails(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("refused")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


@pytest.mark.django_db
def test_healthz_answers_probes_by_ip_over_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["referral.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    probe = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    page = client.get("/", HTTP_HOST="10.0.0.7:8000")

    assert probe.status_code == 200
    assert page.status_code == 400  # everything else still checks the host


@pytest.mark.django_db
def test_healthz_answers_head_and_refuses_writes(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
