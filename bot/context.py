"""Long-lived objects built once at start-up, and the per-update services built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.fanout import FanOutRunner
from bot.i18n import Translator
from bot.liveness import Progress
from bot.metrics import Metrics
from bot.settings import Settings
from bot.sms import panel_key, phone_code_key
from services.broadcast import BroadcastService
from services.clock import Clock, SystemClock
from services.container import Services
from services.delivery import Handoff, Outbox
from services.events import EventRecorder, EventTypes
from services.gmfy.service import GmfyService, GmfyState
from services.invites import InviteService
from services.moderation import (
    LookupFactory,
    ModerationService,
    NoMessageRemover,
    NoRelayedMessages,
    RemoverFactory,
)
from services.oauth import (
    DbFlowStore,
    FlowStore,
    OAuthClient,
    OAuthConfig,
    OAuthService,
    RedisFlowStore,
    TokenKeys,
)
from services.panel import PanelAuth, PanelService
from services.profile import ProfileService
from services.relay import CopyStyle, Limits, LimitsCache, PlainCopyStyle, RelayService
from services.rooms import RoomService
from services.signin import SignInService, SmsSender
from services.users import UserDirectory


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    translator: Translator
    sms: SmsSender | None  # None: no SMS sender configured, /phone is not offered
    gmfy: GmfyState | None = None  # None: GMFY is off (no GMFY_API_KEY)
    metrics: Metrics = field(default_factory=Metrics)
    redis: Redis | None = None  # set when REDIS_URL is
    oauth_http: httpx.AsyncClient | None = None  # set when OAuth linking is configured
    oauth_keys: TokenKeys | None = None  # OAUTH_TOKEN_KEY, parsed once (set with oauth_http)
    # More routes for the bot's HTTP server (method, path, handler), e.g. an OAuth callback.
    web_routes: list[tuple[str, str, Any]] = field(default_factory=list)
    copy_style: CopyStyle = field(default_factory=PlainCopyStyle)
    relay_limits: LimitsCache = field(default_factory=LimitsCache)  # the message limit, read at most every 2 s
    # Seams the relay binds (per session): who wrote a relayed message, and deleting one everywhere.
    relay_lookup: LookupFactory = NoRelayedMessages
    message_remover: RemoverFactory = NoMessageRemover
    handoff: Handoff | None = None  # what transactions queue, to the delivery worker on commit (bot.delivery.outbox)
    progress: Progress = field(default_factory=lambda: Progress(SystemClock()))  # liveness (bot/liveness.py)
    fan_out: FanOutRunner | None = None  # pages the common chat's big fan-outs (bot/fanout.py)

    def kick_fan_out(self) -> None:
        """A transaction that left a fan-out, an edit or a delete to page committed: page it."""
        if self.fan_out is not None:
            self.fan_out.kick()

    def event_recorder(self, session: AsyncSession) -> EventRecorder:
        s = self.settings
        types = EventTypes(
            registration=s.gmfy_event_registration,
            referral=s.gmfy_event_referral,
            message_sent=s.gmfy_event_message_sent,
            report_confirmed=s.gmfy_event_report_confirmed,
            ban=s.gmfy_event_ban,
            room_created=s.gmfy_event_room_created,
            room_joined=s.gmfy_event_room_joined,
            invite_created=s.gmfy_event_invite_created,
        )
        return EventRecorder(session, self.clock, enabled=s.gmfy_enabled, types=types)

    def outbox(self, session: AsyncSession) -> Outbox:
        return Outbox(session, self.clock, self.handoff)

    def relay(self, session: AsyncSession) -> RelayService:
        s = self.settings
        return RelayService(
            session,
            self.clock,
            self.outbox(session),
            self.event_recorder(session),
            self.copy_style,
            limits=Limits(s.messages_per_period, timedelta(seconds=s.limit_period_seconds)),
            history_size=s.join_history_size,
            max_file_bytes=int(s.max_file_mb * 1024 * 1024),
            scheduled_per_user=s.scheduled_per_user,
            fan_out_page=s.fan_out_page,
            limits_cache=self.relay_limits,
            kick=self.kick_fan_out,
        )

    def oauth(self, session: AsyncSession) -> OAuthService | None:
        s = self.settings
        if not s.oauth_enabled or self.oauth_http is None or self.oauth_keys is None:
            return None
        assert s.oauth_authorize_url is not None
        assert s.oauth_token_url is not None
        assert s.oauth_client_id is not None
        assert s.oauth_redirect_url is not None
        config = OAuthConfig(
            authorize_url=s.oauth_authorize_url,
            token_url=s.oauth_token_url,
            userinfo_url=s.oauth_userinfo_url,
            revoke_url=s.oauth_revoke_url,
            client_id=s.oauth_client_id,
            client_secret=s.oauth_client_secret.get_secret_value() if s.oauth_client_secret else None,
            redirect_url=s.oauth_redirect_url,
            scopes=s.oauth_scopes,
        )
        store: FlowStore = (
            RedisFlowStore(self.redis, s.redis_prefix) if self.redis is not None else DbFlowStore(session, self.clock)
        )
        return OAuthService(
            session,
            self.clock,
            config,
            OAuthClient(config, self.oauth_http),
            store,
            self.oauth_keys,
            self.signin(session),
            start_url=s.oauth_start_url,
            default_region=s.default_region,
        )

    def invites(self, session: AsyncSession, events: EventRecorder | None = None) -> InviteService:
        s = self.settings
        return InviteService(
            session,
            self.clock,
            events or self.event_recorder(session),
            code_ttl=timedelta(days=s.invite_code_ttl_days),
            page_size=s.referrals_page_size,
        )

    def signin(
        self, session: AsyncSession, events: EventRecorder | None = None, invites: InviteService | None = None
    ) -> SignInService:
        s = self.settings
        events = events or self.event_recorder(session)
        return SignInService(
            session,
            self.clock,
            events,
            invites or self.invites(session, events),
            self.sms,
            default_region=s.default_region,
            code_ttl=timedelta(seconds=s.phone_code_ttl_seconds),
            max_attempts=s.phone_code_max_attempts,
            cooldown=timedelta(seconds=s.phone_code_cooldown_seconds),
            code_key=self.phone_code_key,
            codes_per_day=s.phone_codes_per_day,
            failures_per_day=s.phone_code_failures_per_day,
            takeover_confirm=timedelta(seconds=s.phone_takeover_confirm_seconds),
            default_timezone=s.default_timezone,
        )

    @cached_property
    def phone_code_key(self) -> bytes:
        return phone_code_key(self.settings)

    @cached_property
    def panel_key(self) -> bytes:
        return panel_key(self.settings)

    def panel_auth(self, session: AsyncSession, moderation: ModerationService | None = None) -> PanelAuth:
        return PanelAuth(session, self.clock, moderation or self.moderation(session), key=self.panel_key)

    def panel(self, session: AsyncSession) -> PanelService:
        """The staff panel's service outside an update's container (built the one way, AppServices.panel)."""
        return self.services(session).panel

    def broadcasts(self, session: AsyncSession) -> BroadcastService:
        return BroadcastService(session, self.clock, self.outbox(session))

    def moderation(self, session: AsyncSession) -> ModerationService:
        s = self.settings
        return ModerationService(
            session,
            self.clock,
            admin_ids=frozenset(s.admin_ids),
            warnings_to_ban=s.warnings_to_ban,
            ban_duration=s.ban_duration,
            ban_escalation=s.ban_escalation,
            report_cooldown=s.report_cooldown,
            page_size=s.moderation_page_size,
            lookup=self.relay_lookup(session),
            remover=self.message_remover(session),
            button_key=self.phone_code_key,
        )

    def services(self, session: AsyncSession) -> AppServices:
        """The services of one update (`services: Services` in a handler), each built on first use."""
        return AppServices(self, session)


class AppServices:
    """`services.container.Services` for one session: a service is built the first time it is asked
    for, then kept for the rest of the update (a member's message builds only sign-in's, which loads
    the sender; the dict this replaces built thirteen services for every update). Services that take
    an event recorder or a moderation service share this update's one. Jobs, which run outside
    updates, use AppContext's builders directly."""

    def __init__(self, ctx: AppContext, session: AsyncSession) -> None:
        self.ctx = ctx
        self.session = session

    @cached_property
    def events(self) -> EventRecorder:
        return self.ctx.event_recorder(self.session)

    @cached_property
    def outbox(self) -> Outbox:
        return self.ctx.outbox(self.session)

    @cached_property
    def invites(self) -> InviteService:
        return self.ctx.invites(self.session, self.events)

    @cached_property
    def signin(self) -> SignInService:
        return self.ctx.signin(self.session, self.events, self.invites)

    @cached_property
    def moderation(self) -> ModerationService:
        return self.ctx.moderation(self.session)

    @cached_property
    def users(self) -> UserDirectory:
        lookup = self.moderation.lookup
        return UserDirectory(self.session, default_region=self.ctx.settings.default_region, lookup=lookup)

    @cached_property
    def profile(self) -> ProfileService:
        return ProfileService(self.ctx.translator.locales)

    @cached_property
    def gmfy(self) -> GmfyService:
        s = self.ctx.settings
        return GmfyService(
            self.session,
            self.ctx.gmfy,
            default_rating_id=s.gmfy_default_rating_id,
            default_challenge_id=s.gmfy_default_challenge_id,
            page_size=s.gmfy_top_page_size,
            sort=s.gmfy_top_sort,
        )

    @cached_property
    def relay(self) -> RelayService:
        return self.ctx.relay(self.session)

    @cached_property
    def broadcasts(self) -> BroadcastService:
        return self.ctx.broadcasts(self.session)

    @cached_property
    def rooms(self) -> RoomService:
        return RoomService(self.session, self.ctx.clock, self.events)

    @cached_property
    def oauth(self) -> OAuthService | None:
        return self.ctx.oauth(self.session)

    @cached_property
    def panel_auth(self) -> PanelAuth:
        return self.ctx.panel_auth(self.session, self.moderation)

    @cached_property
    def panel(self) -> PanelService:
        """The staff panel's (panel/web.py): not in `Services`, no handler uses it."""
        return PanelService(
            self.session,
            self.ctx.clock,
            self.moderation,
            self.users,
            self.relay,
            self.broadcasts,
            gmfy=self.gmfy,
            gmfy_timeout=self.ctx.settings.panel_gmfy_timeout_seconds,
        )


def _conforms(services: AppServices) -> Services:
    return services  # mypy checks here that AppServices is a `Services`
