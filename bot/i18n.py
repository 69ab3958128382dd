"""Texts in Russian and English from Fluent catalogs (`locales/<lang>/*.ftl`, one file per feature)."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax.ast import Junk
from fluent.syntax.ast import Message as FluentMessage

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LOCALE = "en"


class MissingText(KeyError):
    pass


class Translator:
    """Loads every catalog once at start-up; `texts(locale)` gives the per-update view."""

    def __init__(self, locales_dir: Path = LOCALES_DIR, default: str = DEFAULT_LOCALE) -> None:
        self.default = default
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

    def texts(self, locale: str) -> Texts:
        return Texts(self, locale if locale in self.bundles else self.default)

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
    """`t("start-welcome-back", name=...)` renders HTML-safe text: string arguments are escaped."""

    def __init__(self, translator: Translator, locale: str) -> None:
        self.translator = translator
        self.locale = locale

    def __call__(self, key: str, **args: Any) -> str:
        safe = {
            name: html.escape(value, quote=False) if isinstance(value, str) else value for name, value in args.items()
        }
        return self.translator.format(self.locale, key, safe)

    def plain(self, key: str, **args: Any) -> str:
        """For places Telegram shows without parsing: button labels, alerts, command descriptions."""
        return self.translator.format(self.locale, key, args)
