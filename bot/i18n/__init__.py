"""Texts in Russian and English from Fluent catalogs (`locales/<lang>/*.ftl`, one file per feature)."""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton, format_time
from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax.ast import Junk
from fluent.syntax.ast import Message as FluentMessage

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent.parent.parent / "locales"
DEFAULT_LOCALE = "en"


class MissingText(KeyError):
    pass


class Clock(Protocol):
    def now(self) -> datetime: ...


class _WallClock:
    def now(self) -> datetime:
        from datetime import UTC

        return datetime.now(UTC)


def zone(name: str | None, default: str = "UTC") -> tzinfo:
    """The zone called `name`, or `default` when it is unset or unknown (a zone dropped from tzdata)."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


class HasLanguageAndZone(Protocol):
    language: str | None  # chosen with /lang
    telegram_language: str | None
    timezone: str | None


class Translator:
    """Loads every catalog once at start-up; `texts(locale)` gives the per-update view."""

    def __init__(
        self,
        locales_dir: Path = LOCALES_DIR,
        default: str = DEFAULT_LOCALE,
        *,
        clock: Clock | None = None,
        default_timezone: str = "UTC",
    ) -> None:
        self.default = default
        self.clock: Clock = clock or _WallClock()  # "today" and "tomorrow" are relative to it
        self.default_timezone = default_timezone
        self.default_tz = zone(None, default_timezone)  # most texts (relay buttons too) are in it: built once
        self.bundles: dict[str, FluentBundle] = {}
        self.keys: dict[str, set[str]] = {}
        for folder in sorted(p for p in locales_dir.iterdir() if p.is_dir()):
            bundle = FluentBundle([folder.name], use_isolating=False)
            keys: set[str] = set()
            for path in sorted(folder.glob("*.ftl")):
                resource = FluentResource(path.read_text(encoding="utf-8"))
                for entry in resource.body:
                    if isinstance(entry, Junk):
                        raise ValueError(f"syntax error in {path}: {str(entry.content)[:80]!r}")
                    if isinstance(entry, FluentMessage):
                        keys.add(entry.id.name)
                bundle.add_resource(resource)
            self.bundles[folder.name] = bundle
            self.keys[folder.name] = keys
        if default not in self.bundles:
            raise ValueError(f"no catalog for the default locale {default!r} in {locales_dir}")

    @property
    def locales(self) -> list[str]:
        return sorted(self.bundles)

    def pick(self, chosen: str | None, telegram_language: str | None) -> str:
        """The user's own choice (/lang) first, then their Telegram language, then English."""
        for candidate in (chosen, (telegram_language or "").split("-")[0].lower()):
            if candidate and candidate in self.bundles:
                return candidate
        return self.default

    def texts(self, locale: str, timezone: str | None = None) -> Texts:
        tz = self.default_tz if timezone is None else zone(timezone, self.default_timezone)
        return Texts(self, locale if locale in self.bundles else self.default, tz)

    def for_user(self, user: HasLanguageAndZone | None, telegram_language: str | None = None) -> Texts:
        """Texts in this member's language, times in their zone."""
        if user is None:
            return self.texts(self.pick(None, telegram_language))
        return self.texts(self.pick(user.language, telegram_language or user.telegram_language), user.timezone)

    def format(self, locale: str, key: str, args: dict[str, Any]) -> str:
        for name in (locale, self.default):
            bundle = self.bundles[name]
            if bundle.has_message(key):
                message = bundle.get_message(key)
                if message.value is None:
                    break
                text, errors = bundle.format_pattern(message.value, args)
                if errors:
                    log.error("text %s/%s: %s", name, key, errors)
                return str(text)
        raise MissingText(key)


class Texts:
    """`t("start-welcome-back", name=...)` renders HTML-safe text: string arguments are escaped, and
    datetimes and timedeltas are written in the reader's language (and zone): `сегодня в 18:30`,
    `tomorrow at 9:00 AM`, `3 дек., 14:00`; `4 часа`, `1 day 6 hours`."""

    def __init__(self, translator: Translator, locale: str, tz: tzinfo | None = None) -> None:
        self.translator = translator
        self.locale = locale
        self.tz: tzinfo = tz or translator.default_tz

    def __call__(self, key: str, **args: Any) -> str:
        safe = {name: self._arg(value, escape=True) for name, value in args.items()}
        return self.translator.format(self.locale, key, safe)

    def plain(self, key: str, **args: Any) -> str:
        """For places Telegram shows without parsing: button labels, alerts, command descriptions."""
        return self.translator.format(self.locale, key, {n: self._arg(v, escape=False) for n, v in args.items()})

    def _arg(self, value: Any, *, escape: bool) -> Any:
        if isinstance(value, str):
            return html.escape(value, quote=False) if escape else value
        if isinstance(value, datetime):
            return self.moment(value)
        if isinstance(value, timedelta):
            return self.duration(value)
        return value

    def clock_time(self, moment: datetime) -> str:
        """`18:30` / `6:30 PM`, in the reader's zone."""
        # CLDR puts a narrow no-break space before AM/PM; a plain one reads the same everywhere
        return format_time(moment, "short", tzinfo=self.tz, locale=self.locale).replace("\u202f", " ")

    def moment(self, moment: datetime) -> str:
        """A moment as the reader would say it: today / tomorrow / yesterday at a time, else a short date and time."""
        local = moment.astimezone(self.tz)
        today = self.translator.clock.now().astimezone(self.tz).date()
        time = self.clock_time(moment)
        days = (local.date() - today).days
        if days in (-1, 0, 1):
            return self.translator.format(self.locale, "time-day", {"day": days + 1, "time": time})
        skeleton = "MMMd" if local.year == today.year else "yMMMd"
        date = format_skeleton(skeleton, local, tzinfo=self.tz, locale=self.locale).replace("\u202f", " ")
        return self.translator.format(self.locale, "time-date", {"date": date, "time": time})

    def duration(self, duration: timedelta) -> str:
        """`4 часа`, `1 день 6 часов`, `30 minutes`: the two largest whole units (a ban, a wait, a limit)."""
        seconds = int(duration.total_seconds())
        parts: list[str] = []
        for unit, size in (("weeks", 604800), ("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
            if unit == "weeks" and seconds % size:
                continue  # 10 days is "10 days", not "1 week 3 days"
            if seconds >= size and len(parts) < 2:
                parts.append(self.translator.format(self.locale, f"unit-{unit}", {"n": seconds // size}))
                seconds %= size
        if not parts:
            return self.translator.format(self.locale, "unit-seconds", {"n": 0})
        return " ".join(parts)

    def zone_label(self, name: str | None = None) -> str:
        """`Москва (UTC+3)`: a zone as its city in the reader's language, with its offset now."""
        from services.zones import zone_label

        return zone_label(name or str(self.tz), self.locale, self.translator.clock.now())
