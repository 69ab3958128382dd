"""What users and admins read from GMFY: profile, leaderboards, challenges, status.

GMFY answers are cached briefly in memory (TTL from settings). A GMFY that is down or refuses
becomes `GmfyUnavailable` ("not available right now"); with no API key every read is
`GmfyDisabled`. Nothing here ever lets an HTTP error reach the chat.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import DomainError
from services.gmfy.client import (
    ApiVersion,
    GmfyClient,
    GmfyError,
    GmfyPermanentError,
    GmfyUser,
    UserChallenge,
    UserRating,
)
from services.gmfy.status import GmfyStatus
from storage.models import User
from storage.repositories.gmfy import OutboxSenderRepo, OutboxStats

log = logging.getLogger(__name__)

T = TypeVar("T")


class GmfyDisabled(DomainError):
    key = "gmfy-disabled"


class GmfyUnavailable(DomainError):
    key = "gmfy-unavailable"


class GmfyNotFound(DomainError):
    key = "gmfy-not-found"


class GmfyNoDefault(DomainError):
    key = "gmfy-no-default"


class TtlCache:
    """A small in-memory cache of GMFY answers; failures are never cached."""

    def __init__(self, clock: Clock, ttl_seconds: float, max_items: int = 2000) -> None:
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_seconds)
        self.max_items = max_items
        self._items: dict[tuple[Any, ...], tuple[datetime, Any]] = {}

    async def get(self, key: tuple[Any, ...], load: Callable[[], Awaitable[T]]) -> T:
        now = self.clock.now()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        value = await load()
        if self.ttl > timedelta(0):
            if len(self._items) >= self.max_items:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
                if len(self._items) >= self.max_items:
                    self._items.clear()
            self._items[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        self._items.clear()


@dataclass
class GmfyState:
    """Long-lived GMFY objects of the process (built at start-up when an API key is set)."""

    client: GmfyClient
    cache: TtlCache
    status: GmfyStatus = field(default_factory=GmfyStatus)


@dataclass(frozen=True)
class TopEntry:
    place: int
    name: str | None
    value: float
    mine: bool


@dataclass(frozen=True)
class TopPage:
    rating_id: str
    title: str | None
    entries: list[TopEntry]
    page: int
    has_next: bool
    my_place: UserRating | None


@dataclass(frozen=True)
class ChallengeEntry:
    place: int
    name: str | None
    progress: float
    mine: bool


@dataclass(frozen=True)
class ChallengeView:
    challenge_id: str
    title: str | None
    entries: list[ChallengeEntry]
    mine: UserChallenge | None


@dataclass(frozen=True)
class AdminStatus:
    version: ApiVersion | None
    version_error: str | None
    outbox: OutboxStats
    last_error: str | None
    last_error_at: datetime | None


class GmfyService:
    def __init__(
        self,
        session: AsyncSession,
        state: GmfyState | None,
        *,
        default_rating_id: str | None = None,
        default_challenge_id: str | None = None,
        page_size: int = 10,
        sort: Literal["ASC", "DESC"] = "ASC",
    ) -> None:
        self.session = session
        self.state = state
        self.default_rating_id = default_rating_id
        self.default_challenge_id = default_challenge_id
        self.page_size = page_size
        self.sort: Literal["ASC", "DESC"] = sort

    @property
    def enabled(self) -> bool:
        return self.state is not None

    def _state(self) -> GmfyState:
        if self.state is None:
            raise GmfyDisabled()
        return self.state

    async def _read(self, key: tuple[Any, ...], load: Callable[[], Awaitable[T]], *, ref: str = "") -> T:
        state = self._state()
        try:
            return await state.cache.get(key, load)
        except GmfyPermanentError as exc:
            if exc.status == 404:
                raise GmfyNotFound(id=ref) from exc
            log.warning("GMFY refused %s: %s", key[0], exc.describe())
            raise GmfyUnavailable() from exc
        except GmfyError as exc:
            log.info("GMFY unavailable for %s: %s", key[0], exc.describe())
            raise GmfyUnavailable() from exc

    async def profile(self, user: User) -> GmfyUser:
        return await self.profile_of(user.id)

    async def profile_of(self, user_id: int) -> GmfyUser:
        """A member's ratings, challenges, badges and balances (no database read: the panel asks outside
        its transaction's statements). Raises GmfyDisabled, GmfyUnavailable."""
        client = self._state().client
        try:
            return await self._read(("user", user_id), lambda: client.get_user(str(user_id)))
        except GmfyNotFound:  # GMFY has not heard of this user yet: an empty profile
            return GmfyUser(user_id=str(user_id))

    async def top(self, user: User, rating_id: str | None, page: int = 0) -> TopPage:
        client = self._state().client
        rating_id = (rating_id or self.default_rating_id or "").strip()
        if not rating_id:
            raise GmfyNoDefault()
        page = max(0, page)
        offset = page * self.page_size
        rows = await self._read(
            ("top", rating_id, offset, self.sort),
            lambda: client.get_rating_top(rating_id, offset=offset, limit=self.page_size + 1, sort=self.sort),
            ref=rating_id,
        )
        shown = rows[: self.page_size]
        names = await self._names([r.user_id for r in shown])
        mine = str(user.id)
        entries = [
            TopEntry(
                place=r.position if r.position is not None else offset + i + 1,
                name=names.get(r.user_id),
                value=r.value,
                mine=r.user_id == mine,
            )
            for i, r in enumerate(shown)
        ]
        profile = await self.profile(user)
        my_place = next((r for r in profile.user_ratings if r.rating_id == rating_id), None)
        if my_place is None:
            my_place = next((r for r in shown if r.user_id == mine), None)
        title = next((r.name for r in rows if r.name), None) or (my_place.name if my_place else None)
        return TopPage(rating_id, title, entries, page, len(rows) > self.page_size, my_place)

    async def challenge(self, user: User, challenge_id: str | None) -> ChallengeView:
        client = self._state().client
        challenge_id = (challenge_id or self.default_challenge_id or "").strip()
        if not challenge_id:
            raise GmfyNoDefault()
        rows = await self._read(
            ("challenge", challenge_id),
            lambda: client.get_challenge_top(challenge_id, limit=self.page_size),
            ref=challenge_id,
        )
        names = await self._names([r.user_id for r in rows])
        mine_id = str(user.id)
        entries = [
            ChallengeEntry(i + 1, names.get(r.user_id), r.progress, r.user_id == mine_id) for i, r in enumerate(rows)
        ]
        profile = await self.profile(user)
        mine = next((c for c in profile.user_challenges if c.challenge_id == challenge_id), None)
        if mine is None:
            mine = next((r for r in rows if r.user_id == mine_id), None)
        title = next((r.name for r in rows if r.name), None) or (mine.name if mine else None)
        return ChallengeView(challenge_id, title, entries, mine)

    async def admin_status(self) -> AdminStatus:
        state = self._state()
        version: ApiVersion | None = None
        version_error: str | None = None
        try:
            version = await state.client.get_version()
        except GmfyError as exc:
            version_error = exc.describe()
        outbox = await OutboxSenderRepo(self.session).stats()
        return AdminStatus(version, version_error, outbox, state.status.last_error, state.status.last_error_at)

    async def _names(self, gmfy_ids: list[str]) -> dict[str, str]:
        ids = [int(i) for i in gmfy_ids if i.isdigit()]
        if not ids:
            return {}
        rows = await self.session.execute(
            select(User.id, User.nickname, User.anon_name).where(User.id.in_(ids), User.phone.is_not(None))
        )
        return {str(uid): nickname or anon for uid, nickname, anon in rows}
