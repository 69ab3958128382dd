"""Moderation rules against a real database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.errors import (
    AlreadyBanned,
    AlreadyModerator,
    ButtonNotForYou,
    CannotModerate,
    CardOutdated,
    DeleteUnavailable,
    InvalidDuration,
    MessageAlreadyDeleted,
    NotAModerator,
    NotBanned,
    ReportAlreadyHandled,
    ReportDuplicate,
    ReportReasonUnknown,
    ReportSelf,
)
from services.moderation import ModerationService, RelayedMessage, format_duration, parse_duration
from storage.models import AuditEntry, Report, User

ADMIN_TG = 42
_tg_ids = itertools.count(500_000)


class DictLookup:
    def __init__(self) -> None:
        self.messages: dict[int, RelayedMessage] = {}
        self.copies: dict[tuple[int, int], int] = {}
        self.readers: dict[int, set[int]] = {}  # relay id -> users.id sent a copy

    async def find(self, relay_message_id: int) -> RelayedMessage | None:
        return self.messages.get(relay_message_id)

    async def reached(self, relay_message_id: int, user_id: int) -> bool:
        message = self.messages.get(relay_message_id)
        return message is not None and (
            message.author_id == user_id or user_id in self.readers.get(relay_message_id, set())
        )

    async def find_by_copy(self, chat_id: int, message_id: int) -> RelayedMessage | None:
        relay_id = self.copies.get((chat_id, message_id))
        return self.messages.get(relay_id) if relay_id is not None else None


class RecordingRemover:
    def __init__(self) -> None:
        self.deleted: set[int] = set()

    async def delete_everywhere(self, relay_message_id: int) -> bool:
        if relay_message_id in self.deleted:
            return False
        self.deleted.add(relay_message_id)
        return True


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


Run = Callable[..., Awaitable[Any]]


@pytest.fixture
async def run(sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock) -> Run:
    """`await run(lambda mod: mod.something(...))` in its own committed transaction, like one update."""
    lookup = DictLookup()
    remover = RecordingRemover()

    async def _run(action: Callable[[ModerationService], Awaitable[Any]], **options: Any) -> Any:
        async with sessionmaker() as session, session.begin():
            service = ModerationService(
                session,
                clock,
                admin_ids=frozenset({ADMIN_TG}),
                lookup=lookup,
                remover=options.pop("remover", remover),
                **options,
            )
            return await action(service)

    _run.lookup = lookup  # type: ignore[attr-defined]
    _run.remover = remover  # type: ignore[attr-defined]
    return _run


@pytest.fixture
async def make_user(sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock) -> Callable[..., Awaitable[User]]:
    async def _make(name: str, telegram_id: int | None = None) -> User:
        async with sessionmaker() as session, session.begin():
            user = User(
                telegram_id=telegram_id or next(_tg_ids),
                anon_name=name,
                phone=f"+7916{next(_tg_ids):07d}",
                signed_in_at=clock.now(),
                created_at=clock.now(),
            )
            session.add(user)
        return user

    return _make


async def audit_actions(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_three_reports_ban_then_lift(run: Run, make_user: Any, clock: FakeClock, sessionmaker: Any) -> None:
    target = await make_user("Target")
    reporters = [await make_user(f"R{i}") for i in range(3)]
    first = await run(lambda m: m.report(reporters[0], target, "spam"))
    assert first.warnings == 1
    assert first.ban is None
    assert first.notices[0].key == "moderation-warned-report"
    assert first.notices[0].telegram_id == target.telegram_id
    assert all(reporters[0].anon_name not in str(n.args) for n in first.notices)  # never who reported
    second = await run(lambda m: m.report(reporters[1], target, "abuse"))
    assert second.warnings == 2
    assert second.ban is None
    third = await run(lambda m: m.report(reporters[2], target, "other"))
    assert third.ban is not None
    assert third.warnings == 0
    assert third.ban.until == clock.now() + timedelta(hours=4)
    assert third.notices[0].key == "moderation-banned-auto"

    refusal = (await run(lambda m: m.bans_among([target.id])))[target.id]  # what the relay batch asks
    assert refusal.until == clock.now() + timedelta(hours=4)
    assert refusal.args_map["until"] == datetime(2026, 1, 1, 16, 0, tzinfo=UTC)

    clock.advance(hours=3, minutes=59)
    assert await run(lambda m: m.lift_expired_bans()) == []
    clock.advance(minutes=1)
    notices = await run(lambda m: m.lift_expired_bans())
    assert [(n.telegram_id, n.key) for n in notices] == [(target.telegram_id, "moderation-ban-over")]
    assert await run(lambda m: m.lift_expired_bans()) == []  # once only
    assert await run(lambda m: m.bans_among([target.id])) == {}
    assert await run(lambda m: m.is_banned(target)) is None
    assert await audit_actions(sessionmaker) == ["report", "report", "report", "ban", "ban_expired"]


async def test_duplicate_within_24h_and_self_report(run: Run, make_user: Any, clock: FakeClock) -> None:
    alice, bob = await make_user("Alice"), await make_user("Bob")
    with pytest.raises(ReportSelf):
        await run(lambda m: m.report(alice, alice, "spam"))
    await run(lambda m: m.report(alice, bob, "spam"))
    clock.advance(hours=23)
    with pytest.raises(ReportDuplicate) as caught:
        await run(lambda m: m.report(alice, bob, "abuse"))
    assert caught.value.args_map == {"hours": 1}
    await run(lambda m: m.report(bob, alice, "spam"))  # the other way round is another pair
    clock.advance(hours=1)
    again = await run(lambda m: m.report(alice, bob, "abuse"))
    assert again.warnings == 2
    with pytest.raises(ReportReasonUnknown):
        await run(lambda m: m.report(bob, alice, "boring"))


async def test_escalation_doubles_each_repeat_ban(run: Run, make_user: Any, clock: FakeClock) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    target = await make_user("Target")
    durations = []
    for _ in range(3):
        outcome = await run(lambda m: m.ban(admin, target, None, "spam"), ban_escalation=True)
        durations.append(outcome.ban.until - clock.now())
        await run(lambda m: m.unban(admin, target), ban_escalation=True)
    assert durations == [timedelta(hours=4), timedelta(hours=8), timedelta(hours=16)]
    without = await run(lambda m: m.ban(admin, target, None, None))
    assert without.ban.until - clock.now() == timedelta(hours=4)


async def test_manual_ban_unban_warn_rules(run: Run, make_user: Any, clock: FakeClock, sessionmaker: Any) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    mod = await make_user("Mod")
    target = await make_user("Target")
    with pytest.raises(CannotModerate):
        await run(lambda m: m.ban(mod, admin, None, None))  # admins are never banned
    with pytest.raises(CannotModerate):
        await run(lambda m: m.warn(mod, mod, None))  # nor oneself
    with pytest.raises(NotBanned):
        await run(lambda m: m.unban(admin, target))
    banned = await run(lambda m: m.ban(admin, target, timedelta(minutes=30), "flood"))
    assert banned.notices[0].args == {"until": datetime(2026, 1, 1, 12, 30, tzinfo=UTC), "reason": "flood"}
    with pytest.raises(AlreadyBanned):
        await run(lambda m: m.ban(admin, target, None, None))
    await run(lambda m: m.unban(admin, target, "mistake"))
    assert await run(lambda m: m.is_banned(target)) is None
    # Warnings by a moderator count like reports.
    assert (await run(lambda m: m.warn(admin, target, "rude"))).warnings == 1
    assert (await run(lambda m: m.warn(admin, target, "rude"))).warnings == 2
    third = await run(lambda m: m.warn(admin, target, "rude"))
    assert third.ban is not None
    assert third.notices[0].key == "moderation-banned-auto"
    clock.advance(hours=5)
    await run(lambda m: m.lift_expired_bans())
    assert (await run(lambda m: m.warn(admin, target, None))).warnings == 1  # the count started again
    actions = await audit_actions(sessionmaker)
    assert actions == ["ban", "unban", "warn", "warn", "warn", "ban", "ban_expired", "warn"]


async def test_handle_report_once(run: Run, make_user: Any, sessionmaker: Any) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    target, r1, r2 = await make_user("Target"), await make_user("R1"), await make_user("R2")
    report = (await run(lambda m: m.report(r1, target, "spam"))).report
    dismissed = await run(lambda m: m.handle_report(admin, report.id, "dismiss"))
    assert dismissed.warnings == 0  # the report's warning is withdrawn
    with pytest.raises(ReportAlreadyHandled) as caught:
        await run(lambda m: m.handle_report(admin, report.id, "ban"))
    assert caught.value.args_map == {"status": "dismissed", "by": "Admin"}
    assert await run(lambda m: m.is_banned(target)) is None

    second = (await run(lambda m: m.report(r2, target, "abuse"))).report
    banned = await run(lambda m: m.handle_report(admin, second.id, "ban"))
    assert banned.ban is not None
    assert banned.report.status == "confirmed"
    with pytest.raises(ReportAlreadyHandled):
        await run(lambda m: m.handle_report(admin, second.id, "warn"))
    async with sessionmaker() as session:
        stored = await session.get(Report, second.id)
        assert stored is not None
        assert stored.handled_by == admin.id
    assert await audit_actions(sessionmaker) == ["report", "dismiss", "report", "ban"]


async def test_report_message_evidence_and_delete(run: Run, make_user: Any, sessionmaker: Any) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    author, reader = await make_user("Author"), await make_user("Reader")
    outsider = await make_user("Outsider")
    run.lookup.messages[7] = RelayedMessage(7, author.id, author.telegram_id, 3, "buy cheap " * 40)  # type: ignore[attr-defined]
    run.lookup.readers[7] = {reader.id}  # type: ignore[attr-defined]
    with pytest.raises(ButtonNotForYou):
        await run(lambda m: m.report_message(reader, 8, "spam"))
    with pytest.raises(ButtonNotForYou):  # a message they were never sent: refused, nothing written
        await run(lambda m: m.report_message(outsider, 7, "spam"))
    assert await audit_actions(sessionmaker) == []
    outcome = await run(lambda m: m.report_message(reader, 7, "spam"))
    report = outcome.report
    assert (report.target_id, report.relay_message_id, report.origin_message_id) == (author.id, 7, 3)
    assert report.excerpt is not None
    assert len(report.excerpt) == 200
    await run(lambda m: m.delete_reported_message(admin, report.id))
    assert run.remover.deleted == {7}  # type: ignore[attr-defined]
    with pytest.raises(MessageAlreadyDeleted):
        await run(lambda m: m.delete_reported_message(admin, report.id))
    with pytest.raises(DeleteUnavailable):  # the default until the relay binds its remover
        await run(lambda m: m.delete_reported_message(admin, report.id), remover=None)
    assert (await audit_actions(sessionmaker))[-1] == "delete_message"


async def test_moderators_cards_stats_pages(run: Run, make_user: Any, clock: FakeClock) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    mod, target = await make_user("Mod"), await make_user("Target")
    assert not await run(lambda m: m.is_moderator(mod))
    assert await run(lambda m: m.is_moderator(admin))
    await run(lambda m: m.grant_moderator(admin, mod))
    assert await run(lambda m: m.is_moderator(mod))
    with pytest.raises(AlreadyModerator):
        await run(lambda m: m.grant_moderator(admin, mod))
    with pytest.raises(AlreadyModerator):
        await run(lambda m: m.grant_moderator(admin, admin))
    assert [u.id for u in await run(lambda m: m.staff())] == [mod.id]
    await run(lambda m: m.revoke_moderator(admin, mod))
    with pytest.raises(NotAModerator):
        await run(lambda m: m.revoke_moderator(admin, mod))

    for i in range(12):
        reporter = await make_user(f"R{i}")
        await run(lambda m, r=reporter: m.report(r, target, "spam"), warnings_to_ban=100)
    page = await run(lambda m: m.complaints_page(0), page_size=5)
    assert (page.total, page.pages, len(page.entries)) == (12, 3, 5)
    assert page.entries[0].reporter is not None
    assert page.entries[0].reporter.anon_name == "R11"
    last = await run(lambda m: m.complaints_page(99), page_size=5)
    assert (last.page, len(last.entries)) == (2, 2)

    card = await run(lambda m: m.user_card(target), warnings_to_ban=100)
    assert (card.warnings, card.reports_against, card.ban, card.is_moderator) == (12, 12, None, False)
    await run(lambda m: m.warn_from_card(admin, target, 12), warnings_to_ban=100)
    with pytest.raises(CardOutdated):  # the same card pressed again
        await run(lambda m: m.warn_from_card(admin, target, 12), warnings_to_ban=100)

    stats = await run(lambda m: m.stats())
    assert (stats.open_reports, stats.reports_24h, stats.warnings_24h, stats.banned_now) == (12, 12, 13, 0)
    audit = await run(lambda m: m.audit_page(0), page_size=4)
    assert audit.total == 15
    assert audit.pages == 4
    assert audit.entries[0].entry.action == "warn"
    assert audit.entries[0].actor is not None
    assert audit.entries[0].target is not None
    assert audit.entries[0].target.anon_name == "Target"


def test_durations() -> None:
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("4H") == timedelta(hours=4)
    assert parse_duration("2d") == timedelta(days=2)
    assert format_duration(timedelta(days=1, hours=6)) == "1d 6h"
    for bad in ("0h", "4x", "h", "-1h", "99999w"):
        with pytest.raises(InvalidDuration):
            parse_duration(bad)


def test_durations_in_russian_and_long_english() -> None:
    assert parse_duration("2ч") == timedelta(hours=2)
    assert parse_duration("10 мин") == timedelta(minutes=10)
    assert parse_duration("4 часа") == timedelta(hours=4)
    assert parse_duration("1 неделя") == timedelta(weeks=1)
    assert parse_duration("2 дня") == timedelta(days=2)
    assert parse_duration("3 days") == timedelta(days=3)
    assert parse_duration("90 сек") == timedelta(seconds=90)
    for bad in ("4 попугая", "ч", "0 мин"):
        with pytest.raises(InvalidDuration):
            parse_duration(bad)
