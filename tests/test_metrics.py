"""/metrics names follow Prometheus conventions and include the standard process, GC and platform collectors."""

from __future__ import annotations

from bot.metrics import Metrics


def test_metric_names() -> None:
    metrics = Metrics()
    metrics.updates.labels(kind="message").inc()
    metrics.latency.observe(0.01)
    text = metrics.render().decode()
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    expected = {
        # the standard collectors
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "python_gc_collections_total",
        "python_info",
        # the bot's own
        "bot_updates_total",
        "bot_handler_errors_total",
        "bot_update_duration_seconds_bucket",
        "bot_throttled_updates_total",
        "bot_delivery_queue_depth",
        "bot_delivery_oldest_waiting_seconds",
        "bot_sends_total",
        "bot_telegram_rate_limited_total",
        "bot_gmfy_outbox_pending",
    }
    assert expected <= names, sorted(expected - names)


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.updates.labels(kind="message").inc()
    assert 'bot_updates_total{kind="message"} 1.0' in first.render().decode()
    assert 'bot_updates_total{kind="message"}' not in second.render().decode()
