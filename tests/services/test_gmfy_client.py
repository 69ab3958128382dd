"""The GMFY client against respx: every endpoint's path, headers, query and camelCase body; the error rules."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from services.gmfy.client import (
    PATHS,
    Amount,
    Confirmation,
    Event,
    GmfyClient,
    GmfyPermanentError,
    GmfyTransientError,
    PaymentRequest,
    retry_after_seconds,
)

BASE = "https://gmfy.test/api/"
KEY = "secret-key"

USER = {
    "userId": "7",
    "clientId": "c1",
    "userRatings": [
        {"userId": "7", "clientId": "c1", "ratingId": "r1", "name": "Activity", "value": 12.5, "position": 3}
    ],
    "userChallenges": [
        {
            "userId": "7",
            "challengeId": "ch1",
            "clientId": "c1",
            "progress": 40,
            "passedSteps": [
                {"challengeStepId": "s1", "order": 0, "weight": 1, "dateComplete": "2024-08-19T13:03:31.653Z"}
            ],
            "metaInfo": {"a": "b"},
            "name": "Talker",
        }
    ],
    "userBadges": [
        {
            "userId": "7",
            "badgeId": "b1",
            "clientId": "c1",
            "acquisitionDate": "2024-08-19T13:03:31.653Z",
            "name": "First post",
            "description": "d",
            "permanent": True,
            "count": 2,
        }
    ],
    "userFeatures": [],
    "userAccountBalances": [{"userId": "7", "clientId": "c1", "resourceKey": "coins", "amount": 150}],
}
PAYMENT_INFO = {
    "id": "p1",
    "clientId": "c1",
    "value": 100,
    "returnUrl": "https://t.me/bot",
    "description": "x",
    "currency": "RUB",
    "status": "CREATED",
    "locale": "RU",
    "expiresIn": 600,
}


@pytest.fixture
async def client() -> GmfyClient:
    async with GmfyClient(BASE, KEY, timeout=3) as c:
        yield c  # type: ignore[misc]


def assert_headers(request: httpx.Request) -> None:
    assert request.headers["x-api-key"] == KEY
    assert request.headers["content-type"] == "application/json"


@respx.mock
async def test_single_event_and_batch_are_camel_case(client: GmfyClient) -> None:
    one = respx.post(BASE + "v1/events/").mock(return_value=httpx.Response(201))
    batch = respx.post(BASE + "v1/events/batch/").mock(return_value=httpx.Response(201))
    await client.create_event(Event(user_id="42", type="registration"))
    await client.create_batch_events(
        [
            Event(user_id="42", type="referral", idempotence_key="referral-17"),
            Event.action("42", "create", "subscription"),
        ]
    )
    assert_headers(one.calls.last.request)
    assert json.loads(one.calls.last.request.content) == {"userId": "42", "type": "registration"}
    assert_headers(batch.calls.last.request)
    assert json.loads(batch.calls.last.request.content) == [
        {"userId": "42", "type": "referral", "idempotenceKey": "referral-17"},
        {"userId": "42", "type": "create_subscription"},
    ]


async def test_batch_over_100_is_refused_locally(client: GmfyClient) -> None:
    with pytest.raises(ValueError, match="100"):
        await client.create_batch_events([Event(user_id="1", type="x")] * 101)


@respx.mock
async def test_payments(client: GmfyClient) -> None:
    created = respx.post(BASE + "v1/payments/").mock(
        return_value=httpx.Response(
            200, json={"id": "p1", "clientId": "c1", "status": "CREATED", "confirmationUrl": "https://pay/x"}
        )
    )
    resend = respx.post(BASE + "v1/payments/p%2F1/resend-code/").mock(return_value=httpx.Response(204))
    info = respx.get(BASE + "v1/payments/p1/").mock(return_value=httpx.Response(200, json=PAYMENT_INFO))
    answer = await client.create_payment(
        PaymentRequest(
            amount=Amount(value=Decimal("100.00"), currency="RUB"),
            confirmation=Confirmation(return_url="https://t.me/bot"),
            user_id="42",
            description="Payment for order #123",
            locale="EN",
        )
    )
    assert answer.confirmation_url == "https://pay/x"
    assert json.loads(created.calls.last.request.content) == {
        "amount": {"value": "100.00", "currency": "RUB"},
        "confirmation": {"returnUrl": "https://t.me/bot"},
        "userId": "42",
        "description": "Payment for order #123",
        "locale": "EN",
    }
    assert await client.resend_payment_code("p/1") is None  # path parameters are escaped
    assert resend.called
    assert_headers(resend.calls.last.request)
    payment = await client.get_payment("p1")
    assert payment.expires_in == 600
    assert payment.return_url == "https://t.me/bot"
    assert_headers(info.calls.last.request)


@respx.mock
async def test_resend_code_with_an_answer(client: GmfyClient) -> None:
    respx.post(BASE + "v1/payments/p1/resend-code/").mock(return_value=httpx.Response(200, json=PAYMENT_INFO))
    info = await client.resend_payment_code("p1")
    assert info is not None
    assert info.status == "CREATED"


@respx.mock
async def test_users_and_badges(client: GmfyClient) -> None:
    all_users = respx.get(BASE + "v1/users/").mock(return_value=httpx.Response(200, json=[USER]))
    one = respx.get(BASE + "v1/users/7/").mock(return_value=httpx.Response(200, json=USER))
    badges = respx.get(BASE + "v1/badges/7/").mock(return_value=httpx.Response(200, json=USER["userBadges"]))
    users = await client.get_users()
    assert users[0].user_ratings[0].position == 3
    user = await client.get_user("7")
    assert user.user_challenges[0].passed_steps[0].challenge_step_id == "s1"
    assert user.user_account_balances[0].resource_key == "coins"
    assert user.user_challenges[0].meta_info == {"a": "b"}
    got = await client.get_user_badges("7")
    assert got[0].name == "First post"
    assert got[0].count == 2
    for route in (all_users, one, badges):
        assert_headers(route.calls.last.request)


@respx.mock
async def test_user_answered_as_a_list(client: GmfyClient) -> None:
    respx.get(BASE + "v1/users/7/").mock(return_value=httpx.Response(200, json=[USER]))
    assert (await client.get_user("7")).user_id == "7"


@respx.mock
async def test_rating_top_query_defaults_and_overrides(client: GmfyClient) -> None:
    route = respx.get(BASE + "v1/ratings/r1/top/").mock(return_value=httpx.Response(200, json=USER["userRatings"]))
    top = await client.get_rating_top("r1")
    assert top[0].value == 12.5
    assert dict(route.calls.last.request.url.params) == {"offset": "0", "limit": "10", "sort": "ASC"}
    await client.get_rating_top("r1", offset=20, limit=5, sort="DESC")
    assert dict(route.calls.last.request.url.params) == {"offset": "20", "limit": "5", "sort": "DESC"}
    assert_headers(route.calls.last.request)


@respx.mock
async def test_challenge_top(client: GmfyClient) -> None:
    route = respx.get(BASE + "v1/challenges/ch1/top/").mock(
        return_value=httpx.Response(200, json=USER["userChallenges"])
    )
    top = await client.get_challenge_top("ch1")
    assert top[0].progress == 40
    assert dict(route.calls.last.request.url.params) == {"limit": "10"}
    await client.get_challenge_top("ch1", limit=3)
    assert dict(route.calls.last.request.url.params) == {"limit": "3"}
    assert_headers(route.calls.last.request)


@respx.mock
async def test_notifications_all_paths(client: GmfyClient) -> None:
    item = [{"userId": "7", "clientId": "c1", "message": "You got a badge"}]
    routes = [
        respx.get(BASE + "v1/notifications/").mock(return_value=httpx.Response(200, json=item)),
        respx.get(BASE + "v1/notifications/7/").mock(return_value=httpx.Response(200, json=item)),
        respx.get(BASE + "v1/notifications/unread/").mock(return_value=httpx.Response(200, json=item)),
        respx.get(BASE + "v1/notifications/unread/7/").mock(return_value=httpx.Response(200, json=item)),
    ]
    assert (await client.get_notifications())[0].message == "You got a badge"
    assert (await client.get_notifications("7"))[0].user_id == "7"
    assert (await client.get_unread_notifications())[0].client_id == "c1"
    assert (await client.get_unread_notifications("7"))[0].message == "You got a badge"
    for route in routes:
        assert route.call_count == 1
        assert_headers(route.calls.last.request)


@respx.mock
async def test_version(client: GmfyClient) -> None:
    route = respx.get(BASE + "v1/version/").mock(
        return_value=httpx.Response(200, json={"version": "1.0", "deploymentDate": "2024-07-22T17:28:03.876Z"})
    )
    version = await client.get_version()
    assert version.version == "1.0"
    assert version.deployment_date is not None
    assert version.deployment_date.year == 2024
    assert_headers(route.calls.last.request)


def test_every_path_is_relative_and_ends_with_slash() -> None:
    for name, path in PATHS.items():
        assert path.startswith("v1/"), name
        assert path.endswith("/"), name


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("status", [500, 502, 503])
@respx.mock
async def test_5xx_is_transient(client: GmfyClient, status: int) -> None:
    respx.get(BASE + "v1/version/").mock(return_value=httpx.Response(status, text="down"))
    with pytest.raises(GmfyTransientError) as info:
        await client.get_version()
    assert info.value.status == status
    assert info.value.body == "down"


@respx.mock
async def test_429_is_transient_with_retry_after(client: GmfyClient) -> None:
    respx.post(BASE + "v1/events/batch/").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "7"}, text="slow down")
    )
    with pytest.raises(GmfyTransientError) as info:
        await client.create_batch_events([Event(user_id="1", type="x")])
    assert info.value.retry_after == 7
    assert info.value.status == 429


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
@respx.mock
async def test_other_4xx_is_permanent_with_body(client: GmfyClient, status: int) -> None:
    respx.post(BASE + "v1/events/").mock(return_value=httpx.Response(status, json={"detail": "bad type"}))
    with pytest.raises(GmfyPermanentError) as info:
        await client.create_event(Event(user_id="1", type="x"))
    assert info.value.status == status
    assert "bad type" in (info.value.body or "")
    assert "bad type" in info.value.describe()


@respx.mock
async def test_timeout_and_connection_errors_are_transient(client: GmfyClient) -> None:
    respx.get(BASE + "v1/version/").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(GmfyTransientError, match="timeout"):
        await client.get_version()
    respx.get(BASE + "v1/users/").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(GmfyTransientError, match="connection"):
        await client.get_users()


@respx.mock
async def test_unreadable_answer_is_permanent(client: GmfyClient) -> None:
    respx.get(BASE + "v1/version/").mock(return_value=httpx.Response(200, json={"nope": 1}))
    with pytest.raises(GmfyPermanentError, match="unexpected answer"):
        await client.get_version()


def test_retry_after_forms() -> None:
    assert retry_after_seconds("3") == 3
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("garbage") is None
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30


async def test_timeout_and_verify_are_configurable() -> None:
    c = GmfyClient("https://gmfy.test", KEY, timeout=2.5, verify=False)
    assert c.base_url == "https://gmfy.test/"
    assert c._http.timeout.read == 2.5
    await c.close()
