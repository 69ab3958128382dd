"""Linking an external account with OAuth2 authorization code + PKCE (issue 9; login CSRF fixed in issue 23).

The flow is bound to the browser that finishes it, not only to the Telegram user who asked:

1. /link makes a `state` and a PKCE verifier for the user (kept briefly: Redis, or the database) and
   gives a button to our own `/oauth/start` with a signed, short-lived token naming that state.
2. `/oauth/start` accepts a token once: it binds the state to a fresh random browser cookie (only its
   hash is stored) and redirects to the provider.
3. The callback takes the state only together with the cookie of the browser it was bound to, so an
   attacker's authorize link finished in a victim's browser changes nothing.
4. The code is exchanged with the verifier, the tokens are stored encrypted (MultiFernet, key
   rotation) and userinfo is read. Nothing of it is told in Telegram yet: the browser gets a
   `t.me/<bot>?start=oc_<nonce>` link, and only the Telegram account that ran /link, opening it,
   is shown the provider's name and phone (`reveal`). Whoever holds the /link button's link can
   make anyone's browser finish the flow (the button's link is a bearer token, whoever opens it
   first gets the cookie), but only the browser learns the nonce: the /link user's "yes" alone can
   never apply a stranger's provider account.
5. A verified phone does not sign anyone in yet: the user confirms in Telegram first (a single-use,
   short-lived button), and only then is it bound as a shared contact is.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from redis.asyncio import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import (
    DomainError,
    OAuthConfirmInvalid,
    OAuthFailed,
    OAuthFinishInvalid,
    OAuthNotLinked,
    OAuthStateInvalid,
)
from services.phones import normalize_phone
from services.signin import SignInResult, SignInService, TakeoverRequested
from storage.db import upsert
from storage.models import OAuthLink, OAuthState, User

START_TTL = timedelta(minutes=10)  # the /link button: from /link to /oauth/start
LOGIN_TTL = timedelta(minutes=15)  # from /oauth/start to the callback (the login at the provider)
CONFIRM_TTL = timedelta(minutes=15)  # the "finish in Telegram" link, then the "sign in with this phone?" buttons
FINISH_PREFIX = "oc_"  # the deep link (`/start oc_<nonce>`) that finishes a link in Telegram
REFRESH_AHEAD = timedelta(minutes=5)
KEY_BYTES = 32
MIN_DISTINCT_KEY_BYTES = 12  # 32 random bytes have about 30 distinct values; "AAAA..." has 1
KEY_HELP = (
    "expected one or more Fernet keys separated by commas (32 random bytes, urlsafe base64); make one with "
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge): 86 unreserved characters from a secure random source."""
    verifier = secrets.token_urlsafe(64)  # 64 bytes -> 86 characters, within RFC 7636's 43..128
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def browser_hash(cookie: str) -> str:
    """What is stored of a browser's cookie: its hash (a database dump does not give the cookie)."""
    return hashlib.sha256(cookie.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class TokenKeys:
    """OAUTH_TOKEN_KEY: Fernet keys, the first encrypts and signs, every one decrypts and verifies
    (rotation: put a new key first, keep the old ones after it until the stored tokens are refreshed)."""

    keys: tuple[bytes, ...]

    @classmethod
    def parse(cls, value: str) -> TokenKeys:
        """Raises ValueError (with what is expected) for a weak, short or malformed key."""
        keys = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            try:
                raw = base64.urlsafe_b64decode(part.encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                raise ValueError(KEY_HELP) from None
            if len(raw) != KEY_BYTES or base64.urlsafe_b64encode(raw).decode() != part:
                raise ValueError(KEY_HELP)
            if len(set(raw)) < MIN_DISTINCT_KEY_BYTES:
                raise ValueError("a key is not random enough; " + KEY_HELP)
            keys.append(raw)
        if not keys:
            raise ValueError(KEY_HELP)
        return cls(tuple(keys))

    def cipher(self) -> MultiFernet:
        return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in self.keys])

    @staticmethod
    def _signing_key(key: bytes) -> bytes:
        # A key of its own for signing /oauth/start tokens, derived so it is never the Fernet key itself.
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"oauth-start-token").derive(key)

    def sign(self, payload: str) -> str:
        return _b64(hmac.digest(self._signing_key(self.keys[0]), payload.encode(), "sha256"))

    def verify(self, payload: str, signature: str) -> bool:
        return any(
            hmac.compare_digest(
                _b64(hmac.digest(self._signing_key(key), payload.encode(), "sha256")).encode(), signature.encode()
            )
            for key in self.keys
        )


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


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The answer as a JSON object; anything else (an HTML error page, a list) is a refusal."""
    try:
        answer = response.json()
    except ValueError as exc:
        raise ProviderRefused(f"not JSON from {what}") from exc
    if not isinstance(answer, dict):
        raise ProviderRefused(f"not a JSON object from {what}")
    return answer


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
        return json_object(response, url)

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
        return json_object(response, "userinfo")

    async def revoke(self, token: str) -> None:
        if self.config.revoke_url:
            await self._post(self.config.revoke_url, {"token": token, "client_id": self.config.client_id}, answer=False)


class FlowStore(Protocol):
    """The pending /link flows: each state is started by one browser, once, and finished by that browser, once."""

    async def put(self, state: str, user_id: int, verifier: str) -> None: ...

    async def bind(self, state: str, browser: str) -> tuple[int, str] | None:
        """Bind the state to a browser (a cookie's hash), once: the user and verifier, or None when the
        state is unknown, expired or already started."""
        ...

    async def take(self, state: str, browser: str) -> tuple[int, str] | None:
        """The user and verifier, once, and only for the browser it was bound to; for any other browser
        None, and the state is left to its own."""
        ...


class RedisFlowStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def _key(self, state: str) -> str:
        return f"{self.prefix}:oauth:{state}"

    def _browser_key(self, state: str) -> str:
        return f"{self.prefix}:oauth-browser:{state}"

    async def put(self, state: str, user_id: int, verifier: str) -> None:
        value = json.dumps({"user_id": user_id, "verifier": verifier})
        await self.redis.set(self._key(state), value, ex=int(START_TTL.total_seconds()))

    async def bind(self, state: str, browser: str) -> tuple[int, str] | None:
        ttl = int(LOGIN_TTL.total_seconds())
        if not await self.redis.set(self._browser_key(state), browser, nx=True, ex=ttl):
            return None  # started already
        raw = await self.redis.get(self._key(state))
        if raw is None:
            return None
        await self.redis.expire(self._key(state), ttl)
        value = json.loads(raw)
        return int(value["user_id"]), str(value["verifier"])

    async def take(self, state: str, browser: str) -> tuple[int, str] | None:
        bound = await self.redis.get(self._browser_key(state))
        if isinstance(bound, str):
            bound = bound.encode()
        if bound is None or not hmac.compare_digest(bound, browser.encode()):
            return None
        raw = await self.redis.getdel(self._key(state))
        await self.redis.delete(self._browser_key(state))
        if raw is None:
            return None
        value = json.loads(raw)
        return int(value["user_id"]), str(value["verifier"])


class DbFlowStore:
    """Without Redis: a row per state, deleted when used, ignored once expired."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def put(self, state: str, user_id: int, verifier: str) -> None:
        now = self.clock.now()
        await self.session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
        self.session.add(OAuthState(state=state, user_id=user_id, verifier=verifier, expires_at=now + START_TTL))
        await self.session.flush()

    async def bind(self, state: str, browser: str) -> tuple[int, str] | None:
        now = self.clock.now()
        bound = await self.session.execute(
            update(OAuthState)
            .where(OAuthState.state == state, OAuthState.browser.is_(None), OAuthState.expires_at > now)
            .values(browser=browser, expires_at=now + LOGIN_TTL)
            .execution_options(synchronize_session=False)
        )
        if getattr(bound, "rowcount", 0) != 1:  # another request bound it first, or no such state
            return None
        row = (
            await self.session.execute(select(OAuthState.user_id, OAuthState.verifier).where(OAuthState.state == state))
        ).one()
        return row.user_id, row.verifier

    async def take(self, state: str, browser: str) -> tuple[int, str] | None:
        row = await self.session.scalar(select(OAuthState).where(OAuthState.state == state).with_for_update())
        if row is None or row.browser is None or not hmac.compare_digest(row.browser.encode(), browser.encode()):
            return None
        await self.session.delete(row)
        await self.session.flush()
        if row.expires_at <= self.clock.now():
            return None
        return row.user_id, row.verifier


@dataclass(frozen=True)
class PhoneToConfirm:
    """A provider-verified phone waiting for the user's "yes" in Telegram."""

    nonce: str
    phone: str
    takes_over: bool  # the phone belongs to another account: yes moves that account here


@dataclass(frozen=True)
class Linked:
    user: User
    name: str | None
    phone: str | None
    confirm: PhoneToConfirm | None = None
    phone_error: DomainError | None = None
    finish: str | None = None  # the nonce of the browser's "finish in Telegram" link (`complete` only)


@dataclass(frozen=True)
class Confirmed:
    """The answer to a phone confirmation: the sign-in (None when declined) or why it failed."""

    signin: SignInResult | None = None
    error: DomainError | None = None
    takeover: TakeoverRequested | None = None  # the phone's account is on another Telegram account: it is asked


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
        store: FlowStore,
        keys: TokenKeys,
        signin: SignInService,
        *,
        start_url: str,
        default_region: str = "RU",
    ) -> None:
        self.session = session
        self.clock = clock
        self.config = config
        self.client = client
        self.store = store
        self.keys = keys
        self.cipher = keys.cipher()
        self.signin = signin
        self.start_url = start_url
        self.default_region = default_region

    async def start_link(self, user: User) -> str:
        """The URL of our /oauth/start for this user: a fresh state and PKCE pair, and a signed token
        that works once and for START_TTL."""
        verifier, _challenge = pkce_pair()
        state = secrets.token_urlsafe(32)
        await self.store.put(state, user.id, verifier)
        expires = int((self.clock.now() + START_TTL).timestamp())
        payload = f"{state}.{expires}"
        separator = "&" if "?" in self.start_url else "?"
        return f"{self.start_url}{separator}{urlencode({'t': f'{payload}.{self.keys.sign(payload)}'})}"

    async def begin(self, token: str, browser: str) -> str:
        """/oauth/start: check the token, bind its state to this browser (once) and give the provider's
        authorize URL. Raises OAuthStateInvalid (forged, expired or used token)."""
        state, _, rest = token.partition(".")
        expires, _, signature = rest.partition(".")
        if not (state and expires.isdigit() and signature) or not self.keys.verify(f"{state}.{expires}", signature):
            raise OAuthStateInvalid()
        if int(expires) <= self.clock.now().timestamp():
            raise OAuthStateInvalid()
        bound = await self.store.bind(state, browser)
        if bound is None:
            raise OAuthStateInvalid()
        query = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_url,
            "scope": self.config.scopes,
            "state": state,
            "code_challenge": s256(bound[1]),
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in self.config.authorize_url else "?"
        return f"{self.config.authorize_url}{separator}{urlencode(query)}"

    async def user_of(self, state: str, browser: str | None) -> tuple[User, str]:
        """The user and verifier behind a callback's state, once, for the browser that started it.
        Raises OAuthStateInvalid (unknown, used, expired, or another browser: nothing is used up then)."""
        taken = await self.store.take(state, browser) if state and browser else None
        user = await self.session.get(User, taken[0]) if taken else None
        if taken is None or user is None:
            raise OAuthStateInvalid()
        return user, taken[1]

    async def complete(self, user: User, verifier: str, code: str) -> Linked:
        """Exchange the code, store the tokens, read userinfo. Nothing of the provider's account is for
        Telegram yet: the returned `finish` nonce goes to the browser only, and `reveal` shows the
        account to the Telegram user who opens it from there. A verified phone is kept for the user's
        confirmation (`confirm_phone`), never applied here. Raises OAuthFailed (nothing is stored then)."""
        try:
            tokens = await self.client.exchange(code, verifier)
            info = await self.client.userinfo(tokens.access_token)
        except (ProviderRefused, ProviderDown) as exc:
            raise OAuthFailed(reason=str(exc)[:200]) from exc
        now = self.clock.now()
        name = info.get("name") or " ".join(str(p) for p in (info.get("given_name"), info.get("family_name")) if p)
        # The row made if absent, then read locked: two /link flows of one user finished at once (two
        # browser tabs, two instances) would both find none and both insert (the second failing on the
        # key); now the second waits for the first and stores its tokens over them.
        await self.session.execute(
            upsert(self.session, OAuthLink)
            .values(user_id=user.id, access_token="", linked_at=now)
            .on_conflict_do_nothing(index_elements=[OAuthLink.user_id])
        )
        link = await self.session.get(OAuthLink, user.id, with_for_update=True, populate_existing=True)
        assert link is not None
        link.subject = str(info["sub"])[:255] if info.get("sub") else None
        link.name = str(name)[:255] if name else None
        self._store_tokens(link, tokens, now)
        link.pending_phone = None
        link.pending_nonce = nonce = secrets.token_urlsafe(16)
        link.pending_expires_at = now + CONFIRM_TTL
        phone = info.get("phone_number")
        if not isinstance(phone, str):
            await self.session.flush()
            return Linked(user, link.name, None, finish=nonce)
        if info.get("phone_number_verified") is not True:
            await self.session.flush()
            return Linked(user, link.name, phone, finish=nonce)
        try:
            phone = normalize_phone(phone, self.default_region, international=True)
        except DomainError as exc:
            await self.session.flush()
            return Linked(user, link.name, phone, phone_error=exc, finish=nonce)
        if user.phone == phone:  # signed in with it already: nothing to confirm
            await self.session.flush()
            return Linked(user, link.name, phone, finish=nonce)
        link.pending_phone = self.cipher.encrypt(phone.encode()).decode()
        await self.session.flush()
        return Linked(user, link.name, phone, finish=nonce)

    async def reveal(self, user: User, nonce: str) -> Linked:
        """The Telegram user opened the browser's "finish in Telegram" link: the linked account (name, and
        the verified phone to confirm, if any) for them, and only for the user whose /link it was. Raises
        OAuthFinishInvalid for anyone else (the browser was someone else's, or the link is old or used)."""
        link = await self.session.get(OAuthLink, user.id, with_for_update=True)
        if (
            link is None
            or not link.pending_nonce
            or link.pending_expires_at is None
            or not hmac.compare_digest(link.pending_nonce.encode(), nonce.encode())  # bytes: any forged text
            or link.pending_expires_at <= self.clock.now()
        ):
            raise OAuthFinishInvalid()
        if link.pending_phone is None:  # nothing left to confirm: the link works once
            link.pending_nonce = link.pending_expires_at = None
            await self.session.flush()
            return Linked(user, link.name, None)
        try:
            phone = self.cipher.decrypt(link.pending_phone.encode()).decode()
        except InvalidToken:
            raise OAuthFinishInvalid() from None
        owner = await self.session.scalar(select(User.id).where(User.phone == phone))
        return Linked(user, link.name, phone, confirm=PhoneToConfirm(nonce, phone, takes_over=owner is not None))

    async def confirm_phone(self, user: User, nonce: str, *, yes: bool) -> Confirmed:
        """The user's answer to "sign in with this verified phone?": works once, for the user it was
        asked of, within CONFIRM_TTL. Raises OAuthConfirmInvalid (anything else: nothing changes)."""
        link = await self.session.get(OAuthLink, user.id, with_for_update=True)
        if (
            link is None
            or not link.pending_nonce
            or link.pending_phone is None
            or link.pending_expires_at is None
            or not hmac.compare_digest(link.pending_nonce.encode(), nonce.encode())  # bytes: any forged text
            or link.pending_expires_at <= self.clock.now()
        ):
            raise OAuthConfirmInvalid()
        try:
            phone = self.cipher.decrypt(link.pending_phone.encode()).decode()
        except InvalidToken:
            raise OAuthConfirmInvalid() from None
        link.pending_phone = link.pending_nonce = link.pending_expires_at = None
        await self.session.flush()
        if not yes:
            return Confirmed()
        try:
            async with self.session.begin_nested():
                signed = await self.signin.sign_in_with_verified_phone(user, phone)
        except DomainError as exc:
            return Confirmed(error=exc)
        if isinstance(signed, TakeoverRequested):
            return Confirmed(takeover=signed)
        if signed.user.id != user.id:  # the Telegram account now holds another account: the link goes with it
            previous = await self.session.get(OAuthLink, signed.user.id)
            if previous is not None:
                await self.session.delete(previous)
                await self.session.flush()
            link.user_id = signed.user.id
            await self.session.flush()
        return Confirmed(signin=signed)

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
                self._store_tokens(link, await self.client.refresh(token), now)  # new tokens: the current key
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
