"""Members' messages relayed in batches: one transaction for all the messages that came in meanwhile.

Relaying one message takes a dozen statements (author, target, duplicates, blocks, limit, the
message, its copies); each costs a round trip and, on SQLite, time holding the one write lock while
every other update waits. Here the relay handler hands its message over and awaits the outcome
(`bot.batching.Coalescer`: no timer, batches grow with the load, a failed batch is retried message
by message); a batch goes through `RelayService.submit`, which decides every refusal (bans included),
and the authors' last-seen refreshes are written along.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from bot.batching import Coalescer
from bot.context import AppContext
from services.errors import DomainError
from services.relay import Incoming, RelayOutcome, RelayResult, Submission


class _Request(NamedTuple):
    user_id: int
    incoming: Incoming
    touch: dict[int, dict[str, Any]]  # the author's refresh the update noted (the unit of work hands it over)


class RelayBatcher(Coalescer[_Request, RelayOutcome]):
    def __init__(self, ctx: AppContext, max_batch: int = 200) -> None:
        super().__init__(max_batch)
        self.ctx = ctx

    async def relay(
        self, user_id: int, incoming: Incoming, touch: dict[int, dict[str, Any]] | None = None
    ) -> RelayResult:
        """Relay a member's message (users.id `user_id`) and write the author's `touch`; raises the
        refusal `RelayService.submit` comes to. The caller must not hold a write transaction (a handler
        flagged `batched`: see bot.middlewares.BatchedHandlerMiddleware): the batch waits for SQLite's
        write lock."""
        outcome = await self.submit(_Request(user_id, incoming, touch or {}))
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    async def _handle(self, requests: list[_Request]) -> list[RelayOutcome]:
        self.ctx.metrics.relay_batch.observe(len(requests))
        async with self.ctx.sessionmaker() as session, session.begin():
            outcomes = await self.ctx.relay(session).submit([Submission(r.user_id, r.incoming) for r in requests])
            await self.ctx.signin(session).save_touches({k: v for r in requests for k, v in r.touch.items()})
        if any(isinstance(outcome, RelayResult) and outcome.paged for outcome in outcomes):
            self.ctx.kick_fan_out()  # committed: its copies are enqueued page by page (bot/fanout.py)
        return outcomes
