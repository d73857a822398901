"""/metrics: Prometheus text for the scraper that holds the token, nobody else."""

import time

import pytest

TOKEN = "metrics-token-for-the-tests-0123456789"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(client, token: str = TOKEN, **extra):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


@pytest.mark.django_db
def test_the_scraper_with_the_token_gets_prometheus_text_with_requests_by_route(
    client, metrics_token
):
    client.get("/")
    client.get("/no-such-page/")
    response = _scrape(client)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert 'referral_http_requests_total{method="GET",route="auth_flow:sign_in",status="200"}' in (
        text
    )
    assert 'route="unmatched",status="404"' in text
    assert "referral_http_request_duration_seconds_bucket{" in text
    assert "# TYPE referral_code_requests_total counter" in text


def test_without_the_token_it_is_401_with_a_bearer_challenge(client, metrics_token):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401, headers
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"referral_" not in response.content


def test_with_no_token_configured_there_is_no_metrics_page(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert _scrape(client, token="").status_code == 404


@pytest.mark.django_db
def test_scrapers_reach_it_by_address_over_plain_http(client, metrics_token, settings):
    settings.ALLOWED_HOSTS = ["referral.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = _scrape(client, HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    assert client.get("/", HTTP_HOST="10.0.3.7:8000").status_code == 400  # the rest still checks


@pytest.fixture
def extra_collector():
    """Register a scrape-time collector for one test."""
    from core import metrics

    added = []

    def register(collect):
        metrics.scrape_collector_register(collect)
        added.append(collect)

    yield register
    for collect in added:
        metrics._scrape_collectors.remove(collect)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_slow_figure_is_given_up_and_the_others_still_arrive(
    client, metrics_token, extra_collector, caplog
):
    from django.db import connection
    from prometheus_client.core import GaugeMetricFamily

    seen = {}

    def settings_seen():
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            seen["parallel"] = cursor.fetchone()[0]
        yield GaugeMetricFamily("referral_test_quick", "A quick figure.", value=1)

    def stuck():
        yield GaugeMetricFamily("referral_test_stuck_half", "Yielded before it hangs.", value=1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(30)")

    extra_collector(stuck)
    extra_collector(settings_seen)
    started = time.monotonic()
    response = _scrape(client)

    assert response.status_code == 200
    assert time.monotonic() - started < 10
    text = response.content.decode()
    assert "referral_test_quick 1.0" in text
    assert "referral_sms_budget_used{" in text  # the apps' figures too
    assert "referral_test_stuck_half" not in text  # a failed collector gives nothing
    assert "metrics collector failed" in caplog.text
    # A scrape's queries run serially: no parallel workers for bookkeeping.
    assert seen["parallel"] == "0"


@pytest.mark.postgres
def test_through_pgbouncer_the_figures_arrive_and_their_settings_end_with_them(
    transactional_db, client, metrics_token, extra_collector, through_pgbouncer
):
    from django.db import connection
    from prometheus_client.core import GaugeMetricFamily

    def timeout_seen():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen = cursor.fetchone()[0]
        yield GaugeMetricFamily("referral_test_timeout_2s", "SET LOCAL held.", value=seen == "2s")

    extra_collector(timeout_seen)
    text = _scrape(client).content.decode()

    assert "referral_test_timeout_2s 1.0" in text
    assert 'referral_queue_jobs{queue="events",status="todo"}' in text
    assert 'referral_reward_grants{state="pending"}' in text
    # Transaction-scoped: the server connection PgBouncer hands on next keeps nothing.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
