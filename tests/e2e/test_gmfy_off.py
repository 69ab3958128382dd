"""With no GMFY_API_KEY the feature is off, says so plainly, and the bot works."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import GmfyEvent
from tests.e2e.harness import Harness


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"gmfy_api_key": None}


async def test_gmfy_off(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    for command in ("/profile", "/top", "/challenge"):
        await alice.send(command)
        assert "Gamification is not enabled" in alice.last_text(), command
    await tg.run_jobs()
    assert not any(name.startswith("gmfy") for name in tg.app.scheduler.jobs)
    async with tg.app.ctx.sessionmaker() as session:
        assert await session.scalar(select(func.count(GmfyEvent.id))) == 0
    admin = await tg.admin().signed_in()
    await admin.send("/gmfy")
    assert "not enabled" in admin.last_text()
    await alice.send("/invite")
    assert "invite code" in alice.last_text()
