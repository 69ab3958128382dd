"""The staff panel's rules (services/panel.py) on real databases: login links, sessions, and every
action through the services the bot's commands use; a moderator's try at an admin's action is refused
before anything changes."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.context import AppContext
from bot.i18n import Translator
from bot.settings import Settings
from services.broadcast import Audience
from services.clock import FakeClock
from services.errors import (
    AlreadyBanned,
    BroadcastHtmlInvalid,
    CardOutdated,
    LimitValueInvalid,
    NothingToDelete,
    PanelForbidden,
    PanelLinkInvalid,
    PanelSignedOut,
    PanelStaffOnly,
)
from services.panel import AuditFilter, PanelAuth, PanelService, Staff
from services.telegram_html import html_problem, telegram_preview
from storage.models import (
    AuditEntry,
    Ban,
    Broadcast,
    Member,
    Moderator,
    Outgoing,
    RelayMessage,
    Report,
    Room,
    RoomMember,
    RuntimeSetting,
    User,
    WarningEntry,
)
from storage.repositories.panel import AuditQueries
from tests.conftest import DbTarget

ADMIN_TG = 42
TOKEN = "123456:" + "A" * 35
_ids = itertools.count(700_000)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def ctx(sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock) -> AppContext:
    settings = Settings(_env_file=None, bot_token=TOKEN, admin_ids=[ADMIN_TG])  # type: ignore[call-arg]
    return AppContext(
        settings=settings,
        clock=clock,
        engine=sessionmaker.kw["bind"],
        sessionmaker=sessionmaker,
        translator=Translator(),
        sms=None,
    )


Run = Callable[..., Awaitable[Any]]


@pytest.fixture
def run(ctx: AppContext) -> Run:
    """`await run(lambda session: ...)` in a committed transaction of its own, like one request."""

    async def _run(action: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async with ctx.sessionmaker() as session, session.begin():
            return await action(session)

    return _run


@pytest.fixture
def make_user(run: Run, clock: FakeClock) -> Callable[..., Awaitable[User]]:
    async def _make(name: str, telegram_id: int | None = None, *, moderator: bool = False) -> User:
        async def add(session: AsyncSession) -> User:
            n = next(_ids)
            user = User(
                telegram_id=telegram_id or n,
                anon_name=name,
                phone=f"+7916{n:07d}",
                signed_in_at=clock.now(),
                created_at=clock.now(),
            )
            session.add(user)
            await session.flush()
            if moderator:
                session.add(Moderator(user_id=user.id, granted_at=clock.now()))
            return user

        return await run(add)

    return _make


async def staff_of(ctx: AppContext, session: AsyncSession, user: User) -> Staff:
    """Sign `user` in through a fresh link, as the panel does."""
    auth = ctx.panel_auth(session)
    return (await auth.sign_in(await auth.issue_link(user))).staff


async def exported(chunks: AsyncIterator[list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    return [row async for chunk in chunks for row in chunk]


async def counts(run: Run) -> tuple[int, ...]:
    async def read(session: AsyncSession) -> tuple[int, ...]:
        models = (Ban, WarningEntry, Moderator, Broadcast, Outgoing, RuntimeSetting, AuditEntry)
        values = [await session.scalar(select(func.count()).select_from(m)) or 0 for m in models]
        values.append(
            await session.scalar(select(func.count()).select_from(Report).where(Report.status == "open")) or 0
        )
        return tuple(values)

    return await run(read)


async def test_a_link_works_once_for_five_minutes_and_only_for_staff(
    ctx: AppContext, run: Run, make_user: Any, clock: FakeClock
) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    member = await make_user("Member")
    with pytest.raises(PanelStaffOnly):
        await run(lambda s: ctx.panel_auth(s).issue_link(member))
    token = await run(lambda s: ctx.panel_auth(s).issue_link(admin))
    signed = await run(lambda s: ctx.panel_auth(s).sign_in(token))
    assert signed.staff.is_admin
    assert len(signed.cookie_token) >= 40
    with pytest.raises(PanelLinkInvalid):  # replayed
        await run(lambda s: ctx.panel_auth(s).sign_in(token))
    _, secret, signature = token.split(".")
    fresh = await run(lambda s: ctx.panel_auth(s).issue_link(admin))
    f_id, f_secret, f_signature = fresh.split(".")
    flipped = "B" if f_signature[0] == "A" else "A"  # always a different signature
    for forged in (
        f"{f_id}.{f_secret}.{signature}",  # another link's signature
        f"{f_id}.{secret}.{f_signature}",  # another link's secret
        f"{f_id}.{f_secret}.{flipped}{f_signature[1:]}",
        f"{f_id}.{f_secret}",
        "",
    ):
        with pytest.raises(PanelLinkInvalid):
            await run(lambda s, forged=forged: ctx.panel_auth(s).sign_in(forged))
    # A link made with another server's key (a copied database, a guessed key) is refused.
    foreign = await run(lambda s: PanelAuth(s, clock, ctx.moderation(s), key=b"k" * 32).issue_link(admin))
    with pytest.raises(PanelLinkInvalid):
        await run(lambda s: ctx.panel_auth(s).sign_in(foreign))
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(PanelLinkInvalid):  # expired (and never used: the forgeries did not spend it)
        await run(lambda s: ctx.panel_auth(s).sign_in(fresh))


async def test_a_link_is_void_once_its_owner_is_no_longer_staff(ctx: AppContext, run: Run, make_user: Any) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    mod = await make_user("Mod", moderator=True)
    token = await run(lambda s: ctx.panel_auth(s).issue_link(mod))
    await run(lambda s: ctx.moderation(s).revoke_moderator(admin, mod))
    with pytest.raises(PanelLinkInvalid):
        await run(lambda s: ctx.panel_auth(s).sign_in(token))


async def test_sessions_end_with_logout_ban_unmod_and_time(
    ctx: AppContext, run: Run, make_user: Any, clock: FakeClock
) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    mod = await make_user("Mod", moderator=True)

    async def session_of(user: User) -> str:
        auth_token = await run(lambda s: ctx.panel_auth(s).issue_link(user))
        return str((await run(lambda s: ctx.panel_auth(s).sign_in(auth_token))).cookie_token)

    async def staff(cookie: str) -> Staff:
        return await run(lambda s: ctx.panel_auth(s).staff_for(cookie))  # type: ignore[no-any-return]

    cookie = await session_of(mod)
    seen = await staff(cookie)
    assert not seen.is_admin
    with pytest.raises(PanelForbidden):
        PanelAuth.check_csrf(seen, None)
    PanelAuth.check_csrf(seen, seen.csrf_token)
    with pytest.raises(PanelForbidden):
        PanelAuth.check_csrf(seen, seen.csrf_token[:-1])

    await run(lambda s: ctx.moderation(s).ban(admin, mod, timedelta(hours=1), None))
    with pytest.raises(PanelSignedOut):
        await staff(cookie)
    await run(lambda s: ctx.moderation(s).unban(admin, mod))
    with pytest.raises(PanelSignedOut):  # lifting the ban does not bring the old session back
        await staff(cookie)

    cookie = await session_of(mod)
    await run(lambda s: ctx.moderation(s).revoke_moderator(admin, mod))
    with pytest.raises(PanelSignedOut):
        await staff(cookie)

    first, second = await session_of(admin), await session_of(admin)
    assert await run(lambda s: ctx.panel_auth(s).sign_out(admin)) == 2
    for ended in (first, second):
        with pytest.raises(PanelSignedOut):
            await staff(ended)

    cookie = await session_of(admin)
    clock.advance(hours=11, minutes=59)
    await staff(cookie)
    clock.advance(minutes=1)
    with pytest.raises(PanelSignedOut):
        await staff(cookie)
    for garbage in ("", "x" * 500, "not-a-token"):
        with pytest.raises(PanelSignedOut):
            await staff(garbage)


async def test_a_moderator_gets_403_for_admin_actions_and_nothing_changes(
    ctx: AppContext, run: Run, make_user: Any
) -> None:
    await make_user("Admin", ADMIN_TG)
    mod = await make_user("Mod", moderator=True)
    bob = await make_user("Bob")
    before = await counts(run)

    async def as_mod(action: Callable[[PanelService, Staff], Awaitable[Any]]) -> None:
        async with ctx.sessionmaker() as session, session.begin():
            staff = await ctx.panel_auth(session).staff_for(cookie)
            await action(ctx.panel(session), staff)

    token = await run(lambda s: ctx.panel_auth(s).issue_link(mod))
    cookie = (await run(lambda s: ctx.panel_auth(s).sign_in(token))).cookie_token
    before = await counts(run)
    refused: list[Callable[[PanelService, Staff], Awaitable[Any]]] = [
        lambda p, st: p.member_action(st, bob.id, "mod"),
        lambda p, st: p.member_action(st, mod.id, "unmod"),
        lambda p, st: p.set_limits(st, 1, timedelta(minutes=5)),
        lambda p, st: p.send_broadcast(st, "hello", "all"),
        lambda p, st: p.audience_size(st, "all"),
        lambda p, st: p.audiences(st),
        lambda p, st: p.recent_broadcasts(st),
        lambda p, st: p.broadcast_progress(st, 1),
        lambda p, st: p.cancel_broadcast(st, 1),
        lambda p, st: p.member_action(st, bob.id, "delete-everything"),
        lambda p, st: p.act_on_report(st, 1, "explode"),
    ]
    for action in refused:
        with pytest.raises(PanelForbidden):
            await as_mod(action)
    assert await counts(run) == before


async def test_report_actions_through_moderation(ctx: AppContext, run: Run, make_user: Any, clock: FakeClock) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    mod = await make_user("Mod", moderator=True)
    bob, alice, carol, dave = [await make_user(n) for n in ("Bob", "Alice", "Carol", "Dave")]
    reports = [await run(lambda s, r=r: ctx.moderation(s).report(r, bob, "spam")) for r in (alice, carol, dave)]
    # The third report banned Bob automatically; lift it so the panel's own ban shows.
    await run(lambda s: ctx.moderation(s).unban(admin, bob))

    async def act(report_id: int, action: str, duration: timedelta | None = None) -> Any:
        async def go(session: AsyncSession) -> Any:
            staff = await staff_of(ctx, session, mod)
            panel = ctx.panel(session)
            listed = await panel.complaints(staff, 0)
            if action != "delete":  # deleting works on handled complaints too
                assert report_id in {item.line.report.id for item in listed.items}
            open_reports = len(listed.items)
            assert all(item.reporters == open_reports for item in listed.items)  # distinct members, each open
            return await panel.act_on_report(staff, report_id, action, duration)

        return await run(go)

    done = await act(reports[0].report.id, "ban", timedelta(days=2))
    assert done.notices[0].key == "moderation-banned"
    ban = await run(lambda s: ctx.moderation(s).is_banned(bob))
    assert ban.until - ban.created_at == timedelta(days=2)
    with pytest.raises(AlreadyBanned):
        await act(reports[1].report.id, "ban")
    done = await act(reports[1].report.id, "warn")
    assert done.notices[0].key in {"moderation-warned", "moderation-banned-auto"}
    done = await act(reports[2].report.id, "dismiss")
    assert done.notices == []
    with pytest.raises(NothingToDelete):  # a report about a member, not a message
        await act(reports[2].report.id, "delete")
    actions = await run(lambda s: s.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == mod.id)))
    assert {"ban", "warn", "dismiss", "panel_login"} <= set(actions)


async def test_member_actions_search_and_phones(ctx: AppContext, run: Run, make_user: Any) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    mod = await make_user("Mod", moderator=True)
    bob = await make_user("Bobby Tables")
    assert bob.phone is not None

    async def as_(user: User, action: Callable[[PanelService, Staff], Awaitable[Any]]) -> Any:
        async def go(session: AsyncSession) -> Any:
            return await action(ctx.panel(session), await staff_of(ctx, session, user))

        return await run(go)

    assert [u.id for u in await as_(mod, lambda p, st: p.search(st, "Bobby"))] == [bob.id]
    assert [u.id for u in await as_(mod, lambda p, st: p.search(st, f"#{bob.id}"))] == [bob.id]
    assert await as_(mod, lambda p, st: p.search(st, bob.phone)) == []  # phones find nobody for moderators
    assert [u.id for u in await as_(admin, lambda p, st: p.search(st, bob.phone))] == [bob.id]
    page = await as_(mod, lambda p, st: p.member(st, bob.id))
    assert page.card.phone != bob.phone
    assert bob.phone[-2:] in page.card.phone
    assert (await as_(admin, lambda p, st: p.member(st, bob.id))).card.phone == bob.phone

    await as_(mod, lambda p, st: p.member_action(st, bob.id, "warn", seen_warnings=0))
    with pytest.raises(CardOutdated):  # the page was drawn before that warning
        await as_(mod, lambda p, st: p.member_action(st, bob.id, "warn", seen_warnings=0))
    await as_(mod, lambda p, st: p.member_action(st, bob.id, "ban", duration=timedelta(hours=3), reason="spam"))
    await as_(mod, lambda p, st: p.member_action(st, bob.id, "unban"))
    done = await as_(admin, lambda p, st: p.member_action(st, bob.id, "mod"))
    assert done.role_change is True
    done = await as_(admin, lambda p, st: p.member_action(st, bob.id, "unmod"))
    assert done.role_change is False

    view = await as_(mod, lambda p, st: p.audit(st, AuditFilter(target_id=bob.id), 0))
    assert [line.entry.action for line in view.lines][:5] == ["unmod", "mod", "unban", "ban", "warn"]
    only_bans = await as_(mod, lambda p, st: p.audit(st, AuditFilter(action="ban"), 0))
    assert {line.entry.action for line in only_bans.lines} == {"ban"}
    by_admin = await as_(mod, lambda p, st: p.audit(st, AuditFilter(actor_id=admin.id), 0))
    assert {line.entry.actor_id for line in by_admin.lines} == {admin.id}
    rows = await as_(mod, lambda p, st: exported(p.audit_export(st, AuditFilter(target_id=bob.id))))
    assert len(rows) == view.total
    # A chunk at a time, each going on below the last id: the same rows, in the same order, none twice.
    everything = await run(lambda s: exported(AuditQueries(s).export(None, None, None, 1000)))
    for chunk in (1, 2, 3):
        assert await run(lambda s, n=chunk: exported(AuditQueries(s).export(None, None, None, 1000, n))) == everything
    assert [r[0] for r in everything] == sorted((r[0] for r in everything), reverse=True)
    assert await run(lambda s: exported(AuditQueries(s).export(None, None, None, 3, 2))) == everything[:3]


async def test_limits_and_broadcast_audiences(ctx: AppContext, run: Run, make_user: Any, clock: FakeClock) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    members = [await make_user(f"M{i}") for i in range(4)]

    async def setup(session: AsyncSession) -> int:
        for user in members[:2]:
            session.add(Member(user_id=user.id, in_common=True))
        room = Room(title="Chess", owner_id=members[3].id, token="t" * 20, created_at=clock.now())
        session.add(room)
        await session.flush()
        session.add(RoomMember(room_id=room.id, user_id=members[3].id, status="member", requested_at=clock.now()))
        session.add(RoomMember(room_id=room.id, user_id=members[2].id, status="pending", requested_at=clock.now()))
        return room.id

    room_id = await run(setup)

    async def as_admin(action: Callable[[PanelService, Staff], Awaitable[Any]]) -> Any:
        async def go(session: AsyncSession) -> Any:
            return await action(ctx.panel(session), await staff_of(ctx, session, admin))

        return await run(go)

    limits = await as_admin(lambda p, st: p.set_limits(st, 7, timedelta(minutes=30)))
    assert (limits.per_period, limits.period) == (7, timedelta(minutes=30))
    with pytest.raises(LimitValueInvalid):
        await as_admin(lambda p, st: p.set_limits(st, 0, timedelta(minutes=30)))
    assert await as_admin(lambda p, st: p.audience_size(st, "all")) == 4
    assert await as_admin(lambda p, st: p.audience_size(st, "common")) == 2
    assert await as_admin(lambda p, st: p.audience_size(st, f"room:{room_id}")) == 1
    assert ("room:" + str(room_id), "Chess") in await as_admin(lambda p, st: p.audiences(st))
    owner_page = await as_admin(lambda p, st: p.member(st, members[3].id))
    assert [room.title for room in owner_page.rooms] == ["Chess"]
    assert (await as_admin(lambda p, st: p.member(st, members[2].id))).rooms == []  # asked to join only
    assert (await as_admin(lambda p, st: p.member(st, members[0].id))).in_common
    with pytest.raises(PanelForbidden):
        await as_admin(lambda p, st: p.audience_size(st, "room:x"))

    started = await as_admin(lambda p, st: p.send_broadcast(st, "<b>Hi</b>", "common"))
    assert started.total == 2
    progress = await as_admin(lambda p, st: p.broadcast_progress(st, started.id))
    assert (progress.total, progress.pending) == (2, 2)
    dropped = await as_admin(lambda p, st: p.cancel_broadcast(st, started.id))
    assert dropped == 2
    progress = await as_admin(lambda p, st: p.broadcast_progress(st, started.id))
    assert (progress.cancelled, progress.pending, progress.broadcast.status) == (2, 0, "cancelled")
    actions = await run(lambda s: s.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == admin.id)))
    assert {"setlimit", "broadcast", "broadcast_cancel"} <= set(actions)
    assert Audience("room", room_id).label == f"room:{room_id}"


async def test_overview_counts_by_hour_and_day(ctx: AppContext, run: Run, make_user: Any, clock: FakeClock) -> None:
    clock.set(datetime(2026, 12, 1, 12, 30, tzinfo=UTC))
    admin = await make_user("Admin", ADMIN_TG)
    bob = await make_user("Bob")
    now = clock.now()

    async def messages(session: AsyncSession) -> None:
        for n, age in enumerate((timedelta(minutes=1), timedelta(hours=2), timedelta(hours=2), timedelta(days=8))):
            session.add(
                RelayMessage(author_id=bob.id, chat="common", kind="text", origin_chat_id=1, origin_message_id=n,
                             created_at=now - age)
            )  # fmt: skip

    await run(messages)
    await run(lambda s: ctx.moderation(s).report(admin, bob, "spam"))

    async def overview(session: AsyncSession) -> Any:
        return await ctx.panel(session).overview(
            await staff_of(ctx, session, admin), queue_depth=0, oldest_waiting_seconds=0.0
        )

    seen = await run(overview)
    hours = seen.messages_per_hour
    assert len(hours.values) == 168
    assert hours.labels[-1] == now.strftime("%Y-%m-%d %H")
    assert hours.total == 3  # the one 8 days old is outside the week
    assert (hours.values[-1], hours.values[-2], hours.values[-3]) == (1, 0, 2)  # 12:29, and two at 10:30
    assert len(seen.signups_per_day.values) == 30
    assert seen.signups_per_day.values[-1] == 2  # Admin and Bob signed in today
    assert seen.reports_per_day.values[-1] == 1
    assert seen.members == 2
    assert seen.open_reports == 1


async def test_broadcast_text_telegram_would_refuse_is_not_sent(ctx: AppContext, run: Run, make_user: Any) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    await make_user("Bob")
    before = await counts(run)
    for text in ("<div>hi</div>", "<b>hi</i>", "<b>open", "<script>x</script>"):

        async def send(session: AsyncSession, text: str = text) -> Any:
            return await ctx.panel(session).send_broadcast(await staff_of(ctx, session, admin), text, "all")

        with pytest.raises(BroadcastHtmlInvalid):
            await run(send)
    after = await counts(run)
    assert after[:6] == before[:6]  # no broadcast, nothing queued (the audit log has the sign-ins)
    assert html_problem('<b>bold</b> <a href="https://x.y">link</a> <tg-spoiler>s</tg-spoiler>') is None
    shown = telegram_preview('<a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)><i>ok</i>')
    assert "javascript" not in shown
    assert "<img" not in shown
    assert "<i>ok</i>" in shown


async def test_old_links_and_sessions_are_purged(ctx: AppContext, run: Run, make_user: Any, clock: FakeClock) -> None:
    admin = await make_user("Admin", ADMIN_TG)
    token = await run(lambda s: ctx.panel_auth(s).issue_link(admin))
    await run(lambda s: ctx.panel_auth(s).sign_in(token))
    await run(lambda s: ctx.panel_auth(s).issue_link(admin))  # never used
    assert await run(lambda s: ctx.panel_auth(s).purge()) == 0  # all still recent
    clock.advance(days=7, hours=13)
    live = await run(lambda s: ctx.panel_auth(s).issue_link(admin))
    assert await run(lambda s: ctx.panel_auth(s).purge()) == 3  # two links, one session
    await run(lambda s: ctx.panel_auth(s).sign_in(live))  # today's link still works


async def test_live_sends_and_the_export_read_by_index(db: DbTarget, ctx: AppContext) -> None:
    """Sends of the last seconds are a range on ix_outgoing_sent_at (not a scan of the whole queue), an
    export's next chunk a range below the last id on the actor's index (never an OFFSET)."""
    if db.kind != "sqlite":
        pytest.skip("query plans are checked on SQLite")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    sends = select(func.count()).select_from(Outgoing).where(Outgoing.sent_at >= now)
    chunk = AuditQueries(None)._export_query(  # type: ignore[arg-type]
        [AuditEntry.actor_id == 3, AuditEntry.id < 1000]
    )
    async with ctx.sessionmaker() as session:
        connection = await session.connection()
        for statement, index in ((sends, "ix_outgoing_sent_at"), (chunk, "ix_audit_log_actor_id")):
            compiled = statement.compile(connection.engine, compile_kwargs={"literal_binds": True})
            plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            details = " ".join(str(row[3]) for row in plan.all())
            assert index in details, details
            assert "SCAN" not in details.replace("SCAN CONSTANT ROW", ""), details
