"""Linking an external account with OAuth2 authorization code + PKCE (issue 9, from the DodoIS seed).

/link makes a PKCE verifier and a `state` bound to the user, kept for a day (Redis, or the database);
the provider redirects the browser to our callback with `code` + `state`; the code is exchanged with
the verifier, the tokens are stored encrypted, userinfo is read, and a verified phone signs the user
in exactly as a shared contact does. Tokens are refreshed before they expire.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
from cryptography.fernet import Fernet, InvalidToken
from redis.asyncio import Redis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import DomainError, OAuthFailed, OAuthNotLinked, OAuthStateInvalid
from services.signin import SignInResult, SignInService
from storage.models import OAuthLink, OAuthState, User

VERIFIER_TTL = timedelta(days=1)
REFRESH_AHEAD = timedelta(minutes=5)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge): 86 unreserved characters from a secure random source."""
    verifier = secrets.token_urlsafe(64)  # 64 bytes -> 86 characters, within RFC 7636's 43..128
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def fernet_for(secret: str) -> Fernet:
    """A Fernet key from any secret (a Fernet key is used as is; anything else is hashed into one)."""
    try:
        return Fernet(secret.encode())
    except ValueError:
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


@dataclass(frozen=True)
class OAuthConfig:
    authorize_url: str
    token_url: str
    userinfo_url: str | None
    revoke_url: str | None
    client_id: str
    client_secret: str | None
    redirect_url: str
    scopes: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_in: float | None


class ProviderRefused(Exception):
    """The provider answered 4xx (invalid_grant, invalid_client, ...): retrying will not help."""


class ProviderDown(Exception):
    """Timeout, network error or 5xx: try again later."""


class OAuthClient:
    def __init__(self, config: OAuthConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http

    async def _post(self, url: str, data: dict[str, str], *, answer: bool = True) -> dict[str, Any]:
        try:
            if self.config.client_secret:  # client_secret_basic
                response = await self.http.post(url, data=data, auth=(self.config.client_id, self.config.client_secret))
            else:
                response = await self.http.post(url, data=data)
        except httpx.HTTPError as exc:
            raise ProviderDown(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise ProviderDown(f"{response.status_code} from {url}")
        if response.status_code >= 400:
            raise ProviderRefused(f"{response.status_code}: {response.text[:300]}")
        if not answer:
            return {}
        try:
            return dict(response.json())
        except ValueError as exc:
            raise ProviderRefused(f"not JSON from {url}") from exc

    @staticmethod
    def _tokens(answer: dict[str, Any]) -> Tokens:
        if not answer.get("access_token"):
            raise ProviderRefused("no access_token in the answer")
        expires = answer.get("expires_in")
        return Tokens(str(answer["access_token"]), answer.get("refresh_token"), float(expires) if expires else None)

    async def exchange(self, code: str, verifier: str) -> Tokens:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_url,
            "client_id": self.config.client_id,
            "code_verifier": verifier,
        }
        return self._tokens(await self._post(self.config.token_url, data))

    async def refresh(self, refresh_token: str) -> Tokens:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.config.client_id}
        return self._tokens(await self._post(self.config.token_url, data))

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        if not self.config.userinfo_url:
            return {}
        try:
            response = await self.http.get(
                self.config.userinfo_url, headers={"Authorization": f"Bearer {access_token}"}
            )
        except httpx.HTTPError as exc:
            raise ProviderDown(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise ProviderDown(f"{response.status_code} from userinfo")
        if response.status_code >= 400:
            raise ProviderRefused(f"userinfo {response.status_code}")
        return dict(response.json())

    async def revoke(self, token: str) -> None:
        if self.config.revoke_url:
            await self._post(self.config.revoke_url, {"token": token, "client_id": self.config.client_id}, answer=False)


class VerifierStore(Protocol):
    async def put(self, state: str, user_id: int, verifier: str) -> None: ...

    async def take(self, state: str) -> tuple[int, str] | None:
        """The user and verifier of `state`, once: a second take (a replayed state) gets None."""
        ...


class RedisVerifierStore:
    def __init__(self, redis: Redis, prefix: str, ttl: timedelta = VERIFIER_TTL) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl

    async def put(self, state: str, user_id: int, verifier: str) -> None:
        value = json.dumps({"user_id": user_id, "verifier": verifier})
        await self.redis.set(f"{self.prefix}:oauth:{state}", value, ex=int(self.ttl.total_seconds()))

    async def take(self, state: str) -> tuple[int, str] | None:
        raw = await self.redis.getdel(f"{self.prefix}:oauth:{state}")
        if raw is None:
            return None
        value = json.loads(raw)
        return int(value["user_id"]), str(value["verifier"])


class DbVerifierStore:
    """Without Redis: a row per state, deleted when used, ignored once expired."""

    def __init__(self, session: AsyncSession, clock: Clock, ttl: timedelta = VERIFIER_TTL) -> None:
        self.session = session
        self.clock = clock
        self.ttl = ttl

    async def put(self, state: str, user_id: int, verifier: str) -> None:
        now = self.clock.now()
        await self.session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
        self.session.add(OAuthState(state=state, user_id=user_id, verifier=verifier, expires_at=now + self.ttl))
        await self.session.flush()

    async def take(self, state: str) -> tuple[int, str] | None:
        row = await self.session.scalar(select(OAuthState).where(OAuthState.state == state).with_for_update())
        if row is None:
            return None
        await self.session.delete(row)
        await self.session.flush()
        if row.expires_at <= self.clock.now():
            return None
        return row.user_id, row.verifier


@dataclass(frozen=True)
class Linked:
    user: User
    name: str | None
    phone: str | None
    signin: SignInResult | None = None
    signin_error: DomainError | None = None


@dataclass(frozen=True)
class Unlinked:
    user: User
    reason: str


class OAuthService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        config: OAuthConfig,
        client: OAuthClient,
        store: VerifierStore,
        cipher: Fernet,
        signin: SignInService,
    ) -> None:
        self.session = session
        self.clock = clock
        self.config = config
        self.client = client
        self.store = store
        self.cipher = cipher
        self.signin = signin

    async def start_link(self, user: User) -> str:
        """The provider's authorize URL for this user (a fresh state and PKCE pair)."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        await self.store.put(state, user.id, verifier)
        query = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_url,
            "scope": self.config.scopes,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in self.config.authorize_url else "?"
        return f"{self.config.authorize_url}{separator}{urlencode(query)}"

    async def user_of(self, state: str) -> tuple[User, str]:
        """The user and verifier behind a callback's state (once only). Raises OAuthStateInvalid."""
        taken = await self.store.take(state) if state else None
        user = await self.session.get(User, taken[0]) if taken else None
        if taken is None or user is None:
            raise OAuthStateInvalid()
        return user, taken[1]

    async def complete(self, user: User, verifier: str, code: str) -> Linked:
        """Exchange the code, store the tokens, read userinfo; a verified phone signs the user in.
        Raises OAuthFailed (nothing is stored then)."""
        try:
            tokens = await self.client.exchange(code, verifier)
            info = await self.client.userinfo(tokens.access_token)
        except (ProviderRefused, ProviderDown) as exc:
            raise OAuthFailed(reason=str(exc)[:200]) from exc
        now = self.clock.now()
        name = info.get("name") or " ".join(p for p in (info.get("given_name"), info.get("family_name")) if p) or None
        link = await self.session.get(OAuthLink, user.id) or OAuthLink(user_id=user.id, linked_at=now)
        link.subject = str(info["sub"])[:255] if info.get("sub") else None
        link.name = str(name)[:255] if name else None
        self._store_tokens(link, tokens, now)
        self.session.add(link)
        await self.session.flush()
        phone = info.get("phone_number")
        result = Linked(user, link.name, phone if isinstance(phone, str) else None)
        if isinstance(phone, str) and info.get("phone_number_verified") is True:
            try:
                async with self.session.begin_nested():
                    result = Linked(
                        user, link.name, phone, signin=await self.signin.sign_in_with_verified_phone(user, phone)
                    )
            except DomainError as exc:
                result = Linked(user, link.name, phone, signin_error=exc)
        return result

    def _store_tokens(self, link: OAuthLink, tokens: Tokens, now: datetime) -> None:
        link.access_token = self.cipher.encrypt(tokens.access_token.encode()).decode()
        if tokens.refresh_token:
            link.refresh_token = self.cipher.encrypt(tokens.refresh_token.encode()).decode()
        link.expires_at = now + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None

    def access_token(self, link: OAuthLink) -> str:
        return self.cipher.decrypt(link.access_token.encode()).decode()

    async def link_of(self, user: User) -> OAuthLink | None:
        return await self.session.get(OAuthLink, user.id)

    async def refresh_due(self) -> tuple[int, list[Unlinked]]:
        """Refresh tokens that expire soon; a refused refresh unlinks (returned, to tell the user)."""
        now = self.clock.now()
        due = await self.session.scalars(
            select(OAuthLink).where(OAuthLink.expires_at.is_not(None), OAuthLink.expires_at <= now + REFRESH_AHEAD)
        )
        refreshed, unlinked = 0, []
        for link in list(due):
            user = await self.session.get(User, link.user_id)
            try:
                if not link.refresh_token:
                    raise ProviderRefused("no refresh token")
                token = self.cipher.decrypt(link.refresh_token.encode()).decode()
                self._store_tokens(link, await self.client.refresh(token), now)
                link.refreshed_at = now
                refreshed += 1
            except ProviderDown:
                continue  # next run
            except (ProviderRefused, InvalidToken) as exc:
                await self.session.delete(link)
                if user is not None:
                    unlinked.append(Unlinked(user, str(exc)[:200]))
        await self.session.flush()
        return refreshed, unlinked

    async def unlink(self, user: User) -> None:
        link = await self.session.get(OAuthLink, user.id)
        if link is None:
            raise OAuthNotLinked()
        for encrypted in (link.refresh_token, link.access_token):
            if encrypted:
                with contextlib.suppress(ProviderRefused, ProviderDown, InvalidToken):  # deleted here either way
                    await self.client.revoke(self.cipher.decrypt(encrypted.encode()).decode())
        await self.session.delete(link)
        await self.session.flush()
