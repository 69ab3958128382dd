"""Production surface: webhook with its secret, /healthz, /metrics, and per-user flood control."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BotApp
from bot.logs import make_formatter
from bot.server import create_metrics_app, create_web_app
from storage.db import create_engine
from tests.conftest import DbTarget
from tests.e2e.harness import Harness, make_settings
from tests.fakes.telegram import FakeTelegram, error

SECRET = "s3cret-token_1-for-the-webhook-tests"
HOOK = "https://bot.example.test/telegram/hook"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    tg = FakeTelegram()
    await tg.start()
    yield tg
    await tg.stop()


async def webhook_app(fake: FakeTelegram, db: DbTarget, **overrides: Any) -> BotApp:
    settings = make_settings(fake.url, db.url, db.schema, webhook_url=HOOK, webhook_secret=SECRET, **overrides)
    return await BotApp.create(settings)


@pytest.fixture
async def client(fake: FakeTelegram, db: DbTarget) -> AsyncIterator[tuple[TestClient[Any, Any], BotApp]]:
    app = await webhook_app(fake, db)
    web_app, webhook = create_web_app(app)
    async with TestClient(TestServer(web_app)) as http:
        yield http, app
    assert webhook is not None
    await webhook.close()
    await app.close()


@pytest.fixture
async def private(client: tuple[TestClient[Any, Any], BotApp]) -> AsyncIterator[TestClient[Any, Any]]:
    """The metrics server (METRICS_HOST:METRICS_PORT) of the same app: /healthz and /metrics."""
    async with TestClient(TestServer(create_metrics_app(client[1]))) as http:
        yield http


def start_update(fake: FakeTelegram, user_id: int = 700_001) -> dict[str, Any]:
    return {
        "update_id": fake.new_update_id(),
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Web"},
            "text": "/start",
        },
    }


async def test_webhook_rejects_wrong_secret_and_handles_the_right_one(
    client: tuple[TestClient[Any, Any], BotApp],
    private: TestClient[Any, Any],
    fake: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http, _app = client
    caplog.set_level(logging.WARNING, logger="bot.server")
    missing = await http.post("/telegram/hook", json=start_update(fake))
    wrong = await http.post(
        "/telegram/hook", json=start_update(fake), headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
    )
    assert (missing.status, wrong.status) == (401, 401)
    assert sum("webhook request rejected" in r.getMessage() for r in caplog.records) == 2
    assert fake.calls_to("sendMessage") == []  # nothing was handled

    right = await http.post(
        "/telegram/hook", json=start_update(fake), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert right.status == 200
    await fake.wait_until(lambda: bool(fake.calls_to("sendMessage")), what="the /start answer")
    assert fake.calls_to("sendMessage")[0].params["chat_id"] == 700_001

    metrics = await (await private.get("/metrics")).text()
    assert 'bot_updates_total{kind="message"} 1.0' in metrics
    assert "bot_sends_total" in metrics
    assert "bot_delivery_queue_depth" in metrics


async def test_healthz_ok(private: TestClient[Any, Any]) -> None:
    answer = await private.get("/healthz")
    assert answer.status == 200
    assert await answer.json() == {"status": "ok", "database": "ok", "redis": "off"}


async def test_healthz_503_when_the_database_is_down(
    client: tuple[TestClient[Any, Any], BotApp], private: TestClient[Any, Any]
) -> None:
    _http, app = client
    healthy_engine = app.ctx.engine
    app.ctx.engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")  # nothing listens there
    try:
        answer = await private.get("/healthz")
        body = await answer.json()
    finally:
        await app.ctx.engine.dispose()
        app.ctx.engine = healthy_engine
    assert answer.status == 503
    assert body["status"] == "down"
    assert body["database"].startswith("down")


async def test_healthz_checks_redis_when_configured(fake: FakeTelegram, db: DbTarget) -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: no Redis to check (CI sets it)")
    app = await webhook_app(fake, db, redis_url=url)
    try:
        async with TestClient(TestServer(create_metrics_app(app))) as http:
            assert (await (await http.get("/healthz")).json())["redis"] == "ok"
    finally:
        await app.close()


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"flood_rate": 1, "flood_burst": 5}


async def test_flood_control_slows_one_user_not_others(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    bob = await tg.user("Bob").signed_in()
    tg.clock.advance(seconds=60)  # sign-in used some of the burst: start full
    mark = alice.mark()
    for _ in range(9):
        await alice.send("/me")
    texts = alice.texts_since(mark)
    assert len(texts) == 6  # five answers, then one "slow down"; the rest dropped quietly
    assert texts[-1].startswith("🐢 Slow down")
    bob_mark = bob.mark()
    await bob.send("/me")
    assert len(bob.texts_since(bob_mark)) == 1  # others are not affected
    tg.clock.advance(seconds=10)
    mark = alice.mark()
    await alice.send("/me")
    notice, answer = alice.texts_since(mark)
    assert notice == (
        "✅ You can write again. 4 messages were not relayed while you were slowed down: send again what matters."
    )
    assert not answer.startswith("🐢")
    await alice.send("/me")
    assert not alice.last_text().startswith("✅ You can write again")  # told once


async def test_flood_control_counts_what_was_not_relayed_in_russian(tg: Harness) -> None:
    ivan = await tg.user("Иван", language_code="ru").signed_in()
    bob = await tg.user("Bob").signed_in()
    for person in (ivan, bob):
        await person.send("/join")
    tg.clock.advance(seconds=60)
    for n in range(5 + 21):
        await ivan.send(f"сообщение {n}")
    assert sum("сообщение" in text for text in bob.texts()) == 5
    assert any(text.startswith("🐢 Помедленнее") for text in ivan.texts())
    tg.clock.advance(seconds=10)
    await ivan.send("я снова здесь")
    assert any(
        "Пока действовало ограничение, не переслано 21 сообщение: отправьте заново то, что важно." in text
        for text in ivan.texts()[-2:]
    )
    assert bob.last_text().endswith("я снова здесь")


async def test_json_logs_carry_update_user_and_handler_but_no_phone(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    tg.clock.advance(seconds=60)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(make_formatter(json=True))
    logging.getLogger().addHandler(handler)

    def fail_me(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        return error(500, "Internal Server Error") if method == "sendMessage" else None

    tg.tg.hooks.append(fail_me)
    try:
        await alice.send("/me")  # the answer fails: the handler's error is logged
    finally:
        tg.tg.hooks.remove(fail_me)
        logging.getLogger().removeHandler(handler)
    records = [json.loads(line) for line in lines.getvalue().splitlines() if line.startswith("{")]
    failed = next(r for r in records if "handler failed" in r["event"])
    assert failed["user_id"] == alice.id
    assert isinstance(failed["update_id"], int)
    assert failed["handler"] == "handlers.signin.me"
    assert failed["level"] == "error"
    assert alice.phone is not None
    assert alice.phone.lstrip("+") not in lines.getvalue()


async def test_link_without_oauth_settings_says_so(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/link")
    assert "isn't set up" in alice.last_text()


async def test_polling_takes_no_more_updates_at_once_than_the_setting(fake: FakeTelegram, db: DbTarget) -> None:
    app = await BotApp.create(make_settings(fake.url, db.url, db.schema, updates_in_flight=7))
    seen: dict[str, Any] = {}

    async def start_polling(*bots: Any, **kwargs: Any) -> None:
        seen.update(kwargs)

    app.dp.start_polling = start_polling  # type: ignore[method-assign]
    try:
        await app.run_polling()
    finally:
        await app.close()
    assert seen["tasks_concurrency_limit"] == 7  # aiogram's bound on concurrently handled updates
