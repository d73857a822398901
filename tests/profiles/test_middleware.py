"""The referrals poll answered from the shared cache: only what the view would answer."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from core.sessions import SessionStore
from profiles.models import User
from profiles.services import invite_activate, member_suspend

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_an_unchanged_poll_reads_no_database_with_a_shared_cache(
    shared_cache, signed_in, make_member, member, django_assert_num_queries
):
    html = signed_in.get("/profile/referrals/", **HX).content.decode()
    version = re.search(r"\?v=([^\"]+)\"", html).group(1)
    with django_assert_num_queries(0):  # the session and the version: Redis in production
        unchanged = signed_in.get(f"/profile/referrals/?v={version}", **HX)
    assert unchanged.status_code == 204
    # Answered ahead of the page machinery (here: no CSP header was even built).
    assert "Content-Security-Policy" not in unchanged

    newcomer = make_member()
    invite_activate(user=newcomer, code=member.invite_code)
    changed = signed_in.get(f"/profile/referrals/?v={version}", **HX)
    assert changed.status_code == 200 and str(newcomer.phone) in changed.content.decode()
    assert 'data-referrals-count="1"' in changed.content.decode()


def test_a_signed_out_poll_is_not_answered_from_the_cache(shared_cache, signed_in):
    html = signed_in.get("/profile/referrals/", **HX).content.decode()
    version = re.search(r"\?v=([^\"]+)\"", html).group(1)
    signed_in.post("/auth/logout/")
    answer = signed_in.get(f"/profile/referrals/?v={version}", **HX)
    assert answer.status_code == 200 and answer["HX-Redirect"].startswith("/")


def test_a_deactivated_members_poll_is_not_answered_from_the_cache(
    shared_cache, signed_in, member, django_capture_on_commit_callbacks
):
    html = signed_in.get("/profile/referrals/", **HX).content.decode()
    version = re.search(r"\?v=([^\"]+)\"", html).group(1)
    assert signed_in.get(f"/profile/referrals/?v={version}", **HX).status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        member.is_active = False
        member.save()  # as the admin does
    answer = signed_in.get(f"/profile/referrals/?v={version}", **HX)
    assert answer.status_code == 200 and answer["HX-Redirect"].startswith("/")


def test_the_first_poll_after_a_profile_view_is_already_the_cheap_one(
    shared_cache, signed_in, django_assert_num_queries
):
    html = signed_in.get("/profile/").content.decode()
    version = re.search(r"\?v=([^\"]+)\"", html).group(1)
    with django_assert_num_queries(0):  # the session and the version: Redis in production
        assert signed_in.get(f"/profile/referrals/?v={version}", **HX).status_code == 204


def poll_url(client: Client, *, secure: bool = False) -> str:
    html = client.get("/profile/referrals/", secure=secure, **HX).content.decode()
    return f"/profile/referrals/?v={re.search(r'[?]v=([^\"]+)\"', html).group(1)}"


def test_a_poll_for_another_host_gets_the_400_the_view_would_give(shared_cache, signed_in):
    poll = poll_url(signed_in)
    assert signed_in.get(poll, **HX).status_code == 204
    assert signed_in.get(poll, HTTP_HOST="evil.example", **HX).status_code == 400
    assert signed_in.get("/profile/", HTTP_HOST="evil.example").status_code == 400


def test_a_plain_http_poll_is_redirected_when_https_is_required(shared_cache, signed_in, settings):
    settings.SECURE_SSL_REDIRECT = True
    poll = poll_url(signed_in, secure=True)
    assert signed_in.get(poll, secure=True, **HX).status_code == 204
    answer = signed_in.get(poll, **HX)
    assert answer.status_code == 301 and answer["Location"].startswith("https://")


def test_a_suspended_members_sessions_get_no_poll_answer_even_after_reactivation(
    shared_cache, signed_in, member, make_member, django_capture_on_commit_callbacks
):
    staff = User.objects.create_superuser("+79990007001", password="x" * 12)
    poll = poll_url(signed_in)
    assert signed_in.get(poll, **HX).status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        member_suspend(member=member, by=staff)
    answer = signed_in.get(poll, **HX)
    assert answer.status_code == 200 and answer["HX-Redirect"].startswith("/")

    # Made active again and signed in anew elsewhere: the old session stays ended.
    User.objects.filter(pk=member.pk).update(is_active=True)
    member.refresh_from_db()
    fresh = Client()
    fresh.force_login(member)
    assert fresh.get(poll_url(fresh), **HX).status_code in (200, 204)
    assert fresh.get(poll, **HX).status_code == 204
    answer = signed_in.get(poll, **HX)
    assert answer.status_code == 200 and answer["HX-Redirect"].startswith("/")


def test_a_session_the_cache_brings_back_after_sign_out_opens_nothing(shared_cache, signed_in):
    poll = poll_url(signed_in)
    key = signed_in.cookies["sessionid"].value
    store = SessionStore(key)
    data = cache.get(store.cache_key)
    signed_in.post("/auth/logout/")
    # As after a Redis hang: the commands queued meanwhile ran in another order.
    cache.set(store.cache_key, data, 3600)
    signed_in.cookies["sessionid"] = key

    page = signed_in.get("/profile/")
    assert page.status_code == 302 and page["Location"].startswith("/?next=")
    answer = signed_in.get(poll, **HX)
    assert answer.status_code == 200 and answer["HX-Redirect"].startswith("/")
