"""Error pages in the site's layout and language, with a way home; JSON under /api/."""

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import path

from core import error_pages
from site_config import urls as site_urls

pytestmark = pytest.mark.django_db


def _boom(request: HttpRequest) -> None:
    raise RuntimeError("a bug")


def _denied(request: HttpRequest) -> None:
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


def _bad(request: HttpRequest) -> None:
    from django.core.exceptions import SuspiciousOperation

    raise SuspiciousOperation("bad")


urlpatterns = [
    path("boom/", _boom),
    path("denied/", _denied),
    path("bad/", _bad),
    path("api/v1/boom/", _boom),
    *site_urls.urlpatterns,
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


@pytest.fixture
def errors_client(settings) -> Client:
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    ("url", "status", "title"),
    [
        ("/no-such-page/", 404, "Page not found"),
        ("/denied/", 403, "This page is not for you"),
        ("/bad/", 400, "This request could not be read"),
        ("/boom/", 500, "Something went wrong on our side"),
    ],
)
def test_error_pages_are_in_the_layout_with_a_way_home(errors_client, url, status, title):
    response = errors_client.get(url)

    assert response.status_code == status
    html = response.content.decode()
    assert f'data-error="{status}"' in html
    assert title in html
    assert 'class="site-header"' in html, "the site's header and language switch"
    assert 'name="viewport"' in html
    assert 'href="/" data-home' in html


def test_error_pages_speak_russian(errors_client):
    errors_client.cookies["django_language"] = "ru"
    html = errors_client.get("/no-such-page/").content.decode()

    assert '<html lang="ru">' in html
    assert "Страница не найдена" in html
    assert "На главную" in html


def test_a_failed_csrf_check_is_a_page_of_the_site(settings, make_member):
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)

    response = client.post("/auth/phone/", {"phone": "+79991234567"})

    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-error-code="csrf_failed"' in html
    assert "This form has expired" in html


def test_support_is_linked_when_configured(errors_client, settings):
    settings.SUPPORT_URL = "https://help.example.com/"
    html = errors_client.get("/no-such-page/").content.decode()
    assert '<a href="https://help.example.com/" data-support>' in html

    settings.SUPPORT_URL = ""
    settings.SUPPORT_EMAIL = "help@example.com"
    html = errors_client.get("/no-such-page/").content.decode()
    assert 'href="mailto:help@example.com" data-support' in html

    settings.SUPPORT_EMAIL = ""
    assert "data-support" not in errors_client.get("/no-such-page/").content.decode()


def test_the_api_keeps_its_json_errors(errors_client):
    missing = errors_client.get("/api/v1/nothing/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"

    broken = errors_client.get("/api/v1/boom/")
    assert broken.status_code == 500
    assert broken.json() == {
        "code": "server_error",
        "detail": "Something went wrong on our side.",
        "fields": {},
    }


def test_the_api_csrf_failure_is_json(rf):
    request = rf.post("/api/v1/profile/invite/")
    response = error_pages.csrf_failure(request, reason="no token")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_a_suspended_member_is_given_the_support_link(client, settings, make_member, outbox):
    settings.SUPPORT_URL = "https://help.example.com/"
    member = make_member()
    type(member).objects.filter(pk=member.pk).update(is_active=False)
    hx = {"HTTP_HX_REQUEST": "true"}
    client.post("/auth/phone/", {"phone": str(member.phone)}, **hx)

    response = client.post("/auth/code/", {"code": outbox[-1].code}, **hx)

    assert response.status_code == 422
    html = response.content.decode()
    assert "Contact support" in html and 'href="https://help.example.com/"' in html
