"""Real-browser tests: Debian's Chromium driven by Playwright's sync API against
pytest-django's live server (in-process, so `settings` overrides reach it).

The `browser` fixture and its policy for a missing Chromium: tests/conftest.py.
"""

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Browser, BrowserContext, Page, expect

from profiles.models import User
from profiles.services import invite_activate

# Playwright's sync API runs an event loop in this thread; Django refuses ORM
# calls from such a thread unless told the loop is not really in charge.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 800}
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
AXE_SOURCE = Path(django_settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

expect.set_options(timeout=5_000)


CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(autouse=True)
def _demo_sms(_fast_sms: None, settings: Any) -> None:
    """Codes shown on the page ([data-demo-code]); every test signs in from 127.0.0.1."""
    settings.SMS_BACKEND = "demo"
    settings.DEMO_MODE = True  # the demo backend shows codes only in demo mode (or DEBUG)
    settings.OTP_IP_HOURLY = 1_000


@pytest.fixture
def new_context(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BrowserContext]]:
    """Open browser contexts (separate cookie jars) on the live server; closed after the test.

    When the test fails, each open page is saved to test-artifacts/failures/ for CI.
    """
    contexts: list[BrowserContext] = []

    def open_context(**options: Any) -> BrowserContext:
        options.setdefault("locale", "en-US")
        options.setdefault("viewport", LAPTOP)
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        return context

    yield open_context
    failed = request.node.stash.get(CALL_FAILED, False)
    for number, context in enumerate(contexts):
        for page_number, open_page in enumerate(context.pages):
            if failed:
                name = f"{request.node.name}-{number}-{page_number}.png"
                open_page.screenshot(path=ARTIFACTS / "failures" / name, full_page=True)
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


def request_code(page: Page, phone: str, *, path: str = "/") -> str:
    """Ask for a code from the sign-in page; returns the demo code shown on the code page."""
    page.goto(path)
    page.locator("input[name=phone]").fill(phone)
    page.locator("input[name=phone]").press("Enter")
    demo = page.locator("[data-demo-code]")
    expect(demo).to_be_visible()
    return demo.get_attribute("data-demo-code") or ""


def sign_in(page: Page, phone: str, *, path: str = "/") -> None:
    code = request_code(page, phone, path=path)
    # The 4th digit sends the form (static/js/app.js).
    page.locator("input[name=code]").fill(code)
    expect(page).to_have_url(re.compile(r"/profile/$"))


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def screenshot(page: Page, name: str) -> None:
    """Full-page pictures at phone and laptop width, for docs/screenshots/.

    Fails if the page is wider than the screen: sideways scrolling on a phone.
    """
    folder = ARTIFACTS / "screenshots"
    for label, viewport in (("375", PHONE), ("1280", LAPTOP)):
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {label} px"
        page.screenshot(path=folder / f"{name}-{label}.png", full_page=True, animations="disabled")


def axe_violations(page: Page, screen: str) -> list[dict[str, Any]]:
    """Run axe-core on the page; record the violations by impact for the run's summary.

    page.evaluate is not subject to the page's Content-Security-Policy, unlike a
    <script> tag added with the source inline.
    """
    page.evaluate(AXE_SOURCE.read_text())
    result = page.evaluate(
        "axe.run(document).then(r => ({passes: r.passes.length, violations: r.violations.map("
        "v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))}))"
    )
    summary = ARTIFACTS / "axe-summary.json"
    recorded = json.loads(summary.read_text()) if summary.exists() else {}
    recorded[screen] = result
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps(recorded, indent=2) + "\n")
    return result["violations"]


@pytest.fixture
def member_with_referrals(make_member: Callable[..., User]) -> User:
    """A member three friends joined, so the profile shows a filled list."""
    owner = make_member()
    for _ in range(3):
        invite_activate(user=make_member(), code=owner.invite_code)
    return owner
