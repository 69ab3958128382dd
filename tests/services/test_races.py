"""Rows made on first use, and checks-then-writes, done by two transactions at once: two instances
handling updates of two people (two staff members, two reporters, two browser tabs) or Telegram's
retry of one update. Both transactions read first, then both write, then commit in turn
(`twice_at_once`); neither fails with an unexpected error and nothing is duplicated. PostgreSQL is
where this matters (SQLite lets one writer at a time in, and one process use the file).

Paths made race-proof earlier are in test_insert_races.py (the /join member row, room requests and
switches, blocks, /mod, runtime settings) and test_concurrent_writes.py (first contact). Here:
- fixed: two bans of one member at once (one ban), two reports reaching the warning threshold at
  once (one automatic ban), a user card's Warn pressed twice at once (one warning), a /link finished
  twice at once (one link row, no key error), one GMFY event recorded twice at once (one row), one
  phone's contact shared by two accounts at once (one binds it, the other takes that account over;
  with a phone proven by a code or OAuth, the winner is asked instead, also when its binding commits
  between the proven path's two reads), a room join request decided twice at once (one decision,
  the other told it was handled: the request is read FOR UPDATE);
- already safe, shown: invite redemption (savepoint, the loser gets AlreadyRedeemed), invite issue
  (savepoint, the loser returns the winner's code), relay limit windows (INSERT .. ON CONFLICT DO
  UPDATE), FSM state rows (ON CONFLICT DO UPDATE), job leases (savepoint), webhook update claims
  (ON CONFLICT DO NOTHING), sign-in quotas (ON CONFLICT DO UPDATE .. WHERE under the cap), GMFY
  notifications (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.seen_updates import Claim, DatabaseSeenUpdates
from services.clock import FakeClock
from services.errors import AlreadyBanned, AlreadyRedeemed, CardOutdated, RoomRequestHandled
from services.events import EventRecorder, EventTypes
from services.moderation import ModerationService
from services.oauth import OAuthConfig, OAuthService, TokenKeys, Tokens
from services.rooms import RoomService
from services.signin import TakeoverRequested, TelegramProfile
from storage.models import (
    Ban,
    FsmState,
    GmfyEvent,
    GmfyNotification,
    InviteCode,
    JobLease,
    LimitWindow,
    OAuthLink,
    Referral,
    SignInQuota,
    User,
    WarningEntry,
)
from storage.repositories.fsm import FsmRepo
from storage.repositories.gmfy import NotificationRepo
from storage.repositories.jobs import JobLeaseRepo
from storage.repositories.relay import RelayRepo
from storage.repositories.signin import SignInQuotaRepo
from storage.repositories.users import UserRepo
from tests.services.helpers import services
from tests.services.test_insert_races import count, twice_at_once, users

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def refused_or(results: list[Any], kind: type) -> list[str]:
    return sorted("refused" if isinstance(r, kind) else "done" for r in results)


# --- fixed --------------------------------------------------------------------------------------


async def test_two_bans_of_one_member_at_once_make_one_ban(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    admin, other_mod, target = await users(sessionmaker, 3)
    clock = FakeClock(NOW)

    async def ban(session: AsyncSession, n: int) -> Any:
        mod = ModerationService(session, clock, admin_ids=frozenset({admin.telegram_id or 0}))
        actor = await session.get(User, (admin, other_mod)[n].id)
        victim = await session.get(User, target.id)
        assert actor is not None
        assert victim is not None
        return await mod.ban(actor, victim, timedelta(hours=1), "spam")

    results = await twice_at_once(sessionmaker, ban)
    assert refused_or(results, AlreadyBanned) == ["done", "refused"]
    assert await count(sessionmaker, Ban, Ban.user_id == target.id) == 1


async def test_two_reports_reaching_the_threshold_at_once_ban_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    target, *reporters = await users(sessionmaker, 5)
    clock = FakeClock(NOW)

    async def report(session: AsyncSession, reporter: User) -> Any:
        mod = ModerationService(session, clock, warnings_to_ban=3)
        me, them = await session.get(User, reporter.id), await session.get(User, target.id)
        assert me is not None
        assert them is not None
        return await mod.report(me, them, "spam")

    for reporter in reporters[:2]:  # two warnings: the next one bans
        async with sessionmaker() as session, session.begin():
            await report(session, reporter)

    outcomes = await twice_at_once(sessionmaker, lambda session, n: report(session, reporters[2 + n]))
    assert sorted(o.ban is not None for o in outcomes) == [False, True]
    assert await count(sessionmaker, Ban, Ban.user_id == target.id) == 1
    assert await count(sessionmaker, WarningEntry, WarningEntry.user_id == target.id) == 4


async def test_a_cards_warn_pressed_twice_at_once_warns_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    admin, target = await users(sessionmaker, 2)
    clock = FakeClock(NOW)

    async def press(session: AsyncSession, _: int) -> Any:
        mod = ModerationService(session, clock, admin_ids=frozenset({admin.telegram_id or 0}))
        actor, victim = await session.get(User, admin.id), await session.get(User, target.id)
        assert actor is not None
        assert victim is not None
        return await mod.warn_from_card(actor, victim, seen_warnings=0)

    results = await twice_at_once(sessionmaker, press)
    assert refused_or(results, CardOutdated) == ["done", "refused"]
    assert await count(sessionmaker, WarningEntry, WarningEntry.user_id == target.id) == 1


class Provider:
    """The identity provider, answering both token exchanges (a round trip each: the other
    transaction runs meanwhile)."""

    async def exchange(self, code: str, verifier: str) -> Tokens:
        await asyncio.sleep(0)
        return Tokens(access_token=f"access-{code}", refresh_token=f"refresh-{code}", expires_in=3600)

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"sub": "subject-1", "name": "Alice Example"}


def oauth(session: AsyncSession, clock: FakeClock) -> OAuthService:
    config = OAuthConfig(
        authorize_url="https://id.example/authorize",
        token_url="https://id.example/token",
        userinfo_url="https://id.example/userinfo",
        revoke_url=None,
        client_id="bot",
        client_secret=None,
        redirect_url="https://bot.example/oauth/callback",
        scopes="openid",
    )
    keys = TokenKeys.parse(base64.urlsafe_b64encode(bytes(range(32))).decode())
    signin, _, _ = services(session, clock)
    return OAuthService(
        session,
        clock,
        config,
        Provider(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        keys,
        signin,
        start_url="https://bot.example/oauth/start",
    )


async def test_a_link_finished_twice_at_once_makes_one_link(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    (alice,) = await users(sessionmaker, 1)
    clock = FakeClock(NOW)

    async def finish(session: AsyncSession, n: int) -> Any:  # two browser tabs, each with its own /link
        user = await session.get(User, alice.id)
        assert user is not None
        return await oauth(session, clock).complete(user, f"verifier-{n}", f"code-{n}")

    results = await twice_at_once(sessionmaker, finish)
    assert [r.name for r in results] == ["Alice Example", "Alice Example"]
    assert await count(sessionmaker, OAuthLink, OAuthLink.user_id == alice.id) == 1
    async with sessionmaker() as session:
        link = await session.get(OAuthLink, alice.id)
        assert link is not None
        assert link.pending_nonce in {r.finish for r in results}


async def test_one_event_recorded_twice_at_once_is_queued_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    (alice,) = await users(sessionmaker, 1)
    clock = FakeClock(NOW)

    async def record(session: AsyncSession, _: int) -> bool:
        return await EventRecorder(session, clock, enabled=True, types=EventTypes()).record(
            alice.id, "registration", idempotence_key="race-registration"
        )

    assert sorted(await twice_at_once(sessionmaker, record)) == [False, True]
    assert await count(sessionmaker, GmfyEvent, GmfyEvent.idempotence_key == "race-registration") == 1


# --- already safe -------------------------------------------------------------------------------


async def test_one_member_redeeming_two_codes_at_once_redeems_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first, second, invitee = await users(sessionmaker, 3)
    clock = FakeClock(NOW)
    async with sessionmaker() as session, session.begin():
        _, invites, _ = services(session, clock)
        codes = [(await invites.ensure_code(owner)).code for owner in (first, second)]

    async def redeem(session: AsyncSession, n: int) -> Any:
        _, invites, _ = services(session, clock)
        user = await session.get(User, invitee.id)
        assert user is not None
        return await invites.redeem(user, codes[n])

    results = await twice_at_once(sessionmaker, redeem)
    assert refused_or(results, AlreadyRedeemed) == ["done", "refused"]
    assert await count(sessionmaker, Referral, Referral.invitee_id == invitee.id) == 1


async def test_an_invite_code_asked_twice_at_once_is_issued_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    (owner,) = await users(sessionmaker, 1)
    clock = FakeClock(NOW)

    async def ask(session: AsyncSession, _: int) -> str:
        _, invites, _ = services(session, clock)
        user = await session.get(User, owner.id)
        assert user is not None
        return (await invites.ensure_code(user)).code

    first, second = await twice_at_once(sessionmaker, ask)
    assert first == second
    assert await count(sessionmaker, InviteCode, InviteCode.owner_id == owner.id, InviteCode.revoked_at.is_(None)) == 1


async def test_two_messages_counted_at_once_in_a_new_window_count_two(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    (alice,) = await users(sessionmaker, 1)

    async def take(session: AsyncSession, _: int) -> int | None:
        return await RelayRepo(session).take_from_window(alice.id, NOW, limit=10)

    assert sorted(await twice_at_once(sessionmaker, take)) == [1, 2]
    async with sessionmaker() as session:
        counted = await session.scalar(select(LimitWindow.count).where(LimitWindow.user_id == alice.id))
    assert counted == 2


async def test_the_last_message_under_the_limit_is_taken_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    (alice,) = await users(sessionmaker, 1)
    async with sessionmaker() as session, session.begin():
        assert await RelayRepo(session).take_from_window(alice.id, NOW, limit=2) == 1

    async def take(session: AsyncSession, _: int) -> int | None:
        return await RelayRepo(session).take_from_window(alice.id, NOW, limit=2)

    assert sorted(await twice_at_once(sessionmaker, take), key=str) == [2, None]


async def test_fsm_state_set_twice_at_once_keeps_one_row(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    key = "fsm:1:700:700"

    async def set_state(session: AsyncSession, n: int) -> None:
        repo = FsmRepo(session)
        await repo.set_state(key, f"Pending:step{n}")
        await repo.set_data(key, f'{{"room": {n}}}')

    await twice_at_once(sessionmaker, set_state)
    assert await count(sessionmaker, FsmState, FsmState.key == key) == 1
    async with sessionmaker() as session:
        state, data = await FsmRepo(session).get(key)
    assert (state, data) in {("Pending:step0", '{"room": 0}'), ("Pending:step1", '{"room": 1}')}


async def test_a_job_lease_taken_twice_at_once_has_one_holder(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async def take(session: AsyncSession, n: int) -> bool:
        return await JobLeaseRepo(session).take("race_job", f"instance-{n}", NOW, NOW + timedelta(minutes=1))

    assert sorted(await twice_at_once(sessionmaker, take)) == [False, True]
    assert await count(sessionmaker, JobLease, JobLease.name == "race_job") == 1


async def test_an_update_claimed_at_two_instances_at_once_is_taken_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(NOW)
    instances = [DatabaseSeenUpdates(sessionmaker, clock, timedelta(days=1)) for _ in range(2)]
    claims = await asyncio.gather(*(seen.claim(4242) for seen in instances))
    assert sorted(c.value for c in claims) == sorted([Claim.TAKEN.value, Claim.BUSY.value])


async def test_the_moderation_lock_holds_no_row(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The lock that serialises moderation of one member is not a row lock: the member's own updates
    (their user row written meanwhile) do not wait for it. PostgreSQL only: SQLite has one writer."""
    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time in")
    admin, target = await users(sessionmaker, 2)
    clock = FakeClock(NOW)
    async with sessionmaker() as holding, holding.begin():
        mod = ModerationService(holding, clock, admin_ids=frozenset({admin.telegram_id or 0}))
        actor, victim = await holding.get(User, admin.id), await holding.get(User, target.id)
        assert actor is not None
        assert victim is not None
        await mod.ban(actor, victim, timedelta(hours=1), None)
        async with sessionmaker() as other, other.begin():
            own = await other.get(User, target.id)
            assert own is not None
            own.last_seen_at = NOW
            await asyncio.wait_for(other.flush(), 5)  # not blocked by the held moderation of them
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Ban).where(Ban.user_id == target.id)) == 1


async def test_the_last_sign_in_code_of_the_day_is_sent_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Two instances asked for a code for one phone at once (the quota's row new, then at its cap)."""
    day = NOW.replace(hour=0)

    async def take(session: AsyncSession, _: int) -> bool:
        return await SignInQuotaRepo(session).take("phone:race", day, "codes", cap=3)

    assert await twice_at_once(sessionmaker, take) == [True, True]  # the new row: both counted
    assert sorted(await twice_at_once(sessionmaker, take)) == [False, True]  # the third of three
    async with sessionmaker() as session:
        assert await session.scalar(select(SignInQuota.codes).where(SignInQuota.subject == "phone:race")) == 3


async def test_a_gmfy_notification_fetched_twice_at_once_is_queued_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    (alice,) = await users(sessionmaker, 1)

    async def remember(session: AsyncSession, _: int) -> bool:
        return await NotificationRepo(session).remember(user_id=alice.id, fingerprint="f1", message="Hi", now=NOW)

    assert sorted(await twice_at_once(sessionmaker, remember)) == [False, True]
    assert await count(sessionmaker, GmfyNotification, GmfyNotification.user_id == alice.id) == 1


async def test_one_phone_bound_by_two_accounts_at_once_is_bound_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two Telegram accounts share one phone's contact at once: one binds it, the other takes that
    account over (as it would a moment later), not an error."""
    clock = FakeClock(NOW)
    async with sessionmaker() as session, session.begin():
        signin, _, _ = services(session, clock)
        accounts = [await signin.ensure_user(TelegramProfile(7_700_000 + n)) for n in range(2)]

    async def bind(session: AsyncSession, n: int) -> Any:
        signin, _, _ = services(session, clock)
        user = await session.get(User, accounts[n].id)
        assert user is not None
        return await signin.sign_in_with_contact(user, 7_700_000 + n, "+79161234567")

    results = await twice_at_once(sessionmaker, bind)
    assert sorted(r.taken_over_from is not None for r in results) == [False, True]
    assert await count(sessionmaker, User, User.phone == "+79161234567") == 1
    async with sessionmaker() as session:
        owner = await session.scalar(select(User).where(User.phone == "+79161234567"))
        assert owner is not None
        assert (
            owner.telegram_id == results[[r.taken_over_from is not None for r in results].index(True)].user.telegram_id
        )


async def test_one_proven_phone_bound_by_two_accounts_at_once_asks_the_winner(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The same with a phone proven by a code or an OAuth provider: the loser never takes the account on
    its own; the winner's Telegram account is asked (TakeoverRequested), as it would be a moment later."""
    clock = FakeClock(NOW)
    async with sessionmaker() as session, session.begin():
        signin, _, _ = services(session, clock)
        accounts = [await signin.ensure_user(TelegramProfile(7_710_000 + n)) for n in range(2)]

    async def bind(session: AsyncSession, n: int) -> Any:
        signin, _, _ = services(session, clock)
        user = await session.get(User, accounts[n].id)
        assert user is not None
        return await signin.sign_in_with_verified_phone(user, "+79161234568")

    results = await twice_at_once(sessionmaker, bind)
    assert sorted(type(r).__name__ for r in results) == ["SignInResult", "TakeoverRequested"]
    assert await count(sessionmaker, User, User.phone == "+79161234568") == 1


@pytest.mark.parametrize("unbound_row", [False, True], ids=["nobody's", "an unbound row's"])
async def test_a_proven_phone_bound_between_the_two_reads_asks_the_winner(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch, unbound_row: bool
) -> None:
    """A code- or OAuth-proven phone read as nobody's (or as an account no Telegram account has), then
    bound by another Telegram account that commits before the bind reads it again (READ COMMITTED shows
    that binding): the winner is asked, never taken over."""
    clock = FakeClock(NOW)
    phone = "+79161234569"
    async with sessionmaker() as session, session.begin():
        signin, _, _ = services(session, clock)
        accounts = [await signin.ensure_user(TelegramProfile(7_720_000 + n)) for n in range(3)]
        if unbound_row:  # an account whose Telegram account took over another one since
            await signin.sign_in_with_contact(accounts[2], 7_720_002, phone)
            accounts[2].telegram_id = None
    read = UserRepo.by_phone
    armed = True

    async def by_phone(repo: UserRepo, wanted: str, **kwargs: Any) -> User | None:
        nonlocal armed
        found = await read(repo, wanted, **kwargs)
        if armed:  # the proven path's first read: the other account binds the phone and commits now
            armed = False
            async with sessionmaker() as other, other.begin():
                other_signin, _, _ = services(other, clock)
                winner = await other.get(User, accounts[1].id)
                assert winner is not None
                await other_signin.sign_in_with_contact(winner, 7_720_001, phone)
        return found

    monkeypatch.setattr(UserRepo, "by_phone", by_phone)
    async with sessionmaker() as session, session.begin():
        signin, _, _ = services(session, clock)
        user = await session.get(User, accounts[0].id)
        assert user is not None
        result = await signin.sign_in_with_verified_phone(user, phone)
    assert isinstance(result, TakeoverRequested)
    assert result.owner_telegram_id == 7_720_001
    async with sessionmaker() as session:
        owner = await session.scalar(select(User).where(User.phone == phone))
        assert owner is not None
        assert (owner.id, owner.telegram_id) == (accounts[2 if unbound_row else 1].id, 7_720_001)


async def test_a_join_request_decided_twice_at_once_is_decided_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The owner's Approve and Decline (or a double tap) reaching two instances at once: one decision
    stands, the other is told the request was handled; the member joined once, one GMFY event."""
    owner, guest = await users(sessionmaker, 2)
    clock = FakeClock(NOW)

    def rooms(session: AsyncSession) -> RoomService:
        return RoomService(session, clock, EventRecorder(session, clock, enabled=True, types=EventTypes()))

    async with sessionmaker() as session, session.begin():
        room = await rooms(session).create(owner, "Book club")
        request = await rooms(session).request_join(guest, RoomService.link_payload(room))
    request_id = request.request.id

    async def decide(session: AsyncSession, n: int) -> Any:
        me = await session.get(User, owner.id)
        assert me is not None
        return await rooms(session).decide(me, request_id, approve=True)

    results = await twice_at_once(sessionmaker, decide)
    assert refused_or(results, RoomRequestHandled) == ["done", "refused"]
    joined = GmfyEvent.type == "room_joined"
    assert await count(sessionmaker, GmfyEvent, joined) == 1
