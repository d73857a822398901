"""The API's documentation pages: ReDoc and Swagger UI, every asset served locally."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.templatetags.static import static
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularSwaggerSplitView

# Redoc and Swagger UI add <style> elements while they run, which cannot carry the
# page's nonce (and a nonce would switch 'unsafe-inline' off); Redoc builds its
# search worker from a blob. Scripts keep the site's policy: no inline code runs.
DOCS_CSP = {
    **settings.SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "worker-src": [CSP.SELF, "blob:"],
}

# drf-spectacular's page, minus its Google Fonts links: no asset comes from another host.
_REDOC_PAGE = engines["django"].from_string(
    """{% extends "drf_spectacular/redoc.html" %}
{% block head %}<title>{{ title }}</title>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>{% endblock head %}"""
)


@csp_override(DOCS_CSP)
@require_GET
def redoc(request: HttpRequest) -> HttpResponse:
    context = {
        "title": settings.SPECTACULAR_SETTINGS["TITLE"],
        "redoc_standalone": static("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
        "schema_url": reverse("api-schema"),
    }
    return HttpResponse(_REDOC_PAGE.render(context, request))


# The split view serves Swagger UI's start-up code as a script file, not inline.
swagger = csp_override(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))
