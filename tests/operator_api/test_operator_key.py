"""`manage.py operator_key`: a key shown once, then only its prefix; revoked for good."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("operator_key", *args, stdout=out)
    return out.getvalue()


def lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_create_prints_the_key_once_and_it_works(make_member):
    make_member("+79991230010")
    created = lines(run("create", "crm"))
    assert created["name"] == "crm"
    assert created["key"].startswith(created["prefix"] + ".")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {created['key']}")
    assert client.get("/api/v1/operator/members/", {"phone": "+79991230010"}).status_code == 200

    listed = run("list")
    assert created["prefix"] in listed
    assert created["key"] not in listed  # never shown again


def test_revoke_stops_the_key_and_json_is_machine_readable():
    created = json.loads(run("--json", "create", "billing"))
    assert set(created) >= {"prefix", "name", "key", "revoked", "created"}
    revoked = json.loads(run("--json", "revoke", created["prefix"]))
    assert revoked["revoked"] is True
    assert APIKey.objects.get(prefix=created["prefix"]).revoked
    assert not APIKey.objects.is_valid(created["key"])


def test_revoking_an_unknown_prefix_is_an_error():
    with pytest.raises(CommandError, match="No API key"):
        run("revoke", "nothere")
