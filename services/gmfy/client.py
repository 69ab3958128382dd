"""An async GMFY client on httpx (wire format in shared/GMFY.md). Not the `gmfy` package.

Every path lives in `PATHS`, so a correction is one line. Errors follow one rule set:
5xx, 429, timeouts and connection errors raise `GmfyTransientError` (retry later; `retry_after`
from a 429's Retry-After), any other 4xx raises `GmfyPermanentError` carrying the answer body.
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

PATHS: dict[str, str] = {
    "event": "v1/events/",
    "events_batch": "v1/events/batch/",
    "payments": "v1/payments/",
    "payment_resend_code": "v1/payments/{payment_id}/resend-code/",
    "payment": "v1/payments/{payment_id}/",
    "users": "v1/users/",
    "user": "v1/users/{user_id}/",
    "badges": "v1/badges/{user_id}/",
    "rating_top": "v1/ratings/{rating_id}/top/",
    "challenge_top": "v1/challenges/{challenge_id}/top/",
    "notifications": "v1/notifications/",
    "user_notifications": "v1/notifications/{user_id}/",
    "unread_notifications": "v1/notifications/unread/",
    "user_unread_notifications": "v1/notifications/unread/{user_id}/",
    "version": "v1/version/",
}

DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_BATCH = 100
BODY_KEEP = 2000


# ---------------------------------------------------------------- errors


class GmfyError(Exception):
    """Any failure talking to GMFY."""

    def __init__(self, message: str, *, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body

    def describe(self) -> str:
        """One line for logs, the outbox `last_error` and the admin status."""
        head = f"HTTP {self.status}" if self.status is not None else type(self).__name__
        tail = f": {self.body}" if self.body else f": {self.args[0]}" if self.args else ""
        return (head + tail)[:BODY_KEEP]


class GmfyTransientError(GmfyError):
    """5xx, 429, timeout or connection failure: the same request may succeed later."""

    def __init__(
        self, message: str, *, status: int | None = None, body: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class GmfyPermanentError(GmfyError):
    """A 4xx other than 429 (or an answer we cannot read): repeating the request will not help."""


# ---------------------------------------------------------------- models


class WireModel(BaseModel):
    """snake_case in Python, camelCase on the wire; unknown answer fields are kept, not refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Event(WireModel):
    """A classic event (`userId`, `type`), an action event (`type` = `create_x`), or a unique one (with a key)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    user_id: str
    type: str
    idempotence_key: str | None = None

    @classmethod
    def action(cls, user_id: str, action: Literal["create", "remove"], type_: str) -> Event:
        return cls(user_id=user_id, type=f"{action}_{type_}")


class Amount(WireModel):
    value: Decimal
    currency: str


class Confirmation(WireModel):
    return_url: str


class PaymentRequest(WireModel):
    amount: Amount
    confirmation: Confirmation
    user_id: str
    description: str
    locale: Literal["RU", "EN"] = "RU"


class PaymentCreated(WireModel):
    id: str
    client_id: str | None = None
    status: str | None = None
    confirmation_url: str | None = None


class PaymentInfo(WireModel):
    id: str
    client_id: str | None = None
    value: Decimal | None = None
    return_url: str | None = None
    description: str | None = None
    currency: str | None = None
    status: str | None = None
    locale: str | None = None
    expires_in: int | None = None


class UserRating(WireModel):
    user_id: str
    client_id: str | None = None
    rating_id: str | None = None
    name: str | None = None
    value: float = 0
    meta_info: dict[str, Any] | None = None
    position: int | None = None


class PassedStep(WireModel):
    challenge_step_id: str | None = None
    order: int | None = None
    weight: float | None = None
    date_complete: datetime | None = None


class UserChallenge(WireModel):
    user_id: str
    challenge_id: str | None = None
    client_id: str | None = None
    progress: float = 0
    passed_steps: list[PassedStep] = Field(default_factory=list)
    meta_info: dict[str, Any] | None = None
    name: str | None = None


class UserBadge(WireModel):
    user_id: str | None = None
    badge_id: str | None = None
    client_id: str | None = None
    acquisition_date: datetime | None = None
    meta_info: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None
    permanent: bool | None = None
    count: int | None = None


class UserFeature(WireModel):
    user_id: str | None = None
    feature_id: str | None = None
    client_id: str | None = None
    access_date: datetime | None = None
    meta_info: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None


class AccountBalance(WireModel):
    user_id: str | None = None
    client_id: str | None = None
    resource_key: str
    amount: float = 0


class GmfyUser(WireModel):
    user_id: str
    client_id: str | None = None
    user_ratings: list[UserRating] = Field(default_factory=list)
    user_challenges: list[UserChallenge] = Field(default_factory=list)
    user_badges: list[UserBadge] = Field(default_factory=list)
    user_features: list[UserFeature] = Field(default_factory=list)
    user_account_balances: list[AccountBalance] = Field(default_factory=list)


class Notification(WireModel):
    user_id: str
    client_id: str | None = None
    message: str


class ApiVersion(WireModel):
    version: str
    deployment_date: datetime | None = None


M = TypeVar("M")


# ---------------------------------------------------------------- client


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


class GmfyClient:
    """One long-lived client per process; `close()` at shutdown."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        verify: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"x-api-key": api_key, "Content-Type": "application/json", "Accept": "application/json"},
            timeout=timeout,
            verify=verify,
            transport=transport,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GmfyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- transport

    @staticmethod
    def path(name: str, **params: str) -> str:
        return PATHS[name].format(**{key: quote(str(value), safe="") for key, value in params.items()})

    async def _request(
        self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        try:
            response = await self._http.request(method, path, content=content, params=params)
        except httpx.TimeoutException as exc:
            raise GmfyTransientError(f"timeout: {exc!r}") from exc
        except httpx.TransportError as exc:  # connection refused/reset, DNS, TLS, protocol
            raise GmfyTransientError(f"connection: {exc!r}") from exc
        status = response.status_code
        if status < 400:
            return response
        text = response.text[:BODY_KEEP]
        if status == 429:
            raise GmfyTransientError(
                "rate limited",
                status=status,
                body=text,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status >= 500:
            raise GmfyTransientError("server error", status=status, body=text)
        raise GmfyPermanentError("refused", status=status, body=text)

    @staticmethod
    def _parse(response: httpx.Response, adapter: TypeAdapter[M]) -> M:
        try:
            return adapter.validate_json(response.content)
        except ValidationError as exc:
            raise GmfyPermanentError(
                f"unexpected answer: {exc.error_count()} errors", status=response.status_code, body=response.text[:500]
            ) from exc

    # -- events

    async def create_event(self, event: Event) -> None:
        await self._request("POST", self.path("event"), body=event.wire())

    async def create_batch_events(self, events: list[Event]) -> None:
        if len(events) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} events per batch")
        await self._request("POST", self.path("events_batch"), body=[event.wire() for event in events])

    # -- payments

    async def create_payment(self, payment: PaymentRequest) -> PaymentCreated:
        response = await self._request("POST", self.path("payments"), body=payment.wire())
        return self._parse(response, _PAYMENT_CREATED)

    async def resend_payment_code(self, payment_id: str) -> PaymentInfo | None:
        response = await self._request("POST", self.path("payment_resend_code", payment_id=payment_id))
        if not response.content.strip():
            return None
        return self._parse(response, _PAYMENT_INFO)

    async def get_payment(self, payment_id: str) -> PaymentInfo:
        return self._parse(await self._request("GET", self.path("payment", payment_id=payment_id)), _PAYMENT_INFO)

    # -- users, badges, tops

    async def get_users(self) -> list[GmfyUser]:
        return self._parse(await self._request("GET", self.path("users")), _USERS)

    async def get_user(self, user_id: str) -> GmfyUser:
        response = await self._request("GET", self.path("user", user_id=user_id))
        data = self._parse(response, _USER_OR_LIST)
        if isinstance(data, list):  # some deployments answer a one-item list
            if not data:
                raise GmfyPermanentError("no such user", status=404, body=response.text[:500])
            return data[0]
        return data

    async def get_user_badges(self, user_id: str) -> list[UserBadge]:
        return self._parse(await self._request("GET", self.path("badges", user_id=user_id)), _BADGES)

    async def get_rating_top(
        self, rating_id: str, *, offset: int = 0, limit: int = 10, sort: Literal["ASC", "DESC"] = "ASC"
    ) -> list[UserRating]:
        params = {"offset": offset, "limit": limit, "sort": sort}
        response = await self._request("GET", self.path("rating_top", rating_id=rating_id), params=params)
        return self._parse(response, _RATINGS)

    async def get_challenge_top(self, challenge_id: str, *, limit: int = 10) -> list[UserChallenge]:
        response = await self._request(
            "GET", self.path("challenge_top", challenge_id=challenge_id), params={"limit": limit}
        )
        return self._parse(response, _CHALLENGES)

    # -- notifications

    async def get_notifications(self, user_id: str | None = None) -> list[Notification]:
        path = self.path("user_notifications", user_id=user_id) if user_id else self.path("notifications")
        return self._parse(await self._request("GET", path), _NOTIFICATIONS)

    async def get_unread_notifications(self, user_id: str | None = None) -> list[Notification]:
        path = self.path("user_unread_notifications", user_id=user_id) if user_id else self.path("unread_notifications")
        return self._parse(await self._request("GET", path), _NOTIFICATIONS)

    # -- version

    async def get_version(self) -> ApiVersion:
        return self._parse(await self._request("GET", self.path("version")), _VERSION)


_PAYMENT_CREATED = TypeAdapter(PaymentCreated)
_PAYMENT_INFO = TypeAdapter(PaymentInfo)
_USERS = TypeAdapter(list[GmfyUser])
_USER_OR_LIST: TypeAdapter[GmfyUser | list[GmfyUser]] = TypeAdapter(GmfyUser | list[GmfyUser])
_BADGES = TypeAdapter(list[UserBadge])
_RATINGS = TypeAdapter(list[UserRating])
_CHALLENGES = TypeAdapter(list[UserChallenge])
_NOTIFICATIONS = TypeAdapter(list[Notification])
_VERSION = TypeAdapter(ApiVersion)
