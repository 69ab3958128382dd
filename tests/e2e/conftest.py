from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from bot.server import create_web_app
from tests.conftest import DbTarget
from tests.e2e.harness import Harness, start_harness, stop_harness


@pytest.fixture
def bot_settings() -> dict[str, object]:
    """Override in a test module (or parametrize) to change settings for that module's bot."""
    return {}


@pytest.fixture(autouse=True)
def _no_broken_texts(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A text rendered with a missing argument is a bug even when the user still gets an answer."""
    yield
    broken = [r.getMessage() for r in caplog.records if r.name == "bot.i18n" and r.levelname == "ERROR"]
    assert not broken, broken


@pytest.fixture
async def tg(db: DbTarget, bot_settings: dict[str, object]) -> AsyncIterator[Harness]:
    harness = await start_harness(db.url, db.schema, **bot_settings)
    try:
        yield harness
    finally:
        await stop_harness(harness)


@pytest.fixture
async def live(db: DbTarget) -> AsyncIterator[Harness]:
    """The background worker on (as in production) and updates handled concurrently. The bot spaces
    its sends at 25/s under the fake's 30/s: the fake runs in the test's own event loop, and on a
    loaded machine its clock sees sends that left evenly arrive bunched."""
    harness = await start_harness(
        db.url, db.schema, delivery_worker=True, handle_as_tasks=True, pace_answers=True, delivery_rate=25
    )
    try:
        yield harness
    finally:
        await stop_harness(harness)


@pytest.fixture
async def web(tg: Harness) -> AsyncIterator[TestClient[Any, Any]]:
    """The bot's public web server (OAuth pages, the panel) for a test client. No shared cookie jar:
    each test's browser keeps its own cookies, as two people's browsers do."""
    app, _ = create_web_app(tg.app)
    async with TestClient(TestServer(app), cookie_jar=DummyCookieJar()) as client:
        yield client
