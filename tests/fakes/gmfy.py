"""A fake GMFY HTTP server (aiohttp, in process) for outbox, notification and end-to-end tests.

It checks the API key, records every request, counts unique events once per idempotence key (as
GMFY does), serves users, rating and challenge tops and unread notifications from dicts the test
fills, and fails on demand: `down = 503` answers every request with that status; `hooks` may
answer any request (e.g. a 400 for one batch).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "test-gmfy-key"

Hook = Callable[[str, str, Any], "web.Response | None"]


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def user_json(user_id: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "userId": user_id,
        "clientId": "client-1",
        "userRatings": [],
        "userChallenges": [],
        "userBadges": [],
        "userFeatures": [],
        "userAccountBalances": [],
    }
    data.update(extra)
    return data


@dataclass
class FakeGmfy:
    api_key: str = API_KEY
    requests: list[Received] = field(default_factory=list)
    batches: list[list[dict[str, Any]]] = field(default_factory=list)  # accepted batch bodies, in order
    events: list[dict[str, Any]] = field(default_factory=list)  # every accepted event (resends included)
    keys: set[str] = field(default_factory=set)
    counted: list[dict[str, Any]] = field(default_factory=list)  # what GMFY counts: one per idempotence key
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    challenges: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unread: list[dict[str, Any]] = field(default_factory=list)
    keep_unread: bool = False  # True: unread items are returned again on every poll
    down: int | None = None
    hooks: list[Hook] = field(default_factory=list)
    before_batch: Callable[[], Awaitable[None]] | None = None
    version: str = "1.4.2"
    url: str = ""
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self, host: str = "127.0.0.1") -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{host}:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def counted_types(self, user_id: str | None = None) -> list[str]:
        return [e["type"] for e in self.counted if user_id is None or e["userId"] == user_id]

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    # ------------------------------------------------------------------ server
    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path.lstrip("/")
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body = await request.json()
                except ValueError:
                    return web.json_response({"detail": "invalid json"}, status=400)
        self.requests.append(Received(request.method, path, dict(request.query), dict(request.headers), body))
        if request.headers.get("x-api-key") != self.api_key:
            return web.json_response({"detail": "bad api key"}, status=401)
        if self.down is not None:
            return web.json_response({"detail": "unavailable"}, status=self.down)
        for hook in self.hooks:
            answer = hook(request.method, path, body)
            if answer is not None:
                return answer
        return await self._route(request.method, path, request.query, body)

    async def _route(self, method: str, path: str, query: Any, body: Any) -> web.Response:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "v1/events/batch/":
            if not isinstance(body, list) or not body or len(body) > 100:
                return web.json_response({"detail": "expected 1..100 events"}, status=400)
            if self.before_batch is not None:
                await self.before_batch()
            self.batches.append(body)
            for event in body:
                self._accept(event)
            return web.json_response({}, status=201)
        if method == "POST" and path == "v1/events/":
            self._accept(body)
            return web.json_response({}, status=201)
        if method == "GET" and path == "v1/version/":
            return web.json_response({"version": self.version, "deploymentDate": "2026-01-01T00:00:00Z"})
        if method == "GET" and parts[:2] == ["v1", "users"] and len(parts) == 3:
            user = self.users.get(parts[2])
            if user is None:
                return web.json_response({"detail": "user not found"}, status=404)
            return web.json_response(user)
        if method == "GET" and parts[:2] == ["v1", "ratings"] and parts[3:] == ["top"]:
            entries = self.ratings.get(parts[2])
            if entries is None:
                return web.json_response({"detail": "rating not found"}, status=404)
            ordered = sorted(entries, key=lambda e: e["position"], reverse=query.get("sort") == "DESC")
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
            return web.json_response(ordered[offset : offset + limit])
        if method == "GET" and parts[:2] == ["v1", "challenges"] and parts[3:] == ["top"]:
            entries = self.challenges.get(parts[2])
            if entries is None:
                return web.json_response({"detail": "challenge not found"}, status=404)
            return web.json_response(entries[: int(query.get("limit", 10))])
        if method == "GET" and path == "v1/notifications/unread/":
            items = list(self.unread)
            if not self.keep_unread:
                self.unread.clear()
            return web.json_response(items)
        return web.json_response({"detail": f"no route {method} {path}"}, status=404)

    def _accept(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        key = event.get("idempotenceKey")
        if key is not None:
            if key in self.keys:
                return
            self.keys.add(key)
        self.counted.append(event)
