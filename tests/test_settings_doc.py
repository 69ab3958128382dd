"""Every setting is documented in .env.example, and .env.example names no setting that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


COMPOSE_ONLY = "# --- docker compose only"


def documented() -> set[str]:
    """The bot's settings in .env.example (the compose-only part at its end names no setting)."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8").split(COMPOSE_ONLY)[0]
    return {m.group(1).lower() for m in re.finditer(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE)}


def test_every_setting_is_in_env_example() -> None:
    missing = sorted(set(Settings.model_fields) - documented())
    assert missing == [], f"add these to .env.example: {[m.upper() for m in missing]}"


def test_env_example_names_only_real_settings() -> None:
    unknown = sorted(documented() - set(Settings.model_fields))
    assert unknown == [], f"not settings: {[u.upper() for u in unknown]}"


def test_env_example_loads() -> None:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            key, value = line.split("=", 1)
            if value:
                values[key.lower()] = value
    settings = Settings(_env_file=None, bot_token="123456:" + "A" * 35, **values)  # type: ignore[call-arg]
    assert settings.messages_per_period == 20
