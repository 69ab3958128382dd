"""A common-chat message to more readers than a page (FAN_OUT_PAGE, 3 here) is enqueued page by page,
each page in a transaction of its own (bot/fanout.py, `RelayService.fan_out_page`): every reader gets
it exactly once and in order with the next message, a crash mid-way is resumed from the cursor, and
other writers go in between two pages, a delete reaches a page written meanwhile, and a page that
always fails is given up after a few attempts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.fanout import GIVE_UP_AFTER
from services.relay import RelayService
from storage.models import Outgoing, RelayCopy, RelayMessage
from tests.conftest import DbTarget
from tests.e2e.harness import Harness, Person, count, restart_harness
from tests.e2e.test_relay import members
from tests.services.helpers import backend_pid, wait_for_lock

PAGE = 3
NAMES = ("Alice", "Bob", "Carol", "Dan", "Eve", "Fay", "Gus", "Hal")  # 7 readers: pages of 3, 3 and 1


@pytest.fixture
def bot_settings() -> dict[str, object]:
    return {"fan_out_page": PAGE}


def got(person: Person, text: str) -> int:
    """How many copies of `text` reached this person."""
    return sum(1 for m in person.messages if (m.text or "").endswith(f"\n{text}"))


def order(person: Person, *texts: str) -> list[str]:
    return [t for m in person.messages for t in texts if (m.text or "").endswith(f"\n{t}")]


async def paging(tg: Harness) -> list[int | None]:
    """The cursors of the messages still being paged."""
    async with tg.app.ctx.sessionmaker() as session:
        return list(
            await session.scalars(select(RelayMessage.fanout_cursor).where(RelayMessage.fanout_cursor.is_not(None)))
        )


async def test_fan_out_bigger_than_a_page_reaches_everyone_once_and_in_order(tg: Harness) -> None:
    people = await members(tg, *NAMES)
    alice, bob = people[0], people[1]
    runner = tg.app.ctx.fan_out
    assert runner is not None
    seen_mid_way: list[list[int | None]] = []

    async def after_page(pages: int) -> None:
        if pages == 1:  # the first message is a page in: Bob's next message comes now
            seen_mid_way.append(await paging(tg))
            await bob.send("second")

    runner.after_page = after_page
    await alice.send("first")
    assert seen_mid_way, "no page was enqueued"
    assert seen_mid_way[0] != [], "the first message was not paged"
    assert await paging(tg) == []
    for person in people:
        assert got(person, "first") == (0 if person is alice else 1), person.first_name
        assert got(person, "second") == (0 if person is bob else 1), person.first_name
        expected = [t for t, author in (("first", alice), ("second", bob)) if person is not author]
        assert order(person, "first", "second") == expected, person.first_name
    assert runner.pages >= 6  # two messages to 7 readers each, 3 a page


async def test_a_crash_mid_fan_out_is_resumed_from_the_cursor_once_the_lease_ran_out(tg: Harness, db: DbTarget) -> None:
    people = await members(tg, *NAMES)
    alice = people[0]
    runner = tg.app.ctx.fan_out
    assert runner is not None

    async def crash(pages: int) -> None:
        runner.kick = lambda: None  # type: ignore[method-assign]  # dead: its jobs page nothing more
        raise RuntimeError("the instance died after its first page")

    runner.after_page = crash
    await alice.send("first")
    assert sum(got(p, "first") for p in people) == PAGE  # the first page only
    assert len(await paging(tg)) == 1
    await restart_harness(tg, db.url, db.schema, fan_out_page=PAGE)  # another instance: the lease is not its
    await tg.run_jobs()
    assert sum(got(p, "first") for p in people) == PAGE  # the lease has not run out yet
    tg.clock.advance(seconds=tg.app.ctx.settings.delivery_lease_seconds + 1)
    await tg.run_jobs()
    for person in people:
        assert got(person, "first") == (0 if person is alice else 1), person.first_name
    assert await paging(tg) == []
    assert await count(tg, RelayCopy) == len(people) - 1  # none written twice
    assert await count(tg, Outgoing, Outgoing.status == "pending") == 0
    await people[1].send("second")  # the chat goes on: the next message is paged and reaches everyone
    assert all(order(p, "first", "second") == ["first", "second"] for p in people[2:])


async def test_other_writers_go_in_between_two_pages_and_readers_are_those_of_the_moment(tg: Harness) -> None:
    people = await members(tg, *NAMES)
    alice, hal = people[0], people[-1]
    zed = await tg.user("Zed").signed_in()  # not in the common chat yet
    runner = tg.app.ctx.fan_out
    assert runner is not None
    between: list[tuple[bool, list[int | None]]] = []

    async def after_page(pages: int) -> None:
        if pages == 1:
            tg.clock.advance(seconds=1)
            await zed.send("/join")  # a writer: done while the fan-out is a page in
            await hal.send("/leave")  # the last reader leaves before their page
            between.append((zed.received("You're in the common chat"), await paging(tg)))

    runner.after_page = after_page
    await alice.send("first")
    assert len(between) == 1
    joined, cursors = between[0]
    assert joined  # /join's transaction went in between two pages...
    assert cursors != []  # ...while the first message was still being paged
    assert got(zed, "first") == 0  # joined after it was sent
    assert got(hal, "first") == 0  # left before their page
    for person in people[1:-1]:
        assert got(person, "first") == 1, person.first_name
    assert await paging(tg) == []


async def test_a_message_deleted_while_paged_reaches_no_one_more(tg: Harness) -> None:
    people = await members(tg, *NAMES)
    alice = people[0]
    runner = tg.app.ctx.fan_out
    assert runner is not None

    async def after_page(pages: int) -> None:
        if pages == 1:
            original = next(m for m in tg.tg.chats[alice.id] if not m.from_bot and m.text == "first")
            await alice.send("/delete", reply_to=original)

    runner.after_page = after_page
    await alice.send("first")
    assert "Deleted for everyone: 3 copies." in alice.last_text()  # the first page's
    assert [m for p in people for m in p.messages if (m.text or "").endswith("\nfirst") and not m.deleted] == []
    assert await paging(tg) == []


async def test_a_delete_while_a_page_is_written_deletes_that_pages_copies_too(tg: Harness, db: DbTarget) -> None:
    """PostgreSQL: the delete (another instance, or this one's admin path) waits for the page under way
    to commit, then deletes its copies as well; read before it, they would be missed."""
    if db.kind == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: a delete and a page are never at once")
    people = await members(tg, *NAMES)
    alice = people[0]
    ctx = tg.app.ctx
    runner = ctx.fan_out
    assert runner is not None
    deleted: list[bool] = []

    async def delete(session: Any, message_id: int) -> None:
        deleted.append(await ctx.relay(session).delete_everywhere(message_id))
        await session.commit()

    async def after_page(pages: int) -> None:
        if pages != 1:
            return
        runner.after_page = None
        async with ctx.sessionmaker() as page, ctx.sessionmaker() as deleting:
            relay = ctx.relay(page)
            assert await relay.fan_out_page(runner.owner, runner.lease)  # the second page, not committed
            assert relay.paging is not None
            pid = await backend_pid(deleting)
            task = asyncio.create_task(delete(deleting, relay.paging))
            assert await wait_for_lock(ctx.sessionmaker, pid, task)  # the delete waits for the page
            await page.commit()
            await task

    runner.after_page = after_page
    await alice.send("first")
    assert deleted == [True]
    assert await count(tg, Outgoing, Outgoing.kind == "delete") == 2 * PAGE  # both pages' copies, not the third's
    assert [m for p in people for m in p.messages if (m.text or "").endswith("\nfirst") and not m.deleted] == []
    assert await paging(tg) == []


async def test_a_page_that_always_fails_is_given_up_and_the_chat_goes_on(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await members(tg, *NAMES)
    alice, bob = people[0], people[1]
    attempts: list[int] = []
    build_copies = RelayService._build_copies

    async def failing(self: RelayService, author: Any, message: RelayMessage, plain: str | None, *args: Any,
                      **kwargs: Any) -> tuple[int, int]:  # fmt: skip
        if plain == "poison" and kwargs.get("page"):
            attempts.append(message.id)
            raise RuntimeError("this page cannot be written")
        return await build_copies(self, author, message, plain, *args, **kwargs)

    monkeypatch.setattr(RelayService, "_build_copies", failing)
    await alice.send("poison")  # paged: its first page fails, and is tried again by resume_fan_outs
    await bob.send("second")  # waits behind it
    assert len(attempts) == 2  # once when sent, once when the second one was kicked
    for _ in range(GIVE_UP_AFTER):  # the jobs kick the runner (once or more a round)
        if len(attempts) >= GIVE_UP_AFTER:
            break
        assert all(got(p, "second") == 0 for p in people)
        assert len(await paging(tg)) == 2
        tg.clock.advance(seconds=tg.app.ctx.settings.delivery_lease_seconds + 1)
        await tg.run_jobs()
    assert len(attempts) == GIVE_UP_AFTER
    assert len(set(attempts)) == 1
    for person in people:
        assert got(person, "poison") == 0, person.first_name  # given up: no page of it was written
        assert got(person, "second") == (0 if person is bob else 1), person.first_name
    assert await paging(tg) == []
    assert tg.app.ctx.metrics.registry.get_sample_value("bot_fan_outs_given_up_total") == 1
    tg.clock.advance(seconds=tg.app.ctx.settings.delivery_lease_seconds + 1)
    await tg.run_jobs()
    assert len(attempts) == GIVE_UP_AFTER  # not tried again


async def reaching(tg: Harness) -> list[int | None]:
    """The cursors of the edits and deletes still reaching a message's copies."""
    async with tg.app.ctx.sessionmaker() as session:
        return list(
            await session.scalars(select(RelayMessage.copies_cursor).where(RelayMessage.copies_cursor.is_not(None)))
        )


async def test_an_edit_and_a_delete_reach_every_copy_a_page_per_transaction(tg: Harness) -> None:
    """An edit (and a delete) of a message with more copies than a page reaches the first page in its
    own transaction and the rest a page per transaction: another writer commits in between."""
    people = await members(tg, *NAMES)
    alice, hal = people[0], people[-1]
    runner = tg.app.ctx.fan_out
    assert runner is not None
    original = await alice.send("tpyo")
    readers = people[1:]
    assert all(got(p, "tpyo") == 1 for p in readers)
    between: list[list[int | None]] = []

    async def after_page(pages: int) -> None:
        if not between:  # the edit's second page committed: a writer goes in before the third
            between.append(await reaching(tg))
            await hal.send("/pause")

    runner.after_page = after_page
    await alice.edit(original, "typo fixed")
    runner.after_page = None
    assert len(between) == 1
    assert between[0] != [], "the edit was not paged"
    assert "paused" in hal.last_text().lower()
    assert await reaching(tg) == []
    for person in readers:
        copy = next(m for m in person.messages if (m.text or "").endswith(("\ntpyo", "\ntypo fixed")))
        assert (copy.text or "").endswith("\ntypo fixed"), person.first_name
        assert copy.edits == 1, person.first_name  # once each
    await alice.send("/delete", reply_to=original)
    assert "Deleted for everyone: 7 copies." in alice.last_text()  # every copy, not the first page's 3
    assert [m for p in readers for m in p.messages if (m.text or "").endswith("\ntypo fixed") and not m.deleted] == []
    assert await reaching(tg) == []


async def test_an_edit_while_the_message_is_still_paged_edits_only_the_copies_written_before_it(tg: Harness) -> None:
    """The fan-out's later pages carry the new text: editing them too would be a Bot API call each for
    nothing (at 100,000 readers, up to a second round of the whole chat). Here the fan-out's next page
    is written before the edit's rest would be (as on another instance)."""
    people = await members(tg, *NAMES)
    alice = people[0]
    readers = people[1:]
    runner = tg.app.ctx.fan_out
    assert runner is not None

    async def after_page(pages: int) -> None:
        if pages == 1:  # the fan-out's first page is in: the author edits now
            runner.after_page = None
            original = next(m for m in tg.tg.chats[alice.id] if not m.from_bot and m.text == "tpyo")
            await alice.edit(original, "typo fixed")
            async with tg.app.ctx.sessionmaker() as session, session.begin():  # the next page comes first
                assert await tg.app.ctx.relay(session).fan_out_page(runner.owner, runner.lease)

    runner.after_page = after_page
    await alice.send("tpyo")
    await tg.deliver()
    assert await reaching(tg) == []
    assert await paging(tg) == []
    for person in readers:
        copy = next(m for m in person.messages if (m.text or "").endswith(("\ntpyo", "\ntypo fixed")))
        assert (copy.text or "").endswith("\ntypo fixed"), person.first_name
    assert sum(m.edits for p in readers for m in p.messages) == PAGE  # the first page's copies only
    assert await count(tg, Outgoing, Outgoing.kind == "edit_text") == PAGE  # and no call refused as "not modified"


async def test_a_delete_takes_turns_with_a_fan_out_under_way(tg: Harness) -> None:
    """The rest of a delete is not held up until the fan-outs are done (a busy common chat's never are)."""
    people = await members(tg, *NAMES)
    alice, bob = people[0], people[1]
    await alice.send("first")
    assert await paging(tg) == []
    runner = tg.app.ctx.fan_out
    assert runner is not None
    seen: list[tuple[bool, bool]] = []  # after each page: (a delete left to page, a fan-out left to page)

    async def after_page(pages: int) -> None:
        if not seen:  # the first page of Bob's message is in: Alice deletes hers, bigger than a page
            original = next(m for m in tg.tg.chats[alice.id] if not m.from_bot and m.text == "first")
            await alice.send("/delete", reply_to=original)
        seen.append((await reaching(tg) != [], await paging(tg) != []))

    runner.after_page = after_page
    await bob.send("second")
    runner.after_page = None
    assert alice.received("Deleted for everyone: 7 copies.")
    assert seen[0] == (True, True)
    assert (False, True) in seen  # the delete was done while Bob's message was still being paged
    assert seen[-1] == (False, False)
    assert [m for p in people for m in p.messages if (m.text or "").endswith("\nfirst") and not m.deleted] == []
    assert all(got(p, "second") == (0 if p is bob else 1) for p in people)
