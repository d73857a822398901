"""ReDoc and Swagger UI really render in a browser under the site's Content-Security-Policy.

The `browser` fixture (tests/conftest.py) skips these without Chromium, as the e2e tests do.
"""

from urllib.parse import urlsplit

import pytest

SUMMARY = "Send a sign-in code (by Telegram or SMS)"
# Redoc always tries its attribution logo from its CDN; the policy blocks it (so
# nothing leaves for that host) and Redoc then hides the image.
REDOC_LOGO_BLOCKED = "img-src https://cdn.redoc.ly/redoc/logo-mini.svg"
# Playwright's init scripts are injected by the browser, outside the page's policy.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.mark.parametrize(
    ("page_path", "rendered"),
    [
        ("/api/docs/", f"h2:has-text('{SUMMARY}')"),
        ("/api/docs/swagger/", f".opblock-summary-description:has-text('{SUMMARY}')"),
    ],
)
def test_docs_page_renders_without_policy_violations(browser, live_server, page_path, rendered):
    origin = urlsplit(live_server.url).netloc
    foreign, errors = [], []
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        # Answers, not attempts: an attempt the policy blocks gets none.
        page.on(
            "response",
            lambda response: (
                urlsplit(response.url).scheme in ("http", "https")
                and urlsplit(response.url).netloc != origin
                and foreign.append(response.url)
            ),
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(live_server.url + page_path)
        page.wait_for_selector(rendered, timeout=20_000)
        violations = page.evaluate("window.cspViolations")
    finally:
        context.close()
    assert foreign == []
    assert [v for v in violations if v != REDOC_LOGO_BLOCKED] == []
    assert errors == []
