"""`manage.py webhook_endpoint`: add (id and secret lines, or JSON), list, disable,
enable, rotate."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from webhooks import crypto
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("webhook_endpoint", *args, stdout=out)
    return out.getvalue()


def test_add_prints_the_id_and_the_secret(receiver):
    out = run("add", receiver.url, "--events", "member.created,referral.activated")
    lines = dict(line.split("=", 1) for line in out.splitlines())
    endpoint = Endpoint.objects.get(pk=int(lines["id"]))
    assert lines["secret"].startswith("whsec_")
    assert crypto.secret_decrypt(endpoint.secret_encrypted) == lines["secret"]
    assert endpoint.event_types == ["member.created", "referral.activated"]


def test_add_json_list_disable_rotate(receiver):
    added = json.loads(run("add", receiver.url, "--events", "*", "--json"))
    assert added["secret"].startswith("whsec_") and added["events"] == ["*"]
    (row,) = json.loads(run("list", "--json"))
    assert row["id"] == added["id"] and row["enabled"] is True
    run("disable", str(added["id"]))
    assert "disabled (staff)" in run("list")
    rotated = dict(line.split("=", 1) for line in run("rotate", str(added["id"])).splitlines())
    assert rotated["secret"] != added["secret"]
    run("enable", str(added["id"]))
    assert Endpoint.objects.get(pk=added["id"]).enabled


def test_bad_input_is_a_clear_error(receiver):
    with pytest.raises(CommandError, match="Unknown: member.joined"):
        run("add", receiver.url, "--events", "member.joined")
    with pytest.raises(CommandError, match="No webhook endpoint"):
        run("disable", "999")
    assert not Endpoint.objects.exists()
