"""The console's webhook pages in a real browser: add an endpoint by htmx (the
secret shown once), send a test event, open its attempts; no axe violations,
no sideways scrolling on a phone."""

import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, expect

from profiles.models import User
from tests.e2e.conftest import axe_violations, screenshot
from tests.fakes.webhook_receiver import WebhookReceiver

PASSWORD = "a-long-operator-password"


@pytest.fixture
def hooks_operator(db: None, settings) -> User:
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    user = User.objects.create_user("+79990000041", PASSWORD, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="webhooks", codename__in=["view_endpoint", "change_endpoint"]
        )
    )
    return user


@pytest.fixture
def receiver():
    fake = WebhookReceiver().start()
    yield fake
    fake.stop()


def test_add_an_endpoint_send_a_test_event_and_read_its_log(
    page: Page, hooks_operator: User, receiver: WebhookReceiver
):
    page.goto("/staff/webhooks/")
    page.locator("input[name=username]").fill(str(hooks_operator.phone))
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(r"/staff/webhooks/$"))
    violations = {"webhooks": axe_violations(page, "webhooks")}

    page.evaluate("window.notReloaded = true")
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#add-form .form-error")).to_contain_text("Name one or more event types")
    page.get_by_label("member.created").check()
    page.get_by_label("referral.activated").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("[data-secret]")
    expect(secret).to_contain_text("whsec_")
    assert page.evaluate("window.notReloaded") is True
    violations["webhooks, one endpoint"] = axe_violations(page, "webhooks, one endpoint")
    screenshot(page, "console-webhooks")

    page.get_by_role("link", name=receiver.url).click()
    page.get_by_role("button", name="Send test event").click()
    expect(page.locator("#endpoint-card [role=status]")).to_contain_text("Test event queued")
    page.reload()
    row = page.locator("#message-log tr[data-message]").first
    expect(row).to_have_attribute("data-state", re.compile("pending|delivered"))
    row.locator("a").click()
    expect(page.locator("#attempts-panel h2")).to_contain_text("webhook.test")
    violations["webhook"] = axe_violations(page, "webhook")
    screenshot(page, "console-webhook")
    assert violations == {screen: [] for screen in violations}
