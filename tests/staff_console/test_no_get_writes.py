"""Console pages only read: flags are judged by a job queued after each activation."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.staff import PASSWORD_BACKEND
from events.models import Event
from fraud.models import FraudFlag
from profiles.services import invite_activate
from tests.fakes.worker import wait_for
from tests.staff_console.conftest import staff_with

PAGES = ("/staff/", "/staff/flags/", "/staff/?range=90d")
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|SELECT\s+procrastinate_defer)", re.I)


def _writes_of_get(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries if WRITE.match(q["sql"])]


@pytest.mark.django_db
def test_console_pages_write_nothing_after_new_activations(staff_client, member_at, challenge_at):
    t = timezone.now() - timedelta(minutes=30)
    inviter = member_at(joined=t - timedelta(days=1))
    for n in range(3):  # fast activations and a sequential block: flags to judge
        member_at(phone=f"+7999555140{n}", inviter=inviter, joined=t, activated=t)
    challenge_at(at=t, provider="demo", used=True)  # a settled code to roll up

    for url in PAGES:
        assert _writes_of_get(staff_client, url) == [], url
    assert not FraudFlag.objects.exists()  # judging is the job's, not the page's


@pytest.mark.postgres
def test_an_activation_that_trips_a_rule_shows_its_flag_once_the_worker_judged_it(
    queue_workers, make_member
):
    operator = staff_with("+79990000001", "view_user", "change_user")
    client = Client()
    client.force_login(operator, backend=PASSWORD_BACKEND)
    inviter = make_member()
    friend = make_member()  # joined just now: entering a code at once is `fast_activation`
    queue_workers.start()

    invite_activate(user=friend, code=inviter.invite_code)

    flag = wait_for(
        lambda: FraudFlag.objects.filter(reason="fast_activation", subject=friend).first(),
        timeout=20,
    )
    assert _writes_of_get(client, "/staff/flags/") == []
    html = client.get("/staff/flags/").content.decode()
    assert 'data-flag="fast_activation"' in html and inviter.invite_code in html
    raised = Event.objects.get(type="fraud_flag.raised")
    assert raised.data["flag_id"] == flag.pk and raised.data["subject_id"] == friend.pk
