"""The database URL for tools that run without the bot's settings (the Alembic CLI, `python -m bot
migrate`): they must not require BOT_TOKEN. Here, not in `bot.settings`, so that storage imports
nothing of the bot."""

from __future__ import annotations

import os

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./bot.db"


def database_url_from_env() -> str:
    """DATABASE_URL from the environment, else from `.env`, else the default."""
    if url := os.environ.get("DATABASE_URL"):
        return url
    try:
        from dotenv import dotenv_values

        return dotenv_values(".env").get("DATABASE_URL") or DEFAULT_DATABASE_URL
    except ImportError:
        return DEFAULT_DATABASE_URL
