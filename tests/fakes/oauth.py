"""A fake OAuth2 / OpenID Connect provider (aiohttp, in the test process) that checks PKCE itself."""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

CLIENT_ID = "bot-client"
CLIENT_SECRET = "bot-secret"


def recompute_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class FakeProvider:
    claims: dict[str, Any] = field(default_factory=dict)
    expires_in: int = 3600
    down: int | None = None  # answer every token request with this status
    userinfo_text: str | None = None  # answer userinfo with this body (200, text/html) instead of the claims
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    access: set[str] = field(default_factory=set)
    refresh: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _n: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        app.router.add_get("/userinfo", self.userinfo)
        app.router.add_post("/revoke", self.revoke)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if (
            q.get("response_type") != "code"
            or q.get("client_id") != CLIENT_ID
            or q.get("code_challenge_method") != "S256"
        ):
            return web.Response(status=400, text="bad authorize request")
        code = f"code-{next(self._n)}"
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
        location = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        raise web.HTTPFound(location)

    def _issue(self) -> dict[str, Any]:
        access, refresh = f"at-{secrets.token_hex(8)}", f"rt-{secrets.token_hex(8)}"
        self.access.add(access)
        self.refresh.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in, "token_type": "Bearer"}

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        if self.down is not None:
            return web.json_response({"error": "temporarily_unavailable"}, status=self.down)
        if (
            request.headers.get("Authorization")
            != "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") == "authorization_code":
            issued = self.codes.pop(str(form.get("code")), None)
            if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
                return web.json_response({"error": "invalid_grant"}, status=400)
            if recompute_challenge(str(form.get("code_verifier", ""))) != issued["challenge"]:
                return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
            return web.json_response(self._issue())
        if form.get("grant_type") == "refresh_token":
            token = str(form.get("refresh_token"))
            if token not in self.refresh:
                return web.json_response({"error": "invalid_grant"}, status=400)
            self.refresh.discard(token)  # rotated
            return web.json_response(self._issue())
        return web.json_response({"error": "unsupported_grant_type"}, status=400)

    async def userinfo(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access:
            return web.json_response({"error": "invalid_token"}, status=401)
        if self.userinfo_text is not None:
            return web.Response(text=self.userinfo_text, content_type="text/html")
        return web.json_response(self.claims)

    async def revoke(self, request: web.Request) -> web.Response:
        token = str((await request.post()).get("token"))
        self.revoked.append(token)
        self.access.discard(token)
        self.refresh.discard(token)
        return web.Response(status=200)

    def revoke_all(self) -> None:
        self.access.clear()
        self.refresh.clear()
