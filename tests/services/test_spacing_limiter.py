"""The global send rate (bot.delivery.limits.SpacingLimiter) on a fake clock: spaced sends, never more than
the cap in any one-second window, and no burst after the event loop was busy."""

from __future__ import annotations

import asyncio
import heapq
import itertools

from bot.delivery.limits import SpacingLimiter


class FakeTime:
    """A monotonic clock and a sleep that only advance when `run` says so (no real waiting)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def run(self, tasks: list[asyncio.Task[None]], stall_at: float | None = None, stall: float = 0.0) -> None:
        """Wake sleepers in time order until every task is done. Once the clock passes `stall_at`,
        the loop is 'busy' for `stall` seconds: every timer due by then fires at the same moment."""
        while not all(task.done() for task in tasks):
            for _ in range(5):
                await asyncio.sleep(0)  # let woken tasks run until they sleep again
            if not self._sleepers:
                continue
            due = self._sleepers[0][0]
            if stall_at is not None and due >= stall_at:
                self.now = max(self.now, due) + stall
                stall_at = None
            else:
                self.now = max(self.now, due)
            while self._sleepers and self._sleepers[0][0] <= self.now:
                _, _, future = heapq.heappop(self._sleepers)
                future.set_result(None)


def most_in_window(times: list[float], width: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


async def sends(limiter: SpacingLimiter, clock: FakeTime, count: int, **stall: float) -> list[float]:
    returned: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        returned.append(clock.now)

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    await clock.run(tasks, **stall)
    return returned


async def test_sends_are_spaced_and_no_second_holds_more_than_the_cap() -> None:
    clock = FakeTime()
    limiter = SpacingLimiter(1000, monotonic=clock.monotonic, sleep=clock.sleep)
    returned = await sends(limiter, clock, 3000)
    assert limiter.cap == 960
    assert most_in_window(returned, 1.0) <= limiter.cap
    achieved = len(returned) / (max(returned) - min(returned))
    assert achieved >= 0.95 * 1000


async def test_a_low_rate_keeps_one_request_of_headroom() -> None:
    clock = FakeTime()
    limiter = SpacingLimiter(30, monotonic=clock.monotonic, sleep=clock.sleep)
    returned = await sends(limiter, clock, 90)
    assert limiter.cap == 29
    assert most_in_window(returned, 1.0) <= 29


async def test_after_a_busy_moment_the_waiting_sends_do_not_go_all_at_once() -> None:
    clock = FakeTime()
    limiter = SpacingLimiter(1000, monotonic=clock.monotonic, sleep=clock.sleep)
    returned = await sends(limiter, clock, 400, stall_at=0.05, stall=0.15)
    # ~150 sends had slots inside the stall; at most the catch-up (20 ms of sends) may go together.
    assert most_in_window(returned, 0.005) <= int(limiter.catch_up * limiter.cap) + 5
    assert most_in_window(returned, 1.0) <= limiter.cap
    assert len(returned) == 400


async def test_a_429_pauses_every_send_for_retry_after() -> None:
    """pause() after a 429: no send leaves before retry_after is over, sends that already held a slot
    included; then the spacing goes on."""
    clock = FakeTime()
    limiter = SpacingLimiter(30, monotonic=clock.monotonic, sleep=clock.sleep)
    returned: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        returned.append(clock.now)

    async def answer_429() -> None:
        await clock.sleep(0.05)  # the first send's answer: retry after 5 (the others hold slots by now)
        limiter.pause(5.0)

    tasks = [asyncio.create_task(one()) for _ in range(10)] + [asyncio.create_task(answer_429())]
    await clock.run(tasks)
    before = [t for t in returned if t < 0.05]
    after = [t for t in returned if t >= 0.05]
    assert len(before) == 2  # at 0 and 1/29 s
    assert min(after) >= 5.05
    assert most_in_window(after, 1.0) <= limiter.cap
    assert after[-1] - after[0] >= 7 / limiter.cap - 1e-9  # spaced after the pause, not a burst


async def test_chat_pacer_pause_holds_the_chat_and_is_not_forgotten() -> None:
    from bot.delivery.limits import ChatPacer

    clock = FakeTime()
    pacer = ChatPacer(rate=1.0, burst=3.0, monotonic=clock.monotonic)
    pacer.take(1)
    assert pacer.delay(1) == 0.0  # a burst of 3 tolerated
    pacer.pause(1, 30.0)
    assert pacer.delay(1) == 30.0
    assert pacer.delay(2) == 0.0  # other chats go on
    clock.now = 10.0
    pacer._forget_idle(clock.now)  # idle buckets are forgotten, a paused chat's is not
    assert abs(pacer.delay(1) - 20.0) < 1e-9
    clock.now = 30.0
    assert pacer.delay(1) == 0.0


async def test_chat_pacer_forgets_full_buckets_early_and_paces_as_before() -> None:
    """A fan-out to 30,000 chats at 1,000/s, two sends each (one message after another): the pacer keeps
    about the chats still refilling (a few thousand), not one bucket per chat, and every delay it
    gives is the one a pacer that forgets nothing gives."""
    from bot.delivery.limits import FORGET_ABOVE, ChatPacer

    clock = FakeTime()
    pacer = ChatPacer(rate=1.0, burst=1.0, monotonic=clock.monotonic)
    keeper = ChatPacer(rate=1.0, burst=1.0, monotonic=clock.monotonic)
    keeper._sweep_at = 10**9  # forgets nothing
    kept = 0
    for round_ in range(2):
        for chat in range(30_000):
            clock.now = round_ * 30.0 + chat / 1000 + (0.5 if chat % 7 == 0 else 0.0)
            assert pacer.delay(chat) == keeper.delay(chat)
            pacer.take(chat)
            keeper.take(chat)
            assert pacer.delay(chat) == keeper.delay(chat)
            kept = max(kept, len(pacer.buckets))
    assert kept <= 2 * FORGET_ABOVE + 1
    assert len(keeper.buckets) == 30_000
