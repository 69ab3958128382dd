"""GMFY wiring: the long-lived client/cache, the outbox and notification jobs, and the
temporary bot-side binding of `services.outgoing.OutgoingMessages`."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.context import AppContext
from bot.i18n import Translator
from bot.scheduler import Scheduler
from bot.settings import Settings
from services.clock import Clock
from services.gmfy.client import GmfyClient
from services.gmfy.notifications import NotificationPoller, Renderer
from services.gmfy.outbox import OutboxPolicy, OutboxSender
from services.gmfy.service import GmfyState, TtlCache
from services.outgoing import OutgoingMessages

log = logging.getLogger(__name__)


def create_gmfy_state(settings: Settings, clock: Clock) -> GmfyState | None:
    if not settings.gmfy_enabled or settings.gmfy_api_key is None:
        return None
    client = GmfyClient(
        settings.gmfy_url,
        settings.gmfy_api_key.get_secret_value(),
        timeout=settings.gmfy_timeout_seconds,
        verify=settings.gmfy_verify_tls,
    )
    return GmfyState(client=client, cache=TtlCache(clock, settings.gmfy_cache_ttl_seconds))


def notification_renderer(translator: Translator) -> Renderer:
    def render(language: str | None, message: str) -> str:
        return translator.texts(translator.pick(language, None))("gmfy-notification", message=message)

    return render


def register_gmfy_jobs(ctx: AppContext, scheduler: Scheduler, outgoing: OutgoingMessages) -> None:
    """Nothing is scheduled when GMFY is off (no API key)."""
    state = ctx.gmfy
    if state is None:
        return
    s = ctx.settings
    sender = OutboxSender(
        ctx.sessionmaker,
        state.client,
        ctx.clock,
        OutboxPolicy(
            batch_size=s.gmfy_outbox_batch_size,
            max_batches_per_run=s.gmfy_outbox_max_batches_per_run,
            backoff_base_seconds=s.gmfy_outbox_backoff_base_seconds,
            backoff_max_seconds=s.gmfy_outbox_backoff_max_seconds,
            lease_seconds=max(s.gmfy_outbox_lease_seconds, s.gmfy_timeout_seconds * 2),
        ),
        status=state.status,
    )
    poller = NotificationPoller(
        ctx.sessionmaker,
        state.client,
        ctx.clock,
        outgoing,
        notification_renderer(ctx.translator),
        window=timedelta(minutes=s.gmfy_notification_window_minutes),
        status=state.status,
    )
    scheduler.every(s.gmfy_outbox_interval_seconds, "gmfy-outbox", sender.run_once)
    scheduler.every(s.gmfy_notifications_interval_seconds, "gmfy-notifications", poller.run_once)
