"""Screenshots of the staff panel for the README (docs/panel-*.png), light and dark.

    uv run python -m bench.panel_screenshots [--out docs]

Fills a demo database the way bench/panel.py does (smaller), serves the real app, signs an admin in
through a login link and photographs the overview and the complaints page with the distribution's
headless Chromium (Playwright with `executable_path`; no browser download).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestServer
from playwright.async_api import async_playwright

from bench.panel import ADMIN_TG, fill
from bot.app import BotApp
from bot.server import create_web_app
from bot.settings import Settings
from storage.db import create_engine, upgrade_to_head
from storage.models import User
from tests.e2e.test_panel_browser import CHROMIUM, CHROMIUM_ARGS
from tests.fakes.telegram import TOKEN

PAGES = {"overview": "/panel/", "complaints": "/panel/complaints"}


async def main(out: Path) -> None:
    folder = tempfile.mkdtemp()
    url = f"sqlite+aiosqlite:///{folder}/demo.db"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    fill(f"{folder}/demo.db", 3_000, 60_000, 7, datetime.now(UTC))
    with sqlite3.connect(f"{folder}/demo.db") as db:  # the README's screenshots in English
        db.execute("UPDATE users SET language = 'en', nickname = 'Dana (admin)' WHERE id = 1")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, bot_token=TOKEN, database_url=url, admin_ids=[ADMIN_TG], telegram_api_url="http://127.0.0.1:9"
    )
    app = await BotApp.create(settings)
    server = TestServer(create_web_app(app)[0], host="127.0.0.1")
    await server.start_server()
    site = str(server.make_url("")).rstrip("/")
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for scheme in ("light", "dark"):
                async with app.ctx.sessionmaker() as session, session.begin():
                    token = await app.ctx.panel_auth(session).issue_link(await session.get_one(User, 1))
                context = await browser.new_context(
                    color_scheme=scheme, viewport={"width": 1200, "height": 900}, device_scale_factor=1
                )
                page = await context.new_page()
                await page.goto(f"{site}/panel/login?t={token}")
                await page.get_by_role("button").click()
                await page.wait_for_url(f"{site}/panel/")
                for name, path in PAGES.items():
                    await page.goto(site + path)
                    target = out / f"panel-{name}-{scheme}.png"
                    await page.screenshot(path=str(target), full_page=False)
                    print(target)
                await context.close()
            await browser.close()
    finally:
        await server.close()
        await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(folder))
