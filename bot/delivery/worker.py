"""The delivery worker: sends the outgoing queue at the global rate, paced per chat, in order.

Each round claims the due head of every chat's queue (a lease, and SKIP LOCKED on PostgreSQL,
so several workers and processes share the queue), sends the rows concurrently over the bot's
pooled HTTP session, then records every outcome in one transaction. Sends already on the wire
are never cancelled: a stop or cancel lets them finish and records them, and rows not yet sent
are released at once, so a restart neither loses nor repeats a delivery.

Relayed copies usually skip the claim: the relay's transaction inserts them already claimed for this
process' express lane (`bot.delivery.express.ExpressLane`) and hands them over in memory when it
commits; they are sent per chat in order, under the same rate limiter and pacer, and recorded the
same way.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batching import Coalescer
from bot.delivery.api import BotApi
from bot.delivery.express import ExpressLane
from bot.delivery.limits import SendLimits
from bot.delivery.outbox import Waker
from services.clock import Clock
from storage.db import without_begin
from storage.models.delivery import Priority
from storage.repositories.delivery import Claimed, Outcome, OutgoingRepo

log = logging.getLogger(__name__)

NOT_MODIFIED = "message is not modified"


class SentMarks(Coalescer[tuple[str, Outcome], None]):
    """Sent rows recorded as a group commit, the rounds' and the express lane's alike: as soon as a
    send has an answer it is written with every answer that came meanwhile, one transaction for the
    lot (one statement per claim token); while it is written, more answers gather for the next one.
    While answers keep coming (some came during the last write), `interval` is the least gap between
    two writes; an answer after a quiet moment is written at once. If the process dies, only the sends
    of that last moment (and those on the wire) are unrecorded, and sent again."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, interval: float) -> None:
        super().__init__(max_batch=1000)
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.interval = interval
        self._written_at = -math.inf
        self._busy = False  # answers came while the last write went on

    def mark(self, token: str, outcome: Outcome) -> asyncio.Future[None]:
        """Record a sent row claimed with `token`; the future is done once it is written."""
        return self.enqueue((token, outcome))

    async def _handle(self, requests: list[tuple[str, Outcome]]) -> list[None]:
        by_token: dict[str, list[Outcome]] = {}
        for token, outcome in requests:
            by_token.setdefault(token, []).append(outcome)
        async with self.sessionmaker() as session, session.begin():
            # Each row's mark stands alone (a claim token's rows are one executemany, atomic by itself):
            # on PostgreSQL no BEGIN and COMMIT around them, one round trip instead of three.
            await without_begin(session)
            repo = OutgoingRepo(session)
            now = self.clock.now()
            for token, outcomes in by_token.items():
                await repo.mark_sent(outcomes, now, token)
        self._written_at = time.monotonic()
        self._busy = bool(self._queue)
        return [None] * len(requests)

    async def _pause(self) -> None:
        gap = self._written_at + self.interval - time.monotonic()
        if self._busy and gap > 0:
            await asyncio.sleep(gap)


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    rate_limited: int = 0
    blocked: int = 0
    failed: int = 0
    progressed_at: datetime | None = None  # when a round last ended (or the worker started): liveness


@dataclass(frozen=True)
class DeliveryConfig:
    """How the worker claims and sends (the defaults are the settings' defaults)."""

    batch_size: int = 500  # rows claimed by one round
    concurrency: int = 64  # sends in flight at once (and the HTTP pool)
    lease: timedelta = timedelta(seconds=60)  # how long a claim holds a row
    max_attempts: int = 8
    idle_seconds: float = 1.0  # an idle loop looks for due rows at least this often
    parallel_rounds: int = 2  # rounds that overlap: one sends while the other records and claims
    mark_interval: float = 0.005  # the least gap between two writes of sent rows (see SentMarks)
    paid_broadcast: bool = False  # new messages may go past the free rate, for Stars


class DeliveryWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        clock: Clock,
        limits: SendLimits,
        config: DeliveryConfig | None = None,
        *,
        waker: Waker | None = None,
        express: ExpressLane | None = None,
        on_outcomes: Callable[[list[Outcome]], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.sleep = sleep  # the chats' pace and the leases' heartbeat wait with it
        self.bot = bot
        self.clock = clock
        self.config = config = config or DeliveryConfig()
        self.limiter = limits.limiter
        self.bulk_limiter = limits.bulk_limiter
        self.pacer = limits.pacer
        self.waker = waker or Waker()
        self.on_outcomes = on_outcomes
        self.stats = DeliveryStats()
        self.shared_pace = limits.shared_pace  # the chats' pace across instances (bot.budget.RedisChatPace)
        self.api = BotApi(bot, pool=config.concurrency)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random()
        self._answered_wake = -1  # the last wake an idle loop went to claim for
        self.express = express or ExpressLane(config.lease, limit=config.batch_size)
        self.express.arrived = self._express_arrived
        self._express_runners: dict[int, asyncio.Task[None]] = {}  # chat -> the task sending its rows
        self._express_on_wire: set[int] = set()  # chats whose runner awaits a send's answer
        self._express_gate = asyncio.Semaphore(config.concurrency)
        self.marks = SentMarks(sessionmaker, clock, config.mark_interval)
        # Rows this worker holds and has not recorded: row id -> (claim token, lease end as last written).
        # A heartbeat renews them while they wait (a 429's pause can outlast the lease), and a row whose
        # lease ran out is never sent (another worker may have claimed it).
        self._leases: dict[int, tuple[str, datetime]] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._renewing = False
        self.renewals = 0  # heartbeats that renewed rows' leases

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name="delivery-worker")
            self.stats.progressed_at = self.clock.now()
            self.express.open = True

    async def stop(self) -> None:
        """Finish the round in progress and the express sends on the wire, then stop; express rows not
        sent go back to the queue."""
        self._stopping = True
        self.express.open = False
        self.waker.wake()
        if self._task is not None:
            await self._task
            self._task = None
        await self._stop_express()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        await self.api.close()

    async def _stop_express(self) -> None:
        """Runners waiting (for the gate or the chat's pace) are cancelled; one with a send on the wire
        is not: it records the outcome and then ends, seeing the worker stop."""
        runners = list(self._express_runners.items())
        for chat_id, runner in runners:
            if chat_id not in self._express_on_wire:
                runner.cancel()
        await asyncio.gather(*(runner for _, runner in runners), return_exceptions=True)
        await self.marks.wait_idle()

    async def run(self) -> None:
        # Two rounds overlap, so one sends while the other records its results and claims the next rows.
        await asyncio.gather(*(self._loop() for _ in range(self.config.parallel_rounds)))

    async def _loop(self, until_idle: bool = False, max_rounds: int | None = None) -> int:
        """Rounds one after another, pipelined: the next round claims its rows while the current one
        sends its last few, so the rate does not dip while results are recorded and rows claimed.
        Returns the rows handled; with `until_idle` it ends after a round that found nothing due."""
        handled = 0
        rounds = 0
        previous: asyncio.Task[int] | None = None
        try:
            while (until_idle or not self._stopping) and (max_rounds is None or rounds < max_rounds):
                self.waker.event.clear()
                near_end = asyncio.Event()
                # A round that found nothing while the previous one still held rows proves nothing:
                # those rows' successors become due when it ends, so the loop goes on without idling.
                overlapped = previous is not None and not previous.done()
                current = asyncio.create_task(self._guarded_round(near_end, log_errors=not until_idle))
                rounds += 1
                near = asyncio.ensure_future(near_end.wait())
                try:
                    await asyncio.wait({current, near}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    near.cancel()
                if previous is not None:
                    handled += await previous  # at most two rounds of one loop at a time
                previous = current
                if current.done() and current.result() == 0 and not overlapped:
                    if until_idle:
                        break
                    await self._idle()
        finally:
            if previous is not None:
                handled += await asyncio.shield(previous)
        return handled

    async def _idle(self) -> None:
        """Until new rows are committed (the waker) or `idle_seconds` pass (rows due later: retries,
        paced rows). The idle loops are all woken by one commit; only the first goes to claim (the
        others' claims would find nothing: a write transaction each for nothing), the rest wait on."""
        while not self._stopping:
            try:
                await asyncio.wait_for(self.waker.event.wait(), self.config.idle_seconds)
            except TimeoutError:
                return
            if self._answered_wake != self.waker.wakes:
                self._answered_wake = self.waker.wakes
                return
            self.waker.event.clear()  # another loop claims for this wake

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _guarded_round(self, near_end: asyncio.Event, log_errors: bool = True) -> int:
        try:
            return await self.run_once(near_end)
        except Exception:
            if not log_errors:
                raise
            log.exception("delivery round failed")
            return 0
        finally:
            near_end.set()
            self.stats.progressed_at = self.clock.now()

    async def drain(self, max_rounds: int = 10_000) -> int:
        """Run rounds until nothing is due (tests and benchmarks); returns rows handled. Express sends
        under way are waited for first (they are not counted)."""
        await self.express_idle()
        return sum(
            await asyncio.gather(
                *(self._loop(until_idle=True, max_rounds=max_rounds) for _ in range(self.config.parallel_rounds))
            )
        )

    # --- the express lane ----------------------------------------------------------------
    async def express_idle(self) -> None:
        """Until the express lane has sent and recorded everything it was handed."""
        while self._express_runners:
            await asyncio.gather(*self._express_runners.values(), return_exceptions=True)
        await self.marks.wait_idle()

    def _express_arrived(self, chat_ids: set[int]) -> None:
        # The transaction that queued them leased them a moment ago, with the express lane's lease.
        lease_until = self.clock.now() + self.express.lease - timedelta(seconds=1)
        fresh = [
            row for chat_id in chat_ids for row in self.express.queues.get(chat_id, ()) if row.id not in self._leases
        ]
        self._hold(fresh, self.express.token, lease_until)
        for chat_id in chat_ids:
            if chat_id not in self._express_runners:
                self._express_runners[chat_id] = asyncio.create_task(self._express_chat(chat_id))

    async def _express_chat(self, chat_id: int) -> None:
        """Send a chat's express rows one after another; each is recorded before the next goes (so a
        crash never leaves a later row recorded and an earlier one not). A row that was not sent (a
        retry later, a blocked chat) sends the chat's other rows back to the queue, behind it."""
        queue = self.express.queues[chat_id]
        try:
            while queue and not self._stopping and not self.express.held_back(chat_id):
                item = queue[0]
                async with self._express_gate:
                    await self._pace(chat_id)
                    if not self._still_held(item.id):
                        break  # its lease ran out while it waited: given back, never sent twice
                    # On the wire, a send is never cancelled (see _stop_express), so it is awaited here
                    # and not shielded in a task of its own.
                    self._express_on_wire.add(chat_id)
                    try:
                        outcome = await self._send(item)
                    finally:
                        self._express_on_wire.discard(chat_id)
                queue.popleft()
                self.express.size -= 1
                try:
                    if not await self._express_record(item, outcome):
                        break
                finally:
                    self._let_go((item.id,))
        except Exception:
            # Recording failed (the database): the row stays claimed until its lease runs out, then it is
            # claimed the usual way; the chat's other rows go back to the queue now.
            log.exception("express sends to chat %s failed", chat_id)
        finally:
            del self._express_runners[chat_id]
            rest = self.express.take_back(chat_id)
            if rest:
                try:
                    await asyncio.shield(self._express_release(rest))
                finally:
                    self._let_go(row.id for row in rest)

    async def _express_record(self, item: Claimed, outcome: Outcome) -> bool:
        """Record an express send's outcome; whether the chat's next rows may follow."""
        if self.on_outcomes is not None:
            self.on_outcomes([outcome])
        if outcome.status == "sent":
            await self.marks.mark(self.express.token, outcome)
            return True
        self.express.hold_back(item.chat_id)
        blocked = {item.chat_id} if outcome.error == "blocked" else set()
        async with self.sessionmaker() as session, session.begin():
            await self._finish(OutgoingRepo(session), [outcome], blocked, self.express.token)
        return False

    async def _express_release(self, rows: list[Claimed]) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                await OutgoingRepo(session).release([row.id for row in rows], self.express.token)
        except Exception:
            log.exception("releasing %d express rows failed; their lease runs out instead", len(rows))
        self.waker.wake()  # the usual rounds send them now

    # --- leases ----------------------------------------------------------------------------
    def _hold(self, rows: Collection[Claimed], token: str, lease_until: datetime) -> None:
        for row in rows:
            self._leases[row.id] = (token, lease_until)
        if self._leases and (self._heartbeat is None or self._heartbeat.done()):
            self._heartbeat = asyncio.create_task(self._beat(), name="delivery-leases")

    def _let_go(self, ids: Iterable[int]) -> None:
        for oid in ids:
            self._leases.pop(oid, None)
        if not self._leases and self._heartbeat is not None and not self._renewing:
            self._heartbeat.cancel()  # it only waits for its next beat
            self._heartbeat = None

    def _still_held(self, oid: int) -> bool:
        """Whether the row's lease (as this worker last renewed it) leaves time to send and record it;
        a row held past it may have been claimed by another worker meanwhile."""
        held = self._leases.get(oid)
        return held is None or self.clock.now() < held[1] - self.config.lease / 4

    async def _beat(self) -> None:
        """While this worker holds rows, renew their leases every quarter of the lease: a row waiting
        long for its send (a 429 paused the global rate for longer than the lease) stays this worker's,
        and no other instance claims it and sends it a second time."""
        interval = self.config.lease.total_seconds() / 4
        while self._leases:
            await self.sleep(interval)
            self._renewing = True
            try:
                await self._renew()
            except Exception:
                log.warning("renewing the leases of claimed rows failed", exc_info=True)
            finally:
                self._renewing = False

    async def _renew(self) -> None:
        by_token: dict[str, list[int]] = {}
        for oid, (token, _) in self._leases.items():
            by_token.setdefault(token, []).append(oid)
        if not by_token:
            return
        now = self.clock.now()
        lease_until = now + self.config.lease
        async with self.sessionmaker() as session, session.begin():
            repo = OutgoingRepo(session)
            renewed = {token: await repo.renew(ids, token, lease_until) for token, ids in by_token.items()}
        for token, ids in renewed.items():
            for oid in ids:
                if oid in self._leases:
                    self._leases[oid] = (token, lease_until)
        self.renewals += 1

    # --- one round -----------------------------------------------------------------------
    async def run_once(self, near_end: asyncio.Event | None = None) -> int:
        """Claim due rows, send them, record the outcomes; returns rows handled. `near_end` is set when
        all but the last few rows have passed the rate limiter (the loop then claims the next round)."""
        token = secrets.token_hex(8)
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            claimed = await OutgoingRepo(session).claim(now, self.config.batch_size, now + self.config.lease, token)
        if not claimed:
            return 0
        self._hold(claimed, token, now + self.config.lease)
        outcomes: dict[int, Outcome] = {}
        inflight: set[asyncio.Future[None]] = set()
        gate = asyncio.Semaphore(self.config.concurrency)

        marking: dict[int, asyncio.Future[None]] = {}  # sent rows being recorded (see SentMarks)

        async def send(item: Claimed) -> None:
            outcomes[item.id] = outcome = await self._send(item)
            if outcome.status == "sent":
                marking[item.id] = self.marks.mark(token, outcome)

        async def one(item: Claimed) -> None:
            async with gate:
                # At most one row per chat is in flight (head of its queue).
                await self._pace(item.chat_id, item.priority)
                passed_limiter()
                if not self._still_held(item.id):
                    return  # its lease ran out while it waited: released, never sent twice
                future = asyncio.ensure_future(send(item))
                inflight.add(future)
                await asyncio.shield(future)  # once on the wire, a send is never cancelled

        low_water = min(len(claimed) - 1, max(self.config.concurrency, len(claimed) // 4))
        # A round no larger than the sends in flight at once gains nothing from claiming the next one
        # early: its rows' successors are due only once it ends, and at low load that early claim found
        # nothing, a write transaction per send for nothing (near_end is then set when the round ends).
        pipelined = len(claimed) > self.config.concurrency
        passed = 0

        def passed_limiter() -> None:
            nonlocal passed
            passed += 1
            if near_end is not None and pipelined and passed >= len(claimed) - low_water:
                near_end.set()

        tasks = [asyncio.create_task(one(item)) for item in claimed]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await asyncio.shield(self._settle(claimed, outcomes, inflight, marking, token))
            finally:
                self._let_go(c.id for c in claimed)
        return len(claimed)

    async def _settle(
        self,
        claimed: list[Claimed],
        outcomes: dict[int, Outcome],
        inflight: set[asyncio.Future[None]],
        marking: dict[int, asyncio.Future[None]],
        token: str,
    ) -> None:
        if inflight:
            await asyncio.gather(*inflight, return_exceptions=True)
        if marking:
            await asyncio.gather(*marking.values(), return_exceptions=True)
        marked = {oid for oid, future in marking.items() if not future.cancelled() and future.exception() is None}
        done = [outcomes[c.id] for c in claimed if c.id in outcomes]
        unsent = [c.id for c in claimed if c.id not in outcomes]
        blocked = {c.chat_id for c in claimed if c.id in outcomes and outcomes[c.id].error == "blocked"}
        async with self.sessionmaker() as session, session.begin():
            repo = OutgoingRepo(session)
            sent = [o for o in done if o.status == "sent" and o.id not in marked]
            if sent:  # their group commit failed
                await repo.mark_sent(sent, self.clock.now(), token)
            await repo.release(unsent, token)
            await self._finish(repo, [o for o in done if o.status != "sent"], blocked, token)
        if self.on_outcomes is not None:
            self.on_outcomes(done)

    async def _finish(self, repo: OutgoingRepo, unsent: list[Outcome], blocked: set[int], token: str) -> None:
        """Record outcomes other than sent (a retry later, failed, dropped); the chats that blocked the
        bot lose all their pending rows (and the user is marked inactive)."""
        await repo.finish(unsent, self.clock.now(), token)
        for chat_id in blocked:
            await repo.drop_chat(chat_id, "blocked: bot was blocked by the user")

    async def _pace(self, chat_id: int, priority: int = Priority.RELAY) -> None:
        """Wait for the chat's pace and the global rate (bulk rows after the relays waiting for it); the
        send to it leaves now."""
        if self.shared_pace is not None:  # every instance's pace for the chat (Redis)
            wait = await self.shared_pace.reserve(chat_id)
            if wait > 0:
                await self.sleep(wait)
        delay = self.pacer.delay(chat_id)
        while delay > 0:  # an answer to the chat may take the token meanwhile: checked again
            await self.sleep(delay)
            delay = self.pacer.delay(chat_id)
        limiter = self.bulk_limiter if priority == Priority.BULK and self.bulk_limiter is not None else self.limiter
        self.pacer.hold(chat_id)
        try:
            await limiter.acquire()
        except BaseException:
            self.pacer.unhold(chat_id)
            raise
        self.pacer.take(chat_id)

    # --- one send ------------------------------------------------------------------------
    async def _send(self, item: Claimed) -> Outcome:
        try:
            method, payload = self._request(item)
            answer = await self.api.call(method, payload)
        except _Unsendable as exc:
            self.stats.failed += 1
            return Outcome(item.id, "failed", error=str(exc), attempts=item.attempts)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            return self._retry(item, f"{type(exc).__name__}: {exc}")
        if answer.get("ok"):
            self.stats.sent += 1
            return Outcome(item.id, "sent", message_id=self._message_id(item, answer.get("result")))
        code = int(answer.get("error_code") or 0)
        description = str(answer.get("description") or "")
        if code == 429:
            self.stats.rate_limited += 1
            retry_after = float((answer.get("parameters") or {}).get("retry_after") or 1)
            # Telegram does not say whether the chat's pace or the bot's overall rate was exceeded:
            # both wait it out (the row itself waits in the queue until not_before).
            self.pacer.pause(item.chat_id, retry_after)
            if self.shared_pace is not None:
                self.shared_pace.pause(item.chat_id, retry_after)
            self.limiter.pause(retry_after)
            log.warning(
                "429 for chat %s: retry after %ss",
                item.chat_id,
                retry_after,
                extra={"chat_id": item.chat_id, "retry_after": retry_after},
            )
            return Outcome(item.id, None, not_before=self.clock.now() + timedelta(seconds=retry_after))
        if code == 403:
            self.stats.blocked += 1
            log.info(
                "chat %s is unreachable: %s",
                item.chat_id,
                description,
                extra={"chat_id": item.chat_id, "reason": description},
            )
            return Outcome(item.id, "dropped", error="blocked", attempts=item.attempts + 1)
        if code == 400 and NOT_MODIFIED in description:
            self.stats.sent += 1
            return Outcome(item.id, "sent", message_id=item.target_message_id)
        if 400 <= code < 500:
            self.stats.failed += 1
            return Outcome(item.id, "failed", error=f"{code}: {description}", attempts=item.attempts + 1)
        return self._retry(item, f"{code}: {description}")

    def _retry(self, item: Claimed, error: str) -> Outcome:
        attempts = item.attempts + 1
        if attempts >= self.config.max_attempts:
            self.stats.failed += 1
            return Outcome(item.id, "failed", error=error, attempts=attempts)
        self.stats.retried += 1
        backoff = min(300.0, 2.0**attempts) * (0.5 + self._rng.random() / 2)
        return Outcome(
            item.id, None, not_before=self.clock.now() + timedelta(seconds=backoff), error=error, attempts=attempts
        )

    @staticmethod
    def _message_id(item: Claimed, result: Any) -> int | None:
        if isinstance(result, dict) and "message_id" in result:
            return int(result["message_id"])
        if isinstance(result, list) and result and isinstance(result[0], dict):
            return int(result[0]["message_id"])  # copyMessages: the album's first message
        return item.target_message_id if item.kind in {"edit_text", "edit_caption", "delete"} else None

    def _request(self, item: Claimed) -> tuple[str, dict[str, Any]]:
        """The Bot API method and JSON body for a row (texts and captions are HTML)."""
        p = item.payload
        body: dict[str, Any] = {"chat_id": item.chat_id}
        if p.get("reply_markup"):
            body["reply_markup"] = p["reply_markup"]
        reply_to = self._reply_to(item)
        if reply_to is not None:
            body["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        if item.kind == "text":
            body.update(text=p["text"], parse_mode="HTML", link_preview_options={"is_disabled": True})
            if self.config.paid_broadcast:
                body["allow_paid_broadcast"] = True
            return "sendMessage", body
        if item.kind == "copy":
            body.update(from_chat_id=p["from_chat_id"], message_id=p["message_id"])
            if "caption" in p:
                body.update(caption=p["caption"], parse_mode="HTML")
            if self.config.paid_broadcast:
                body["allow_paid_broadcast"] = True
            return "copyMessage", body
        if item.kind == "album":  # copyMessages has no allow_paid_broadcast (nor have edits and deletes)
            body.update(from_chat_id=p["from_chat_id"], message_ids=p["message_ids"])
            return "copyMessages", body
        body["message_id"] = self._target(item)
        if item.kind == "edit_text":
            body.update(text=p["text"], parse_mode="HTML", link_preview_options={"is_disabled": True})
            return "editMessageText", body
        if item.kind == "edit_caption":
            body.update(caption=p["caption"], parse_mode="HTML")
            return "editMessageCaption", body
        if item.kind == "delete":
            body.pop("reply_markup", None)
            return "deleteMessage", body
        raise _Unsendable(f"unknown outgoing kind {item.kind}")

    @staticmethod
    def _reply_to(item: Claimed) -> int | None:
        reply_to = item.payload.get("reply_to_message_id")
        if reply_to is None and item.kind in {"text", "copy"} and item.target_id is not None:
            reply_to = item.target_message_id
        return int(reply_to) if reply_to is not None else None

    @staticmethod
    def _target(item: Claimed) -> int:
        target = item.payload.get("message_id") if item.target_id is None else item.target_message_id
        if target is None:
            raise _Unsendable("the message to act on was never sent")
        return int(target)


class _Unsendable(Exception):
    """A row that can never be sent (its target message was never delivered, an unknown kind)."""
