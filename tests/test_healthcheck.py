"""The container's health check asks /livez on the port the settings give."""

from __future__ import annotations

from bot.healthcheck import health_url


def test_health_url_follows_the_metrics_port() -> None:
    assert health_url({}) == "http://127.0.0.1:8081/livez"
    assert health_url({"METRICS_PORT": "9000", "WEB_PORT": "8443"}) == "http://127.0.0.1:9000/livez"
    assert health_url({"METRICS_PORT": "0"}) is None
