"""Server time of every staff panel page on a big community (SQLite).

    uv run python -m bench.panel [--members 100000] [--messages 1000000] [--days 30] [--runs 5]

Fills a migrated SQLite database with bulk inserts (members, their invite codes and referrals, the
common chat, messages spread over `--days` days, reports, warnings, bans, the audit log, queued
deliveries and GMFY events), builds the real app (BotApp.create, no Telegram needed), signs an admin
in through a login link, and opens each page `--runs` times. The time is the server's own, from the
panel's `Server-Timing` header: first (cold) and the median and worst of the rest. The target
(issue 21) is under 300 ms for every page.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.app import BotApp, freeze_startup_heap
from bot.server import create_web_app
from bot.settings import Settings
from storage.db import create_engine, upgrade_to_head
from storage.models import User
from tests.fakes.telegram import TOKEN

ADMIN_TG = 42
FORMAT = "%Y-%m-%d %H:%M:%S.%f"
EXCERPTS = (
    "Cheap followers, DM me now!!! t.me/+spam",
    "you are all idiots and this chat is trash",
    "Earn $500 a day from home, link in my profile",
    "stop posting this nonsense or else",
)  # how SQLAlchemy stores a DateTime in SQLite


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(FORMAT)


def fill(path: str, members: int, messages: int, days: int, now: datetime) -> dict[str, int]:
    """Bulk inserts through sqlite3 (executemany in one transaction): seconds, not minutes."""
    rng = random.Random(21)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    span = timedelta(days=days).total_seconds()

    def ago(seconds: float) -> str:
        return stamp(now - timedelta(seconds=seconds))

    # People write more in the evening than at night: messages follow a day's curve, not a flat line.
    day_curve = [1 + math.sin((hour - 9) / 24 * 2 * math.pi) * 0.8 for hour in range(24)]
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def message_time() -> str:
        while True:  # today's hours still to come are drawn again
            day = rng.randrange(days)
            hour = rng.choices(range(24), day_curve)[0]
            moment = today - timedelta(days=day, hours=-hour, seconds=-rng.random() * 3600)
            if moment <= now:
                return stamp(moment)

    with db:
        db.executemany(
            "INSERT INTO users (id, telegram_id, username, nickname, anon_name, phone, language, signed_in_at,"
            " is_active, created_at, last_seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    i,
                    ADMIN_TG if i == 1 else 1_000_000 + i,
                    f"user{i}" if i % 3 == 0 else None,
                    f"Nick{i}" if i % 4 == 0 else None,
                    f"Quiet Owl {i}",
                    f"+7916{i:07d}",
                    "ru" if i % 2 else "en",
                    ago(rng.random() * span * 3),
                    1,
                    ago(span * 3),
                    ago(rng.random() * span),
                )
                for i in range(1, members + 1)
            ),
        )
        db.executemany(
            "INSERT INTO invite_codes (id, code, owner_id, created_at, expires_at) VALUES (?,?,?,?,?)",
            ((i, f"c{i}", i, ago(span), stamp(now + timedelta(days=30))) for i in range(1, members + 1)),
        )
        invited = range(2, members + 1, 3)  # a third of the members came with someone's code
        db.executemany(
            "INSERT INTO referrals (inviter_id, invitee_id, code_id, created_at) VALUES (?,?,?,?)",
            ((inviter := max(1, i // 7), i, inviter, ago(rng.random() * span)) for i in invited),
        )
        db.executemany(
            "INSERT INTO relay_members (user_id, in_common, paused, target_kind) VALUES (?,?,?,?)",
            ((i, 1 if i % 2 else 0, 0, "common") for i in range(1, members + 1)),
        )
        db.executemany(
            "INSERT INTO relay_messages (author_id, chat, origin_chat_id, origin_message_id, kind, text,"
            " album_flushed, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                (
                    author := 2 + i % (members - 1),
                    "common",
                    1_000_000 + author,
                    i,
                    "text" if i % 10 else "photo",
                    f"message number {i}" if i % 10 else None,
                    0,
                    message_time(),
                )
                for i in range(messages)
            ),
        )
        reports = max(10, members // 50)
        db.executemany(
            "INSERT INTO reports (reporter_id, target_id, reason, relay_message_id, excerpt, status, created_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                (
                    2 + rng.randrange(members - 1),
                    2 + rng.randrange(200),
                    rng.choice(("spam", "abuse", "other")),
                    1 + rng.randrange(messages),
                    rng.choice(EXCERPTS),
                    "open" if i % 3 == 0 else "confirmed",
                    ago(rng.random() * span),
                )
                for i in range(reports)
            ),
        )
        db.executemany(
            "INSERT INTO warnings (user_id, by_user_id, reason, created_at) VALUES (?,?,?,?)",
            ((2 + rng.randrange(500), 1, "spam", ago(rng.random() * span)) for _ in range(reports)),
        )
        db.executemany(
            "INSERT INTO bans (user_id, until, reason, by_user_id, created_at) VALUES (?,?,?,?,?)",
            (
                (2 + i, stamp(now + timedelta(hours=rng.randrange(-48, 48))), "spam", 1, ago(rng.random() * span))
                for i in range(max(5, members // 200))
            ),
        )
        actions = ("lookup", "warn", "ban", "unban", "report", "dismiss", "delete_message", "broadcast")
        audits = members * 2
        db.executemany(
            "INSERT INTO audit_log (actor_id, action, target_id, reason, created_at) VALUES (?,?,?,?,?)",
            (
                (1 + rng.randrange(20), actions[i % len(actions)], 2 + rng.randrange(members - 1), None, ago(span - i))
                for i in range(audits)
            ),
        )
        db.executemany(
            "INSERT INTO outgoing (chat_id, kind, payload, status, attempts, not_before, created_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                (1_000_000 + i, "text", '{"text": "x"}', "pending" if i % 2 else "sent", 0, ago(60), ago(60))
                for i in range(20_000)
            ),
        )
        db.executemany(
            "INSERT INTO gmfy_outbox (user_id, type, status, attempts, next_attempt_at, created_at)"
            " VALUES (?,?,?,?,?,?)",
            ((1 + i % members, "message_sent", "pending", 0, ago(0), ago(10)) for i in range(5_000)),
        )
    db.execute("ANALYZE")
    db.close()
    return {"members": members, "messages": messages, "reports": reports, "audit": audits}


async def timed(
    http: ClientSession, base: str, cookie: str, path: str, method: str = "GET", **kw: Any
) -> tuple[float, float]:
    """The server's own time for the page (its Server-Timing header) and the CPU this process spent on
    the request and its answer (the server runs in this process): a loaded machine stretches the first,
    much less the second."""
    cpu = time.process_time()
    async with http.request(method, base + path, headers={"Cookie": cookie}, allow_redirects=False, **kw) as r:
        await r.read()
        assert r.status in (200, 303), (path, r.status, (await r.text())[:300])
        found = re.search(r"dur=([\d.]+)", r.headers.get("Server-Timing", ""))
        assert found, path
        return float(found.group(1)), (time.process_time() - cpu) * 1000


async def main(members: int, messages: int, days: int, runs: int) -> None:
    folder = tempfile.mkdtemp()
    url = f"sqlite+aiosqlite:///{folder}/bench.db"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    now = datetime.now(UTC)
    started = time.perf_counter()
    sizes = fill(f"{folder}/bench.db", members, messages, days, now)
    print(f"filled {sizes} in {time.perf_counter() - started:.1f} s (messages over {days} days)")

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, bot_token=TOKEN, database_url=url, admin_ids=[ADMIN_TG], telegram_api_url="http://127.0.0.1:9"
    )
    app = await BotApp.create(settings)
    web_app, _ = create_web_app(app)
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    freeze_startup_heap()  # as BotApp.run does
    base = str(server.make_url("")).rstrip("/")
    try:
        async with app.ctx.sessionmaker() as session, session.begin():
            admin = await session.get_one(User, 1)
            token = await app.ctx.panel_auth(session).issue_link(admin)
        async with ClientSession() as http:
            async with http.post(f"{base}/panel/login", data={"t": token}, allow_redirects=False) as r:
                assert r.status == 303, await r.text()
                morsel = next(iter(r.cookies.values()))
            cookie = f"{morsel.key}={morsel.value}"
            async with http.get(f"{base}/panel/settings", headers={"Cookie": cookie}) as r:
                csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
            pages: list[tuple[str, str, dict[str, Any]]] = [
                ("overview", "/panel/", {}),
                ("live delivery (htmx)", "/panel/live", {}),
                ("complaints", "/panel/complaints", {}),
                ("complaints, page 5", "/panel/complaints?page=5", {}),
                ("members: search a nickname", "/panel/members?q=Nick12", {}),
                ("members: search #id", "/panel/members?q=%2350000", {}),
                ("members: search a phone", f"/panel/members?q=%2B7916{members // 2:07d}", {}),
                ("member page (14,000 invited)", "/panel/members/1", {}),
                ("member page", f"/panel/members/{members // 2}", {}),
                ("audit log", "/panel/audit", {}),
                ("audit log, by action", "/panel/audit?action=ban", {}),
                ("audit log, by target", f"/panel/audit?target={members // 3}", {}),
                ("audit log, page 1000", "/panel/audit?page=1000", {}),
                ("audit CSV (by actor, ~10,000 rows)", "/panel/audit.csv?actor=3", {}),
                ("broadcast", "/panel/broadcast", {}),
                ("broadcast preview (audience: everyone)", "/panel/broadcast/preview", {}),
                ("settings", "/panel/settings", {}),
            ]
            print(
                f"{'page':42} {'first':>8} {'median':>8} {'worst':>8}  {'cpu 1st':>8} {'cpu med':>8}"
                f"  (ms: server time, {runs} runs; CPU of this process)"
            )
            worst_all = 0.0
            for name, path, _ in pages:
                method = "POST" if path.endswith("preview") else "GET"
                data = {"csrf": csrf, "text": "<b>Hello</b> everyone", "audience": "all"} if method == "POST" else None
                timings = [await timed(http, base, cookie, path, method, data=data) for _ in range(runs)]
                times, cpu = [t for t, _ in timings], [c for _, c in timings]
                rest = times[1:] or times
                worst_all = max(worst_all, *times)
                print(
                    f"{name:42} {times[0]:8.1f} {statistics.median(rest):8.1f} {max(rest):8.1f}"
                    f"  {cpu[0]:8.1f} {statistics.median(cpu[1:] or cpu):8.1f}"
                )
            print(f"slowest page, any run: {worst_all:.1f} ms (target < 300 ms)")
    finally:
        await server.close()
        await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30, help="messages spread over this many days")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.members, args.messages, args.days, args.runs))
