"""A code request whose SMS budgets' take fails after its challenge committed (the take
rides in the insert's round trip, after its COMMIT: auth_flow.services)."""

import importlib

import pytest
from django.db import connection
from rest_framework.test import APIClient

from auth_flow.models import Challenge

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CODE_URL = "/api/v1/auth/code/"


@pytest.fixture(autouse=True, params=["direct", "pgbouncer"])
def database_route(request):
    if request.param == "pgbouncer":
        request.getfixturevalue("through_pgbouncer")
    return request.param


def _ask(phone: str, ip: str):
    client = APIClient(REMOTE_ADDR=ip)
    client.raise_request_exception = False
    return client.post(CODE_URL, {"phone": phone}, format="json")


def _take_sql() -> str:
    return importlib.import_module("auth_flow.migrations.0008_budget_take_function").TAKE


def test_a_failed_budget_take_leaves_no_pending_code_holding_the_phone(settings, new_phone, outbox):
    """Found by the review: the take failing the way a statement_timeout cancels it
    (query_canceled) left the committed challenge pending, so the next request got
    429 resend_cooldown ("a code was just sent") for a code that never went out."""
    settings.OTP_GLOBAL_HOURLY, settings.OTP_DEVICE_HOURLY = 100, 0
    phone = new_phone()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION auth_flow_budget_take(
                p_window timestamptz, p_shards text[], p_shard_limits integer[], p_first integer,
                p_keys text[], p_limits integer[]
            ) RETURNS text[] LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'canceling statement due to statement timeout'
                    USING ERRCODE = 'query_canceled';
            END $$;
            """
        )
    try:
        first = _ask(phone, "198.51.100.201")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(_take_sql())
    assert first.status_code != 500
    assert outbox == []
    pending = list(
        Challenge.objects.filter(phone=phone, state=Challenge.State.PENDING).values_list(
            "pk", flat=True
        )
    )
    # The member, asking again once the database answers, gets a code: no cooldown
    # or phone slot is spent on a code that was never sent.
    again = _ask(phone, "198.51.100.201")
    assert again.status_code == 202, (first.status_code, again.json(), pending)
    assert pending == []
