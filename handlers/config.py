"""The few settings handlers read, handed in by bot/app.py as the workflow-data key `config` (handlers
never import `bot.settings`: the process's settings stay on the bot's side of the line)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HandlerConfig:
    admin_chat_id: int | None = None  # report cards go there; None: to every admin and moderator privately
    admin_chat_language: str | None = None  # texts in the admin chat; None: the default locale
    panel_url: str | None = None  # where /panel links go; None: the panel is off (or no HTTP server)
