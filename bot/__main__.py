"""`python -m bot`: load settings (one clear line if one is wrong), then run the bot."""

from __future__ import annotations

import contextlib
import sys

from pydantic import ValidationError


def settings_error_line(error: ValidationError) -> str:
    first = error.errors()[0]
    name = "_".join(str(part) for part in first["loc"]).upper()
    if first["type"] == "missing":
        return f"Setting {name} is missing: set it in the environment or in .env (see .env.example)."
    message = str(first["msg"]).removeprefix("Value error, ")
    if not name:  # a rule across settings: its message names them
        return f"Settings are invalid: {message}."
    return f"Setting {name} is invalid: {message}."


async def _run() -> None:
    from bot.app import BotApp
    from bot.logs import setup_logging
    from bot.reporting import setup_error_reporting
    from bot.settings import Settings
    from bot.startup import check_telegram

    settings = Settings()  # values come from the environment
    setup_logging(settings.log_level, settings.log_json)
    dsn = settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else None
    setup_error_reporting(dsn, environment=settings.sentry_environment)
    app = await BotApp.create(settings)
    try:
        await check_telegram(app.bot)  # a refused token or an unreachable API stops here, clearly
        await app.run()
    finally:
        await app.close()


def database_command(command: str, path: str) -> int:
    """`python -m bot backup PATH` / `restore PATH`: needs DATABASE_URL (and DATABASE_SCHEMA), not the token."""
    import os
    from pathlib import Path

    from storage.backup import BackupError, backup, restore
    from storage.env import database_url_from_env

    url, schema = database_url_from_env(), os.environ.get("DATABASE_SCHEMA") or None
    try:
        (backup if command == "backup" else restore)(url, Path(path), schema)
    except BackupError as exc:
        print(f"{command} failed: {exc}", file=sys.stderr)
        return 1
    print(f"{command}: done ({path})")
    return 0


def main(argv: list[str] | None = None) -> int:
    from bot.settings import Settings

    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["backup"], ["restore"]):
        if len(args) != 2:
            print(f"usage: python -m bot {args[0]} PATH", file=sys.stderr)
            return 2
        return database_command(args[0], args[1])
    try:
        settings = Settings()
    except ValidationError as exc:
        print(settings_error_line(exc), file=sys.stderr)
        return 2
    # Only now aiogram (about 2.5 s of CPU to import its types): a wrong setting is told at once.
    from bot.event_loop import run
    from bot.startup import TelegramUnreachable, TokenRefused

    try:
        with contextlib.suppress(KeyboardInterrupt):
            run(_run(), settings.event_loop)
    except TokenRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    except TelegramUnreachable as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
