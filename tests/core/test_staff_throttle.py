"""The staff password form is throttled per account and per client IP (django-axes)."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.staff import PASSWORD_BACKEND
from profiles.models import User

PASSWORD = "a-long-operator-password"
LOGIN = "/admin/login/?next=/admin/"
OPERATOR = "+79990000001"
OTHER_OPERATOR = "+79990000002"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Every attempt hashes a password: the production hasher would take minutes here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operators(db):
    return [User.objects.create_superuser(phone, PASSWORD) for phone in (OPERATOR, OTHER_OPERATOR)]


def _sign_in(client, phone, password, ip="10.0.0.1", **headers):
    return client.post(
        LOGIN,
        {"username": phone, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        **headers,
    )


def _wrong_passwords(client, phone, count, ip="10.0.0.1"):
    return [_sign_in(client, phone, f"wrong-{n}", ip=ip) for n in range(count)]


def test_five_wrong_passwords_then_the_right_one_is_refused_with_the_wait(client, operators):
    answers = _wrong_passwords(client, OPERATOR, 5)

    assert [answer.status_code for answer in answers[:4]] == [200] * 4  # the form again
    assert answers[4].status_code == 429
    refused = _sign_in(client, OPERATOR, PASSWORD)
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many wrong passwords for this account or from this network" in page
    assert "try again in 15 minutes" in page
    assert 890 <= int(refused["Retry-After"]) <= 900
    assert 'id="site-name"' in page  # the admin's own page, not a bare text
    assert client.get("/admin/").status_code == 302  # not signed in


def test_lockout_page_speaks_russian(client, operators):
    _wrong_passwords(client, OPERATOR, 5)

    refused = _sign_in(client, OPERATOR, PASSWORD, HTTP_ACCEPT_LANGUAGE="ru")

    assert refused.status_code == 429
    assert "Слишком много неверных паролей" in refused.content.decode()


def test_the_account_is_locked_from_every_address_and_the_address_for_every_account(
    operators,
):
    _wrong_passwords(Client(), OPERATOR, 5, ip="10.0.0.1")

    # Another account from another address: not affected.
    other = Client()
    assert _sign_in(other, OTHER_OPERATOR, PASSWORD, ip="10.0.0.2").status_code == 302
    assert other.get("/admin/").status_code == 200
    # The locked account from another address, another account from the locked address.
    assert _sign_in(Client(), OPERATOR, PASSWORD, ip="10.0.0.3").status_code == 429
    assert _sign_in(Client(), OTHER_OPERATOR, PASSWORD, ip="10.0.0.1").status_code == 429


def test_retyping_the_phone_another_way_counts_against_the_same_account(client, operators):
    for typed in (
        "+7 999 000-00-01",
        "89990000001",
        "8 (999) 000 00 01",
        "+79990000001",
        "7999 0000001",
    ):
        _sign_in(client, typed, "wrong", ip="10.0.0.9")
        client.cookies.clear()

    assert _sign_in(Client(), OPERATOR, PASSWORD, ip="10.0.0.10").status_code == 429


def test_client_ip_behind_a_proxy_is_the_forwarded_one(client, operators, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        _sign_in(
            client,
            OTHER_OPERATOR if n % 2 else "+79990009999",
            "wrong",
            ip="172.16.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )

    # Another client behind the same load balancer is not the locked one.
    fine = _sign_in(
        Client(), OPERATOR, PASSWORD, ip="172.16.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8"
    )
    assert fine.status_code == 302
    locked = _sign_in(
        Client(), OPERATOR, PASSWORD, ip="172.16.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert locked.status_code == 429


def test_after_the_cool_off_the_right_password_works(client, operators):
    _wrong_passwords(client, OPERATOR, 5)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )

    assert _sign_in(client, OPERATOR, PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_right_password_after_a_typo_clears_the_count_and_opens_a_password_session(
    client, operators
):
    _wrong_passwords(client, OPERATOR, 4)

    assert _sign_in(client, OPERATOR, PASSWORD).status_code == 302

    # Axes' backend stands first but only refuses: the session is a password session.
    assert client.session[BACKEND_SESSION_KEY] == PASSWORD_BACKEND
    assert client.get("/admin/").status_code == 200
    assert not AccessAttempt.objects.filter(username=OPERATOR).exists()


@pytest.mark.django_db
def test_member_sign_in_by_code_costs_axes_no_query(client, outbox):
    client.post("/auth/phone/", {"phone": "+79995550201"})
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/auth/code/", {"code": outbox[-1].code}).status_code == 302
        client.post("/auth/logout/")

    assert not [query for query in queries if "axes_" in query["sql"]]


CHILD = """
import django, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "site_config.settings"
django.setup()
from django.test import Client
from django.test.utils import CaptureQueriesContext
for n in range(3):
    Client().post("/admin/login/", {"username": sys.argv[1], "password": f"wrong-{n}"},
                  REMOTE_ADDR="10.0.0.1")
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failures_counted_in_another_process_count_here(client, operators):
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    child = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", CHILD, OPERATOR],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr

    answers = _wrong_passwords(client, OPERATOR, 2, ip="10.0.0.7")
    assert answers[-1].status_code == 429  # 3 there + 2 here
    assert _sign_in(client, OPERATOR, PASSWORD, ip="10.0.0.8").status_code == 429
