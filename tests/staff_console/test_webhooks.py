"""/staff/webhooks/: endpoints with their secret shown once, enable/disable, rotate,
a test event, the delivery log down to each attempt, replay; staff with the
permission only, behind the password session and CSRF."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from standardwebhooks.webhooks import Webhook

from core.staff import PASSWORD_BACKEND
from profiles.models import User
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.staff_console.conftest import STAFF_PASSWORD
from webhooks import crypto, services
from webhooks.models import Endpoint, Message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_allowed(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1


@pytest.fixture
def receiver():
    fake = WebhookReceiver().start()
    yield fake
    fake.stop()


@pytest.fixture
def hooks_admin() -> User:
    user = User.objects.create_user("+79990000031", STAFF_PASSWORD, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="webhooks", codename__in=["view_endpoint", "change_endpoint"]
        )
    )
    return user


@pytest.fixture
def hooks_client(hooks_admin) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(hooks_admin, backend=PASSWORD_BACKEND)
    return client


def csrf(client: Client, url: str = "/staff/webhooks/") -> str:
    client.get(url)
    return client.cookies["csrftoken"].value


def post(client: Client, url: str, data: dict | None = None, **extra) -> object:
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": csrf(client)}, **extra)


def secret_on(html: str) -> str:
    return re.search(r"data-secret>(whsec_[^<]+)<", html).group(1)


def test_plain_staff_and_members_stay_out(plain_staff, make_member, client):
    staff = Client()
    staff.force_login(plain_staff, backend=PASSWORD_BACKEND)
    assert staff.get("/staff/webhooks/").status_code == 403
    assert "/staff/webhooks/" not in staff.get("/staff/").content.decode()
    assert client.get("/staff/webhooks/").status_code == 302  # to the staff sign-in
    member = Client()
    member.force_login(make_member())
    assert member.get("/staff/webhooks/").status_code == 403


def test_add_an_endpoint_the_secret_shows_once(hooks_client, receiver):
    response = post(
        hooks_client,
        "/staff/webhooks/add/",
        {"url": receiver.url, "event_types": ["member.created", "referral.activated"]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    secret = secret_on(html)
    endpoint = Endpoint.objects.get()
    assert crypto.secret_decrypt(endpoint.secret_encrypted) == secret
    assert endpoint.event_types == ["member.created", "referral.activated"]
    assert response["Cache-Control"] == "no-store"
    # Never again: not on the list, not on the endpoint's page.
    assert secret not in hooks_client.get("/staff/webhooks/").content.decode()
    assert secret not in hooks_client.get(f"/staff/webhooks/{endpoint.pk}/").content.decode()


def test_a_private_url_or_no_event_type_is_a_form_error(hooks_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = post(
        hooks_client,
        "/staff/webhooks/add/",
        {"url": "http://169.254.169.254/", "event_types": ["*"]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#add-form"
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="add-form"')
    assert "public addresses only" in html
    settings.WEBHOOK_ALLOW_PRIVATE = True
    response = post(hooks_client, "/staff/webhooks/add/", {"url": "http://127.0.0.1:9/"})
    assert response.status_code == 422
    assert not Endpoint.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(hooks_client, receiver):
    response = hooks_client.post("/staff/webhooks/add/", {"url": receiver.url, "event_types": "*"})
    assert response.status_code == 403
    assert not Endpoint.objects.exists()


def test_disable_enable_rotate_from_the_endpoint_card(hooks_client, receiver):
    endpoint, old = services.endpoint_create(url=receiver.url, event_types="*")
    url = f"/staff/webhooks/{endpoint.pk}/"
    card = post(hooks_client, url + "toggle/", {"enabled": "0"}, HTTP_HX_REQUEST="true")
    assert card.content.decode().lstrip().startswith('<section id="endpoint-card"')
    assert 'data-enabled="0"' in card.content.decode()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "staff"
    post(hooks_client, url + "toggle/", {"enabled": "1"}, HTTP_HX_REQUEST="true")
    endpoint.refresh_from_db()
    assert endpoint.enabled
    rotated = post(hooks_client, url + "rotate/", HTTP_HX_REQUEST="true").content.decode()
    new = secret_on(rotated)
    assert new != old
    assert services.endpoint_secrets(endpoint=Endpoint.objects.get(pk=endpoint.pk)) == [new, old]


def test_a_test_event_then_the_log_down_to_its_attempt(hooks_client, receiver):
    endpoint, secret = services.endpoint_create(url=receiver.url, event_types="member.created")
    url = f"/staff/webhooks/{endpoint.pk}/"
    post(hooks_client, url + "test/", HTTP_HX_REQUEST="true")
    message = Message.objects.get(endpoint=endpoint)
    services.message_deliver(message_id=message.pk)  # what the worker does
    (delivery,) = receiver.received
    assert Webhook(secret).verify(delivery.body, delivery.headers)["type"] == "webhook.test"
    log = hooks_client.get(url).content.decode()
    assert f'data-message="{message.event_id}" data-state="delivered"' in log
    attempts = hooks_client.get(f"{url}messages/{message.pk}/", HTTP_HX_REQUEST="true")
    html = attempts.content.decode()
    assert html.lstrip().startswith('<section id="attempts-panel"')
    assert 'data-attempt="1" data-status="200"' in html and "ok" in html


def test_replay_one_and_every_failed_message(hooks_client, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = []
    receiver.default = 500
    endpoint, _ = services.endpoint_create(url=receiver.url, event_types="*")
    messages = [services.test_event_send(endpoint=endpoint) for _ in range(3)]
    for message in messages:
        services.message_deliver(message_id=message.pk)
    url = f"/staff/webhooks/{endpoint.pk}/"
    failed_log = hooks_client.get(url + "?state=failed", HTTP_HX_REQUEST="true").content.decode()
    assert len(re.findall(r'data-message="[^"]+" data-state="failed"', failed_log)) == 3
    row = post(
        hooks_client, f"{url}messages/{messages[0].pk}/replay/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert row.lstrip().startswith(f'<tr id="message-{messages[0].pk}"')
    assert 'data-state="pending"' in row
    assert post(hooks_client, f"{url}messages/{messages[0].pk}/replay/").status_code == 409
    log = post(hooks_client, url + "replay/", HTTP_HX_REQUEST="true").content.decode()
    assert "2 failed messages queued again" in log
    assert Message.objects.filter(state="pending").count() == 3


def test_an_endpoint_turned_off_for_failing_is_a_notice(hooks_client, receiver):
    endpoint, _ = services.endpoint_create(url=receiver.url, event_types="*")
    services.endpoint_disable(endpoint=endpoint, reason=Endpoint.DisabledReason.FAILING)
    page = hooks_client.get("/staff/webhooks/").content.decode()
    assert "data-webhook-notice" in page and receiver.url in page


def test_the_pages_write_nothing(hooks_client, receiver):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    endpoint, _ = services.endpoint_create(url=receiver.url, event_types="*")
    message = services.test_event_send(endpoint=endpoint)
    for url in (
        "/staff/webhooks/",
        f"/staff/webhooks/{endpoint.pk}/",
        f"/staff/webhooks/{endpoint.pk}/messages/{message.pk}/",
    ):
        with CaptureQueriesContext(connection) as queries:
            assert hooks_client.get(url).status_code == 200
        writes = [
            q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
        ]
        assert writes == [], url
