"""Prometheus metrics of one bot process (a registry per app, no module-level collectors).

Counted as they happen: updates by kind, handler errors, handler latency. Read when scraped: the
delivery worker's counters (sends by outcome, 429s). Refreshed by a scheduler job: queue depth and
GMFY outbox size (they need the database, which a scrape must not wait on).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import structlog
from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from bot.delivery.worker import DeliveryStats
    from bot.liveness import Progress


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The standard ones (process_*, python_gc_*, python_info), in this app's own registry.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.updates = Counter("bot_updates", "Updates handled, by kind", ["kind"], registry=self.registry)
        self.handler_errors = Counter("bot_handler_errors", "Updates whose handler failed", registry=self.registry)
        self.latency = Histogram(
            "bot_update_duration_seconds",
            "Time to handle one update",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.relay_batch = Histogram(
            "bot_relay_batch_messages",
            "Members' messages written per relay batch (bot/relay_batch.py)",
            buckets=(1, 2, 5, 10, 25, 50, 100, 200),
            registry=self.registry,
        )
        self.webhook_given_up = Counter(
            "bot_webhook_updates_given_up",
            "Webhook updates answered 200 unhandled after failing outside the error router (bot/server.py)",
            registry=self.registry,
        )
        self.fan_outs_given_up = Counter(
            "bot_fan_outs_given_up",
            "Paged common-chat fan-outs given up after their page kept failing (bot/fanout.py)",
            registry=self.registry,
        )
        self.copies_given_up = Counter(
            "bot_copies_given_up",
            "Edits or deletes of big messages given up after their page of copies kept failing (bot/fanout.py)",
            registry=self.registry,
        )
        self.throttled = Counter("bot_throttled_updates", "Updates dropped by flood control", registry=self.registry)
        self.queue_depth = Gauge("bot_delivery_queue_depth", "Outgoing messages waiting", registry=self.registry)
        self.queue_oldest = Gauge(
            "bot_delivery_oldest_waiting_seconds",
            "How long the longest-waiting due outgoing message has waited",
            registry=self.registry,
        )
        self.gmfy_outbox = Gauge("bot_gmfy_outbox_pending", "GMFY events waiting to be sent", registry=self.registry)
        self._delivery = _DeliveryCollector()
        self.registry.register(self._delivery)

    def watch_delivery(self, stats: DeliveryStats) -> None:
        self._delivery.stats = stats

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _DeliveryCollector(Collector):
    def __init__(self) -> None:
        self.stats: DeliveryStats | None = None

    def collect(self) -> Iterator[CounterMetricFamily]:
        sends = CounterMetricFamily("bot_sends", "Delivery attempts by outcome", labels=["outcome"])
        limited = CounterMetricFamily("bot_telegram_rate_limited", "429 (Too Many Requests) answers from Telegram")
        s = self.stats
        for outcome in ("sent", "retried", "blocked", "failed"):
            sends.add_metric([outcome], getattr(s, outcome) if s else 0)
        limited.add_metric([], s.rate_limited if s else 0)
        yield sends
        yield limited


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class MetricsMiddleware(BaseMiddleware):
    """Outermost on updates: counts every update by kind, times its handling, and puts the update id
    and user id into the context of every log line written while it is handled (never texts or
    phone numbers)."""

    def __init__(self, metrics: Metrics, progress: Progress | None = None) -> None:
        self.metrics = metrics
        self.progress = progress  # updates in flight, for liveness

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        update_id = getattr(event, "update_id", None)
        if self.progress is not None and update_id is not None:
            self.progress.started(update_id)
        self.metrics.updates.labels(kind=kind).inc()
        user = data.get("event_from_user")
        started = time.perf_counter()
        # Bound for the rest of this update's task (the error handlers run outside this middleware and
        # must still see it); cleared first so nothing leaks from the previous update.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            update_id=getattr(event, "update_id", None), user_id=user.id if user else None
        )
        try:
            return await handler(event, data)
        finally:
            self.metrics.latency.observe(time.perf_counter() - started)
            if self.progress is not None and update_id is not None:
                self.progress.finished(update_id)


class HandlerNameMiddleware(BaseMiddleware):
    """Inner (per event type): adds the name of the handler that took the update to the log context."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        found = data.get("handler")
        name = getattr(getattr(found, "callback", None), "__qualname__", None)
        module = getattr(getattr(found, "callback", None), "__module__", "")
        structlog.contextvars.bind_contextvars(handler=f"{module}.{name}" if name else None)
        return await handler(event, data)
