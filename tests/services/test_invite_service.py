"""Invite rules on a real database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import FakeClock
from services.errors import (
    AlreadyRedeemed,
    InviteCodeExpired,
    InviteCodeInactive,
    InviteCodeOwn,
    InviteCodeUnknown,
    ReferralCycle,
)
from services.invites import CODE_ALPHABET, CODE_LENGTH
from storage.models import GmfyEvent, InviteCode, Referral
from tests.services.helpers import services, signed_in_user


async def test_redeem_rules_change_nothing_when_refused(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        alice = await signed_in_user(session, clock)
        bob = await signed_in_user(session, clock)
        carol = await signed_in_user(session, clock)
        _, invites, _ = services(session, clock)
        a_code = (await invites.ensure_code(alice)).code
        b_code = (await invites.ensure_code(bob)).code
        with pytest.raises(InviteCodeUnknown):
            await invites.redeem(bob, "nope")
        with pytest.raises(InviteCodeOwn):
            await invites.redeem(bob, b_code)
        await invites.redeem(bob, a_code)
        with pytest.raises(AlreadyRedeemed):
            await invites.redeem(bob, (await invites.ensure_code(carol)).code)
        with pytest.raises(ReferralCycle):
            await invites.redeem(alice, b_code)
        # deeper cycle: Carol joins through Bob, then Alice may not redeem Carol's code
        await invites.redeem(carol, b_code)
        with pytest.raises(ReferralCycle):
            await invites.redeem(alice, (await invites.ensure_code(carol)).code)
        assert await session.scalar(select(func.count()).select_from(Referral)) == 2
        keys = set(await session.scalars(select(GmfyEvent.idempotence_key).where(GmfyEvent.type == "referral")))
        assert len(keys) == 2


async def test_expired_and_revoked_codes(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        alice = await signed_in_user(session, clock)
        bob = await signed_in_user(session, clock)
        _, invites, _ = services(session, clock)
        first = await invites.ensure_code(alice)
        second = await invites.new_code(alice, first.id)
        with pytest.raises(InviteCodeInactive):
            await invites.redeem(bob, first.code)
        clock.advance(timedelta(days=30, seconds=1))
        with pytest.raises(InviteCodeExpired):
            await invites.redeem(bob, second.code)
        third = await invites.ensure_code(alice)  # an expired code is replaced on demand
        assert third.code not in {first.code, second.code}
        await invites.redeem(bob, third.code)


async def test_codes_are_never_reissued(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """A generator that keeps proposing old codes: the database refuses them and a fresh one is taken."""
    clock = FakeClock()
    proposals = iter(["AAAAAA", "AAAAAA", "BBBBBB", "AAAAAA", "BBBBBB", "CCCCCC"])
    async with sessionmaker() as session, session.begin():
        alice = await signed_in_user(session, clock, generate=lambda: next(proposals))
        _, invites, _ = services(session, clock, generate=lambda: next(proposals))
        first = await invites.ensure_code(alice)
        await invites.delete_code(alice, first.id)
        second = await invites.ensure_code(alice)
        third = await invites.new_code(alice, second.id)
        assert [first.code, second.code, third.code] == ["AAAAAA", "BBBBBB", "CCCCCC"]


async def test_unique_codes_under_concurrency(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Many users issue codes at once from a tiny code space: every code stays unique (retries on clash)."""
    clock = FakeClock()
    rng = random.Random(7)
    space = sorted({"".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)) for _ in range(120)})
    users = []
    async with sessionmaker() as session, session.begin():
        for _ in range(25):
            user = await signed_in_user(session, clock, generate=lambda: random.choice(space))
            users.append(user.id)

    async def replace(user_id: int) -> str:
        async with sessionmaker() as session, session.begin():
            _, invites, _ = services(session, clock, generate=lambda: random.choice(space))
            user = await invites.users.by_id(user_id)
            assert user is not None
            current = await invites.current_code(user)
            return (await invites.new_code(user, current.id if current else None)).code

    codes = await asyncio.gather(*(replace(uid) for uid in users))
    async with sessionmaker() as session:
        all_codes = list(await session.scalars(select(InviteCode.code)))
        current = await session.scalar(
            select(func.count()).select_from(InviteCode).where(InviteCode.revoked_at.is_(None))
        )
    assert len(set(codes)) == len(codes) == 25
    assert len(all_codes) == len(set(all_codes)) == 50
    assert current == 25


async def test_one_current_code_when_requests_race(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    async with sessionmaker() as session, session.begin():
        alice = await signed_in_user(session, clock)
        _, invites, _ = services(session, clock)
        current = await invites.current_code(alice)
        assert current is not None
        await invites.delete_code(alice, current.id)

    async def ensure() -> str:
        async with sessionmaker() as session, session.begin():
            _, invites, _ = services(session, clock)
            user = await invites.users.by_id(alice.id)
            assert user is not None
            return (await invites.ensure_code(user)).code

    codes = await asyncio.gather(*(ensure() for _ in range(6)))
    assert len(set(codes)) == 1
