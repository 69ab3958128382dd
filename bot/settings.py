"""Settings from the environment or `.env` (names as in SPEC.md), validated at start-up."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urljoin, urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.env import DEFAULT_DATABASE_URL

# The async drivers the bot runs on, by what people type (a plain postgresql:// URL means asyncpg).
DATABASE_DRIVERS = {
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "sqlite": "sqlite+aiosqlite",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
BOT_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
FREE_BROADCAST_RATE = 30  # messages a second Telegram allows a bot without paid broadcasts


class Settings(BaseSettings):
    """Every knob of the bot. Built once in `main()` and passed down; never a module global."""

    # An empty value (`ADMIN_CHAT_ID=` as .env.example ships it) means "unset": the default applies.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    bot_token: SecretStr
    database_url: str = DEFAULT_DATABASE_URL
    database_schema: str | None = None  # PostgreSQL only: search_path (one schema per test run or tenant)
    # SQLite only: "fast" (storage/sqlite_fast.py) or "stock" (SQLAlchemy's own aiosqlite adapter, slower;
    # the way back if an aiosqlite or SQLAlchemy release breaks the fast one).
    sqlite_driver: Literal["fast", "stock"] = "fast"
    # The event loop (bot/event_loop.py): uvloop (faster; asyncio's own where it is not installed) or asyncio.
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    redis_url: str | None = None
    redis_prefix: str = "bot"  # keys in Redis start with this (several bots or test runs on one Redis)
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    admin_chat_id: int | None = None
    telegram_api_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Updates handled at once: polling takes no more (aiogram's tasks_concurrency_limit), the webhook
    # asks Telegram for no more connections (max_connections, at most 100). Bounds memory under load.
    updates_in_flight: int = Field(100, ge=1, le=1000)
    # A webhook update past UPDATES_IN_FLIGHT waits this long for a slot, then gets 503 (Telegram retries)
    webhook_busy_wait_seconds: float = Field(1.0, ge=0, le=30)
    # A webhook update is answered once handled (so Telegram orders each chat's updates); past this, 503
    # while the handling goes on (Telegram asks again; the retry waits for this attempt, then is dropped)
    webhook_answer_seconds: float = Field(20.0, gt=0, le=50)
    webhook_dedup_seconds: int = Field(86400, ge=60)  # a webhook update id delivered again within this is dropped
    web_host: str = "0.0.0.0"
    web_port: int = 8080
    # /healthz and /metrics, kept off the public port (METRICS_PORT=0: not served)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 8081
    metrics_token: SecretStr | None = None  # when set, /metrics wants `Authorization: Bearer <it>`
    migrate_on_start: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool = False
    sentry_dsn: SecretStr | None = None  # error reports to Sentry (off when unset; no personal data: bot/reporting.py)
    sentry_environment: str | None = None
    # /livez answers 503 when the polling loop, an update or the delivery worker stood still this long
    liveness_stale_seconds: float = Field(120.0, gt=0)
    # Flood control on incoming updates, per user: a burst of this many, refilled at this rate (0 = off)
    flood_rate: float = Field(1.0, ge=0)
    flood_burst: float = Field(20.0, ge=1)  # an album of 10 arrives as 10 updates at once

    # Sign-in (SPEC 1)
    default_region: str = "RU"
    # The zone of members whose phone names none (or several, none of them clearly the country's own)
    default_timezone: str = "UTC"
    sms_sender_url: str | None = None
    # Development only: /phone without an SMS gateway, codes written to the log (whoever reads it signs in)
    sms_dev_log_codes: bool = False
    phone_code_ttl_seconds: int = Field(300, gt=0)
    phone_code_max_attempts: int = Field(3, gt=0)
    phone_code_cooldown_seconds: int = Field(60, ge=0)
    # Per phone AND per Telegram account, per UTC day: codes sent, wrong codes typed
    phone_codes_per_day: int = Field(5, gt=0)
    phone_code_failures_per_day: int = Field(10, gt=0)
    # HMAC key of stored codes; unset: derived from BOT_TOKEN (HKDF), the same on every instance
    phone_code_secret: SecretStr | None = None
    # How long the account's own Telegram has to allow a code sign-in that would take the account over
    phone_takeover_confirm_seconds: int = Field(3600, gt=0)

    # Common and private chats (SPEC 3, 4)
    messages_per_period: int = Field(20, gt=0)  # per user, fixed windows
    limit_period_seconds: int = Field(3600, ge=60)
    join_history_size: int = Field(20, ge=0, le=100)  # messages shown on /join
    scheduled_per_user: int = Field(20, ge=1, le=1000)  # /schedule items one member may have waiting
    max_file_mb: float = Field(5.0, gt=0, le=2000)  # relayed files over this are refused
    message_ttl_seconds: int | None = Field(None, gt=0)  # delete relayed messages older than this (off: unset)
    album_settle_seconds: float = Field(1.0, gt=0)  # an album goes out this long after its last part
    # A common-chat message to more readers is enqueued this many readers at a time, a transaction each (bot/fanout.py)
    # (at most 10,000: a page's reply lookup binds one variable per reader, SQLite allows 32,766)
    fan_out_page: int = Field(1000, ge=1, le=10_000)
    who_window_minutes: int = Field(15, gt=0)  # /who lists members seen within this

    # Outgoing delivery (SPEC 8)
    delivery_rate: float = Field(30.0, gt=0, le=1000)  # messages per second for the whole bot
    # Telegram's paid broadcasts: sends may go past the free ~30/s (it bills Stars per message past it)
    paid_broadcast: bool = False
    delivery_per_chat_rate: float = Field(1.0, gt=0)  # messages per second to one chat...
    delivery_per_chat_burst: float = Field(3.0, ge=1)  # ...after a short burst of this many
    delivery_batch_size: int = Field(500, gt=0, le=5000)
    delivery_concurrency: int = Field(64, gt=0, le=1000)  # requests in flight at once
    delivery_max_attempts: int = Field(8, gt=0)  # for 5xx/network failures
    delivery_retention_days: int = Field(7, gt=0)  # sent rows kept this long (replies/edits map through them)
    delivery_worker: bool = True  # run the worker in this process
    # A crashed instance's claimed rows return after this (rows claimed at once: see bot/app.py claim_limit)
    delivery_lease_seconds: float = Field(20.0, gt=0)

    # Invite codes (SPEC 2)
    invite_code_ttl_days: int = Field(30, gt=0)
    referrals_page_size: int = Field(10, gt=0, le=50)

    # Complaints and bans (SPEC 6); durations as `30m`, `4h`, `2d` (or seconds)
    warnings_to_ban: int = Field(3, gt=0)
    ban_duration: timedelta = timedelta(hours=4)
    ban_escalation: bool = False  # each repeat ban doubles
    report_cooldown: timedelta = timedelta(hours=24)  # one report per reporter and target per this
    ban_check_seconds: int = Field(30, gt=0)  # how often the scheduler lifts bans that are over
    broadcast_progress_seconds: float = Field(3.0, gt=0)  # how often a running /broadcast shows its progress
    moderation_page_size: int = Field(10, gt=0, le=50)
    admin_chat_language: str | None = None  # texts in the admin chat; default: the default locale

    # GMFY (SPEC 7): event type names are settings
    gmfy_api_key: SecretStr | None = None
    gmfy_url: str = "https://api.gmfy.io/"
    gmfy_event_registration: str = "registration"
    gmfy_event_referral: str = "referral"
    gmfy_event_message_sent: str = "message_sent"
    gmfy_event_report_confirmed: str = "report_confirmed"
    gmfy_event_ban: str = "ban"
    gmfy_event_room_created: str = "room_created"
    gmfy_event_room_joined: str = "room_joined"
    gmfy_event_invite_created: str = "invite_created"
    gmfy_timeout_seconds: float = Field(10.0, gt=0)
    gmfy_verify_tls: bool = True
    gmfy_outbox_interval_seconds: float = Field(5.0, gt=0)
    gmfy_outbox_batch_size: int = Field(100, gt=0, le=100)
    gmfy_outbox_max_batches_per_run: int = Field(50, gt=0)
    gmfy_outbox_backoff_base_seconds: float = Field(5.0, gt=0)
    gmfy_outbox_backoff_max_seconds: float = Field(600.0, gt=0)
    gmfy_outbox_lease_seconds: float = Field(60.0, gt=0)  # > gmfy_timeout_seconds: a crashed sender's rows return
    gmfy_notifications_interval_seconds: float = Field(30.0, gt=0)
    gmfy_notification_window_minutes: float = Field(10.0, gt=0)
    gmfy_cache_ttl_seconds: float = Field(60.0, ge=0)
    gmfy_default_rating_id: str | None = None
    gmfy_default_challenge_id: str | None = None
    gmfy_top_page_size: int = Field(10, gt=0, le=50)
    gmfy_top_sort: Literal["ASC", "DESC"] = "ASC"

    # Linking an external account (OAuth2 + PKCE); off unless the URLs, client id and redirect are set.
    oauth_authorize_url: str | None = None
    oauth_token_url: str | None = None
    oauth_userinfo_url: str | None = None
    oauth_revoke_url: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_redirect_url: str | None = None  # our callback, served by the bot's HTTP server (WEB_PORT)
    oauth_scopes: str = "openid profile phone offline_access"
    # Encrypts stored tokens and signs /oauth/start links: Fernet keys, comma-separated (the first encrypts,
    # all decrypt: rotation).
    oauth_token_key: SecretStr | None = None
    oauth_timeout_seconds: float = Field(10.0, gt=0)
    oauth_refresh_seconds: int = Field(60, gt=0)  # how often tokens close to expiry are refreshed

    # Staff web panel (SPEC 10): /panel on the bot's HTTP server
    panel_enabled: bool = True
    panel_url: str | None = None  # public address of /panel; default from WEBHOOK_URL or WEB_PORT
    panel_secret: SecretStr | None = None  # signs login links; unset: derived from BOT_TOKEN
    panel_gmfy_timeout_seconds: float = Field(2.0, gt=0)  # a member page's GMFY ratings, at most this long

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not BOT_TOKEN_RE.match(value.get_secret_value().strip()):
            raise ValueError("expected the form 123456:ABC... given by @BotFather")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in re.split(r"[,\s]+", value.strip()) if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("ban_duration", "report_cooldown", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if not isinstance(value, str) or value.strip().upper().startswith("P"):
            return value  # timedelta, seconds as a number, or ISO 8601 (PT4H): pydantic parses them
        if value.strip().isdigit():
            return timedelta(seconds=int(value))
        from services.moderation import looks_like_duration, parse_duration

        if not looks_like_duration(value):
            raise ValueError("expected a duration such as 30m, 4h or 2d")
        return parse_duration(value)

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Europe/Moscow or UTC") from None
        return value

    @field_validator("phone_code_secret", "panel_secret")
    @classmethod
    def _phone_code_secret_strength(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("at least 32 characters (python -c 'import secrets; print(secrets.token_urlsafe())')")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value.strip())
        except ArgumentError:
            raise ValueError(
                f"expected {DEFAULT_DATABASE_URL} or postgresql+asyncpg://user:pass@host:5432/db"
            ) from None
        driver = DATABASE_DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(f"unsupported database {url.drivername!r}: use sqlite+aiosqlite or postgresql+asyncpg")
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value.strip()).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("expected redis://host:6379/0 (or rediss://, unix://)")
        return value.strip() if value else value

    @field_validator("telegram_api_url", "webhook_url", "gmfy_url", "sms_sender_url", "panel_url", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlparse(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("expected an http(s):// URL with a host")
        return value.strip()

    @field_validator("webhook_secret", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # `WEBHOOK_SECRET=` as in .env.example

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram allows 1-256 of these; anyone who can guess it can post updates as any user.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{32,256}", value.get_secret_value()):
            raise ValueError(
                "use 32-256 characters of letters, digits, _ and - "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one)"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is required with WEBHOOK_URL (Telegram sends it with every update)")
        return self

    @model_validator(mode="after")
    def _fast_delivery_is_paid(self) -> Settings:
        if self.delivery_rate > FREE_BROADCAST_RATE and not self.paid_broadcast:
            raise ValueError(
                f"DELIVERY_RATE above {FREE_BROADCAST_RATE:g} needs PAID_BROADCAST=true "
                "(Telegram's paid broadcasts, billed in Stars per message; see README)"
            )
        return self

    @model_validator(mode="after")
    def _metrics_off_the_public_port(self) -> Settings:
        if self.metrics_port and self.metrics_port == self.web_port:
            raise ValueError("METRICS_PORT must differ from WEB_PORT (/metrics and /healthz are not public)")
        return self

    @field_validator("gmfy_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _oauth_needs_key(self) -> Settings:
        if self.oauth_enabled and self.oauth_token_key is None:
            raise ValueError("OAUTH_TOKEN_KEY is required with OAuth linking (it encrypts the stored tokens)")
        if self.oauth_enabled and urlparse(self.oauth_start_url).path == urlparse(self.oauth_redirect_url or "").path:
            raise ValueError("OAUTH_REDIRECT_URL must not end in /start: /oauth/start is served beside it")
        return self

    @field_validator("oauth_token_key")
    @classmethod
    def _token_key_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from services.oauth import TokenKeys

            TokenKeys.parse(value.get_secret_value())  # ValueError: says what a good key is
        return value

    @property
    def oauth_start_url(self) -> str:
        """Where the /link button goes: /oauth/start beside the callback, on the bot's HTTP server."""
        assert self.oauth_redirect_url is not None
        return urljoin(self.oauth_redirect_url, "start")

    @property
    def panel_public_url(self) -> str:
        """Where staff open the panel: PANEL_URL, else WEBHOOK_URL's origin + /panel, else localhost."""
        if self.panel_url:
            return self.panel_url.rstrip("/")
        if self.webhook_url:
            parts = urlparse(self.webhook_url)
            return f"{parts.scheme}://{parts.netloc}/panel"
        return f"http://localhost:{self.web_port}/panel"

    @property
    def oauth_enabled(self) -> bool:
        return all((self.oauth_authorize_url, self.oauth_token_url, self.oauth_client_id, self.oauth_redirect_url))

    @property
    def gmfy_enabled(self) -> bool:
        return self.gmfy_api_key is not None and bool(self.gmfy_api_key.get_secret_value())
