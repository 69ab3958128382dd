"""Handlers get `services` (services/container.py), each service built the first time a handler asks
for it: an update builds what it uses, not the thirteen services of the old eager dict."""

from __future__ import annotations

from typing import Any

import pytest

from bot.context import AppServices
from tests.e2e.harness import Harness


@pytest.fixture
def containers(monkeypatch: pytest.MonkeyPatch) -> list[AppServices]:
    """Every update's container (and the panel's), from now on."""
    created: list[AppServices] = []
    original = AppServices.__init__

    def init(self: AppServices, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        created.append(self)

    monkeypatch.setattr(AppServices, "__init__", init)
    return created


def built(services: AppServices) -> set[str]:
    return set(vars(services)) - {"ctx", "session"}  # a cached_property lives in the instance once built


async def test_an_update_builds_only_the_services_it_uses(tg: Harness, containers: list[AppServices]) -> None:
    alice = await tg.user("Alice").signed_in()
    containers.clear()
    await alice.send("/rooms")
    assert "in no rooms" in alice.last_text()
    [update] = containers
    # Sign-in's (it loads the sender; with the invites and events it uses), and the rooms service.
    assert built(update) == {"signin", "invites", "events", "rooms"}
    containers.clear()
    await alice.send("hello, everyone")  # a member's message: handed to the relay batch
    assert built(containers[0]) == {"signin", "invites", "events"}


async def test_a_service_is_built_once_per_update(tg: Harness) -> None:
    async with tg.app.ctx.sessionmaker() as session:
        services = tg.app.ctx.services(session)
        assert services.rooms is services.rooms
        assert services.users.lookup is services.moderation.lookup
        assert services.panel_auth.moderation is services.moderation
        assert tg.app.ctx.services(session).rooms is not services.rooms  # per update, never shared
