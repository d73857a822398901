"""Scrape /metrics as Prometheus does: through the endpoint, with the bearer token."""

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "metrics-token-for-the-tests-0123456789"


def scrape(client, settings) -> dict[tuple[str, frozenset], float]:
    """Every sample of one scrape, by name and labels: `{("name", frozenset(labels)): value}`."""
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            # A series twice in one scrape would be a collector registered twice.
            assert key not in found, f"{key} appears twice"
            found[key] = sample.value
    return found


def value(scraped: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    return scraped[(name, frozenset(labels.items()))]
