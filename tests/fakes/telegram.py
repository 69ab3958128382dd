"""A fake Telegram Bot API server (aiohttp) that a real aiogram bot talks to.

It keeps every chat's history as Telegram would (message ids per chat, edits, deletions),
serves `getUpdates` long polling with updates the tests inject, records every call, and can
be told to fail (403 for a user who blocked the bot, 429 floods, 5xx) through hooks.
Scripted users (`FakeUser`) send texts, commands, contacts and button presses and read
what their chat received.

Updates reach the bot by `getUpdates` long polling, or, once `deliver_webhooks(urls)` is called, are
POSTed to webhooks as the official server does (`WebhookDelivery`): one queue per chat, a chat's
next update only after a 2xx for the one before, a failed delivery (non-2xx, timeout, refused
connection) sent again; `round_robin` spreads the requests over several URLs like a load balancer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp import web

BOT_ID = 7000000001
BOT_USERNAME = "community_test_bot"
TOKEN = f"{BOT_ID}:AAFakeTokenForTests_abcdefghijklmnop"
PROCESS_TIMEOUT = 10.0
CAPTION_TOO_LONG = "Bad Request: message caption is too long"

# Values kept as strings even when they look like JSON (a text "123" stays "123").
STRING_FIELDS = {
    "text",
    "caption",
    "callback_query_id",
    "question",
    "title",
    "description",
    "url",
    "secret_token",
    "phone_number",
    "first_name",
    "last_name",
    "emoji",
    "performer",
}

# The fields Telegram always sends for a chat administrator (ChatMemberAdministrator).
ADMINISTRATOR_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)

Hook = Callable[[str, dict[str, Any]], "dict[str, Any] | None"]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # monotonic
    wall: float = 0.0  # time.time(), comparable across processes (benchmarks)


@dataclass
class ChatMessage:
    """A message in a chat as the fake knows it (sent by a user or by the bot)."""

    chat_id: int
    message_id: int
    from_bot: bool
    data: dict[str, Any]
    deleted: bool = False
    edits: int = 0

    @property
    def text(self) -> str | None:
        return self.data.get("text") or self.data.get("caption")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.data.get("reply_markup")

    @property
    def keyboard(self) -> dict[str, Any] | None:
        """The reply keyboard sent with this message (not part of Telegram's Message object)."""
        return self.data.get("_keyboard")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.reply_markup or self.keyboard or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [button for row in rows for button in row]

    @property
    def kind(self) -> str:
        for key in (
            "text",
            "photo",
            "video",
            "voice",
            "audio",
            "document",
            "sticker",
            "animation",
            "video_note",
            "location",
            "poll",
            "contact",
        ):
            if key in self.data:
                return key
        return "unknown"


ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}


class _EntityParser(HTMLParser):
    """Telegram's HTML parse mode: known tags only, properly nested; gives back the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problem = self.problem or f'unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problem = self.problem or f'unexpected end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def parse_html(text: str) -> str:
    """Plain text of an HTML-formatted message, or ValueError as Telegram's 400 would say."""
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.problem or parser.stack:
        raise ValueError(f"Bad Request: can't parse entities: {parser.problem or 'unclosed tag'}")
    return "".join(parser.parts)


def ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return answer


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot_user = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Community",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[Call] = []
        self.chats: dict[int, list[ChatMessage]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.hooks: list[Hook] = []
        self.blocked: set[int] = set()
        self.commands: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._user_ids = itertools.count(100_001)
        self._group_ids = itertools.count(-1_001_000_000_001, -1)
        self.groups: dict[int, FakeChat] = {}  # groups, supergroups and channels (private chats are the users' ids)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._confirmed = 0  # every update with id < this was confirmed by the bot (getUpdates offset)
        self._acknowledged: set[int] = set()  # updates a webhook answered 2xx
        self.webhook_delivery: WebhookDelivery | None = None
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.polls = 0
        self.closing = False  # set before stopping the bot: long polls return at once
        # Awaited after each update is handled (the e2e harness drains the delivery queue here).
        self.after_processed: Callable[[], Awaitable[object]] | None = None

    # --- server -------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0, extra_routes: list[Any] | None = None) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for method, path, handler in extra_routes or []:
            app.router.add_route(method, path, handler)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.url = f"http://{host}:{sockets[0].getsockname()[1]}"
        return self.url

    async def release_pollers(self) -> None:
        async with self._changed:
            self.closing = True
            self._changed.notify_all()

    async def stop(self) -> None:
        if self.webhook_delivery is not None:
            await self.webhook_delivery.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(error(401, "Unauthorized"), status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        answer = await self.dispatch(method, params)
        status = 200 if answer.get("ok") else int(answer.get("error_code", 400))
        return web.json_response(answer, status=status)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            form = await request.post()
            uploads: dict[str, dict[str, Any]] = {}
            for key, value in form.items():
                if hasattr(value, "file"):
                    content = value.file.read()
                    uploads[key] = {"file_name": value.filename, "size": len(content), "head": content[:8]}
                else:
                    params[key] = value
            for key, value in list(params.items()):  # "attach://<name>" refers to an uploaded part
                if isinstance(value, str) and value.startswith("attach://"):
                    params[key] = uploads.get(value.removeprefix("attach://"), {"file_name": None, "size": 0})
            for key, upload in uploads.items():
                params.setdefault(key, upload)
        for key, value in list(params.items()):
            if isinstance(value, str) and key not in STRING_FIELDS:
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params

    async def dispatch(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(Call(method, params, time.monotonic(), time.time()))
        async with self._changed:
            self._changed.notify_all()
        if method != "getUpdates":
            for hook in self.hooks:
                answer = hook(method, params)
                if answer is not None:
                    return answer
            chat_id = params.get("chat_id")
            if isinstance(chat_id, int) and chat_id in self.blocked and method.startswith(("send", "copy", "forward")):
                return error(403, "Forbidden: bot was blocked by the user")
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return error(404, "Not Found: method not found")
        try:
            answer: dict[str, Any] = await handler(params)
        finally:
            async with self._changed:
                self._changed.notify_all()
        return answer

    # --- updates ------------------------------------------------------------------------
    def new_update_id(self) -> int:
        return next(self._update_ids)

    async def push_update(self, update: dict[str, Any]) -> int:
        update.setdefault("update_id", self.new_update_id())
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        if self.webhook_delivery is not None:
            self.webhook_delivery.enqueue(update)
        return int(update["update_id"])

    def deliver_webhooks(
        self,
        urls: list[str],
        *,
        secret: str | None = None,
        round_robin: bool = True,
        connections: int = 40,
        retry_delay: float = 0.05,
        timeout: float = 60.0,
    ) -> WebhookDelivery:
        """From now on, POST every update (those pushed before too) to the webhook at `urls` as the
        official Bot API does; see `WebhookDelivery`. `round_robin`: each request (a retry too) goes to
        the next URL, as a load balancer in front of several instances would send it; else all to the
        first. Stopped by `stop()`. `wait_processed(update_id)` then waits for the 2xx answer."""
        assert self.webhook_delivery is None, "already delivering"
        self.webhook_delivery = WebhookDelivery(self, urls, secret, round_robin, connections, retry_delay, timeout)
        for update in self._updates:
            self.webhook_delivery.enqueue(update)
        return self.webhook_delivery

    async def _acknowledge(self, update_id: int) -> None:
        async with self._changed:
            self._acknowledged.add(update_id)
            self._updates = [u for u in self._updates if u["update_id"] != update_id]
            self._changed.notify_all()

    async def wait_processed(self, update_id: int, timeout: float = PROCESS_TIMEOUT) -> None:
        """Wait until the bot confirmed `update_id` (asked for a later offset), i.e. handled it."""
        await self.wait_until(
            lambda: self._confirmed > update_id or update_id in self._acknowledged,
            timeout,
            f"update {update_id} not processed",
        )
        if self.after_processed is not None:
            await self.after_processed()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = PROCESS_TIMEOUT, what: str = "") -> None:
        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}") from None

    async def api_getUpdates(self, params: dict[str, Any]) -> dict[str, Any]:
        self.polls += 1
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            if offset:
                self._confirmed = max(self._confirmed, offset)
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._changed.notify_all()
            if not self._updates and timeout and not self.closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates) or self.closing), timeout)
            batch = list(self._updates[: int(params.get("limit") or 100)])
        return ok(batch)

    # --- chats --------------------------------------------------------------------------
    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def chat_info(self, chat_id: int) -> dict[str, Any]:
        """The `chat` object of a message in this chat: a registered group's, else a private chat's."""
        group = self.groups.get(chat_id)
        return group.info if group is not None else {"id": chat_id, "type": "private"}

    def add_message(self, chat_id: int, from_bot: bool, data: dict[str, Any]) -> ChatMessage:
        message_id = self.next_message_id(chat_id)
        data = {"message_id": message_id, "date": int(time.time()), "chat": self.chat_info(chat_id), **data}
        if from_bot:
            data["from"] = self.bot_user
        record = ChatMessage(chat_id, message_id, from_bot, data)
        self.chats.setdefault(chat_id, []).append(record)
        return record

    @staticmethod
    def public(record: ChatMessage) -> dict[str, Any]:
        return {k: v for k, v in record.data.items() if not k.startswith("_")}

    def find(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for record in self.chats.get(chat_id, []):
            if record.message_id == message_id:
                return record
        return None

    def bot_messages(self, chat_id: int, include_deleted: bool = False) -> list[ChatMessage]:
        return [m for m in self.chats.get(chat_id, []) if m.from_bot and (include_deleted or not m.deleted)]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @staticmethod
    def _formatted(params: dict[str, Any], name: str) -> str:
        """The text as a user sees it (HTML parsed when parse_mode says so); ValueError if malformed."""
        value = str(params.get(name) or "")
        if str(params.get("parse_mode") or "").upper() == "HTML":
            return parse_html(value)
        return value

    def _reply_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        reply_to = params.get("reply_to_message_id")
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id")
        if reply_to:
            original = self.find(int(params["chat_id"]), int(reply_to))
            if original is not None:
                fields["reply_to_message"] = self.public(original)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            fields["reply_markup"] = markup  # Telegram returns only inline keyboards in a Message
        elif isinstance(markup, dict):
            fields["_keyboard"] = markup  # kept by the fake so tests can press reply-keyboard buttons
        return fields

    def _check_chat(self, params: dict[str, Any]) -> dict[str, Any] | None:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            return error(400, "Bad Request: chat not found")
        group = self.groups.get(chat_id)
        if group is not None and not group.bot_is_member:
            return error(403, f"Forbidden: bot is not a member of the {group.type} chat")
        return None

    async def api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return ok(self.bot_user)

    async def api_deleteWebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook = None
        return ok(True)

    async def api_setWebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook = params
        return ok(True)

    async def api_setMyCommands(self, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("scope") or {"type": "default"}
        key = (json.dumps(scope, sort_keys=True), params.get("language_code"))
        self.commands[key] = list(params.get("commands") or [])
        return ok(True)

    async def api_deleteMyCommands(self, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("scope") or {"type": "default"}
        self.commands.pop((json.dumps(scope, sort_keys=True), params.get("language_code")), None)
        return ok(True)

    async def api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        if (bad := self._check_chat(params)) is not None:
            return bad
        try:
            text = self._formatted(params, "text")
        except ValueError as exc:
            return error(400, str(exc))
        if not text.strip():
            return error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return error(400, "Bad Request: message is too long")
        record = self.add_message(params["chat_id"], True, {"text": text, **self._reply_fields(params)})
        return ok(self.public(record))

    async def _send_media(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        if (bad := self._check_chat(params)) is not None:
            return bad
        media = params.get(kind)
        file_id = media if isinstance(media, str) else f"fake-{kind}-{len(self.calls)}"
        upload = media if isinstance(media, dict) else {}
        described = {"file_id": file_id, "file_unique_id": file_id[-16:], "file_size": upload.get("size", 0)}
        value: Any = [{**described, "width": 512, "height": 512}] if kind == "photo" else described
        body: dict[str, Any] = {kind: value, "_upload": upload, **self._reply_fields(params)}
        if params.get("caption"):
            try:
                caption = self._formatted(params, "caption")
            except ValueError as exc:
                return error(400, str(exc))
            if len(caption) > 1024:
                return error(400, CAPTION_TOO_LONG)
            body["caption"] = caption
        record = self.add_message(params["chat_id"], True, body)
        return ok(self.public(record))

    async def api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media("photo", params)

    async def api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media("document", params)

    async def api_sendChatAction(self, params: dict[str, Any]) -> dict[str, Any]:
        return ok(True)

    async def api_copyMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        if (bad := self._check_chat(params)) is not None:
            return bad
        original = self.find(int(params.get("from_chat_id") or 0), int(params.get("message_id") or 0))
        if original is None or original.deleted:
            return error(400, "Bad Request: message to copy not found")
        body = {
            k: v
            for k, v in original.data.items()
            if k
            not in {"message_id", "date", "chat", "from", "reply_to_message", "reply_markup", "edit_date", "_keyboard"}
        }
        if "caption" in params:
            try:
                body["caption"] = self._formatted(params, "caption")
            except ValueError as exc:
                return error(400, str(exc))
            if len(body["caption"]) > 1024:
                return error(400, CAPTION_TOO_LONG)
        body.update(self._reply_fields(params))
        body["copied_from"] = [original.chat_id, original.message_id]
        record = self.add_message(params["chat_id"], True, body)
        return ok({"message_id": record.message_id})

    async def api_copyMessages(self, params: dict[str, Any]) -> dict[str, Any]:
        """An album (or several messages) copied in one call: the copies' ids, in the order given."""
        copied = []
        for message_id in params.get("message_ids") or []:
            answer = await self.api_copyMessage({**params, "message_id": message_id})
            if not answer.get("ok"):
                return answer
            copied.append(answer["result"])
        return ok(copied)

    async def api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, "text")

    async def api_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, "caption")

    async def api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, None)

    def _edit(self, params: dict[str, Any], field_name: str | None) -> dict[str, Any]:
        record = self.find(int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        if record is None or record.deleted:
            return error(400, "Bad Request: message to edit not found")
        new_markup = params.get("reply_markup")
        if field_name is not None:
            try:
                new_value = self._formatted(params, field_name)
            except ValueError as exc:
                return error(400, str(exc))
            if len(new_value) > (4096 if field_name == "text" else 1024):  # as sendMessage and captions
                return error(400, "Bad Request: message is too long" if field_name == "text" else CAPTION_TOO_LONG)
            if record.data.get(field_name) == new_value and record.reply_markup == new_markup:
                return error(400, "Bad Request: message is not modified")
            record.data[field_name] = new_value
        record.data.pop("reply_markup", None)
        if new_markup:
            record.data["reply_markup"] = new_markup
        record.data["edit_date"] = int(time.time())
        record.edits += 1
        return ok(self.public(record))

    async def api_deleteMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self.find(int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        if record is None or record.deleted:
            return error(400, "Bad Request: message to delete not found")
        record.deleted = True
        return ok(True)

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> dict[str, Any]:
        query_id = str(params.get("callback_query_id"))
        if query_id in self.callback_answers:
            return error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[query_id] = params
        return ok(True)

    async def api_leaveChat(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.groups.get(params.get("chat_id"))  # type: ignore[arg-type]
        if group is None:
            return error(400, "Bad Request: chat not found")
        if not group.bot_is_member:
            return error(403, f"Forbidden: bot is not a member of the {group.type} chat")
        group.bot_is_member = False
        # As Telegram does: the bot hears about its own departure.
        await self.push_update({"my_chat_member": group.membership_change(self.bot_user, "member", "left")})
        return ok(True)

    async def wait_all_processed(self) -> None:
        """Wait for every update pushed so far (also those the bot's calls caused) to be handled."""
        while pending := [u["update_id"] for u in self._updates if u["update_id"] >= self._confirmed]:
            await self.wait_processed(max(pending))

    # --- groups -------------------------------------------------------------------------
    def group(
        self, title: str, *, chat_id: int | None = None, chat_type: str = "supergroup", bot_is_member: bool = True
    ) -> FakeChat:
        """A group, supergroup or channel; the bot is in it unless `bot_is_member=False`."""
        chat = FakeChat(self, chat_id or next(self._group_ids), title, chat_type, bot_is_member)
        self.groups[chat.id] = chat
        return chat

    # --- users --------------------------------------------------------------------------
    def user(
        self, first_name: str, *, user_id: int | None = None, username: str | None = None, language_code: str = "en"
    ) -> FakeUser:
        return FakeUser(self, user_id or next(self._user_ids), first_name, username, language_code)


@dataclass
class WebhookAnswer:
    update_id: int
    url: str
    status: int  # 0: no answer (refused, reset, timed out)
    at: float  # monotonic, when the answer came


def update_queue(update: dict[str, Any]) -> object:
    """The queue an update waits in: its chat's (a private chat is the user's), as the official server
    keys them; an update with neither chat nor sender gets one of its own."""
    for body in update.values():
        if isinstance(body, dict):
            chat = body.get("chat") or (body.get("message") or {}).get("chat")
            if isinstance(chat, dict) and "id" in chat:
                return chat["id"]
            sender = body.get("from") or body.get("user")
            if isinstance(sender, dict) and "id" in sender:
                return sender["id"]
    return ("update", update.get("update_id"))


class WebhookDelivery:
    """Updates POSTed to webhooks as the official Bot API server does. Each chat's updates wait in a
    queue of their own; the next one is sent only after the webhook answered 2xx for the one before
    (so a chat's updates reach the bot one at a time, in order, while its answer is pending); a
    failed delivery is sent again after `retry_delay`. Different chats go in parallel, at most
    `connections` requests at once (setWebhook's max_connections). `answers` records every attempt."""

    def __init__(
        self,
        tg: FakeTelegram,
        urls: list[str],
        secret: str | None,
        round_robin: bool,
        connections: int,
        retry_delay: float,
        timeout: float,
    ) -> None:
        assert urls, "at least one webhook URL"
        self.tg = tg
        self.urls = list(urls)
        self.secret = secret
        self.round_robin = round_robin
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.answers: list[WebhookAnswer] = []
        self._gate = asyncio.Semaphore(connections)
        self._queues: dict[object, collections.deque[dict[str, Any]]] = {}
        self._workers: dict[object, asyncio.Task[None]] = {}
        self._turn = itertools.count()
        self._session: aiohttp.ClientSession | None = None

    def enqueue(self, update: dict[str, Any]) -> None:
        key = update_queue(update)
        self._queues.setdefault(key, collections.deque()).append(update)
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._chat(key))

    def _url(self) -> str:
        return self.urls[next(self._turn) % len(self.urls)] if self.round_robin else self.urls[0]

    async def _chat(self, key: object) -> None:
        queue = self._queues[key]
        while queue:
            await self._deliver(queue[0])
            queue.popleft()
        del self._queues[key], self._workers[key]  # no await since the check: enqueue sees it gone

    async def _deliver(self, update: dict[str, Any]) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret} if self.secret else {}
        while True:
            url = self._url()
            async with self._gate:
                try:
                    async with self._session.post(url, json=update, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
            self.answers.append(WebhookAnswer(int(update["update_id"]), url, status, time.monotonic()))
            if 200 <= status < 300:
                await self.tg._acknowledge(int(update["update_id"]))
                return
            await asyncio.sleep(self.retry_delay)  # the official server backs off too, then sends it again

    @property
    def pending(self) -> int:
        """Updates not yet answered 2xx."""
        return sum(len(q) for q in self._queues.values())

    async def stop(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        if self._session is not None:
            await self._session.close()


@dataclass
class FakeUser:
    """A scripted Telegram user in a private chat with the bot."""

    tg: FakeTelegram
    id: int
    first_name: str
    username: str | None = None
    language_code: str = "en"
    last_answer: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def profile(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            data["username"] = self.username
        return data

    # sending
    async def send_message(
        self, body: dict[str, Any], *, wait: bool = True, chat: FakeChat | None = None
    ) -> ChatMessage:
        """`body` sent in the private chat with the bot, or in `chat` (a group the bot is in)."""
        record = self.tg.add_message(chat.id if chat else self.id, False, {"from": self.profile, **body})
        update_id = await self.tg.push_update({"message": record.data})
        if wait:
            await self.tg.wait_processed(update_id)
        return record

    async def send(
        self, text: str, *, reply_to: ChatMessage | None = None, wait: bool = True, chat: FakeChat | None = None
    ) -> ChatMessage:
        body: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            body["reply_to_message"] = self.tg.public(reply_to)
        return await self.send_message(body, wait=wait, chat=chat)

    async def send_contact(
        self, phone: str, *, user_id: int | None = None, first_name: str | None = None
    ) -> ChatMessage:
        contact = {
            "phone_number": phone,
            "first_name": first_name or self.first_name,
            "user_id": self.id if user_id is None else user_id,
        }
        return await self.send_message({"contact": contact})

    async def edit(self, message: ChatMessage, text: str) -> None:
        message.data["text"] = text
        message.data["edit_date"] = int(time.time())
        update_id = await self.tg.push_update({"edited_message": self.tg.public(message)})
        await self.tg.wait_processed(update_id)

    async def press(self, label: str, message: ChatMessage | None = None) -> dict[str, Any]:
        """Press the inline button whose text contains `label` (on the newest message that has one)."""
        candidates = [message] if message is not None else list(reversed(self.messages))
        for candidate in candidates:
            for button in candidate.buttons:
                if label in button.get("text", "") and "callback_data" in button:
                    return await self.press_data(button["callback_data"], candidate)
        raise AssertionError(f"{self.first_name}: no button {label!r} in {[m.buttons for m in candidates[:3]]}")

    async def press_data(self, data: str, message: ChatMessage) -> dict[str, Any]:
        """Send a callback query with any data (also forged data) from `message`."""
        query_id = f"cq{next(self.tg._callback_ids)}"
        query = {
            "id": query_id,
            "from": self.profile,
            "chat_instance": str(self.id),
            "data": data,
            "message": self.tg.public(message),
        }
        update_id = await self.tg.push_update({"callback_query": query})
        await self.tg.wait_processed(update_id)
        self.last_answer = self.tg.callback_answers.get(query_id)
        return self.last_answer or {}

    def block_bot(self) -> None:
        self.tg.blocked.add(self.id)

    def unblock_bot(self) -> None:
        self.tg.blocked.discard(self.id)

    # reading
    @property
    def messages(self) -> list[ChatMessage]:
        return self.tg.bot_messages(self.id)

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages]

    def last(self) -> ChatMessage:
        if not self.messages:
            raise AssertionError(f"{self.first_name} received nothing")
        return self.messages[-1]

    def last_text(self) -> str:
        return self.last().text or ""

    def received(self, fragment: str) -> bool:
        return any(fragment in text for text in self.texts())

    def mark(self) -> int:
        """A position; `since(mark)` gives what arrived after it."""
        return len(self.messages)

    def since(self, mark: int) -> list[ChatMessage]:
        return self.messages[mark:]

    def texts_since(self, mark: int) -> list[str]:
        return [m.text or "" for m in self.since(mark)]


@dataclass
class FakeChat:
    """A group, supergroup or channel. Members post with `FakeUser.send(..., chat=group)`; `add_bot` is a
    member adding the bot (Telegram's `my_chat_member` update); the bot leaves with `leaveChat`."""

    tg: FakeTelegram
    id: int
    title: str
    type: str = "supergroup"
    bot_is_member: bool = True

    @property
    def info(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "title": self.title}

    def membership_change(self, by: dict[str, Any], old: str, new: str) -> dict[str, Any]:
        bot = self.tg.bot_user
        return {
            "chat": self.info,
            "from": by,
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot},
            "new_chat_member": {"status": new, "user": bot},
        }

    async def add_bot(self, by: FakeUser, status: str = "member") -> None:
        """`by` adds the bot (as a member, or `administrator`); waits until the bot handled it and what followed."""
        self.bot_is_member = True
        change = self.membership_change(by.profile, "left", status)
        if status == "administrator":
            change["new_chat_member"].update(dict.fromkeys(ADMINISTRATOR_RIGHTS, False), can_manage_chat=True)
        await self.tg.wait_processed(await self.tg.push_update({"my_chat_member": change}))
        await self.tg.wait_all_processed()

    @property
    def messages(self) -> list[ChatMessage]:
        """What the bot posted here."""
        return self.tg.bot_messages(self.id)

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages]

    def left(self) -> bool:
        """The bot left this chat by calling leaveChat."""
        return not self.bot_is_member and any(c.params.get("chat_id") == self.id for c in self.tg.calls_to("leaveChat"))


# Methods that put a message in a chat (or change one): what Telegram's flood control counts.
FLOOD_COUNTED = ("send", "copy", "forward", "editMessage")


class FloodControl:
    """Telegram's flood control as a hook (`FakeTelegram.hooks.append(FloodControl())`): 429 with
    `retry_after` past `global_rate` sends in any one-second window (the bot's overall rate), or past a
    chat's token bucket (`per_chat_rate` a second, short bursts of `burst`). Only the sends it lets
    through count. `rejected` lists each 429 as (method, chat, why)."""

    def __init__(
        self, global_rate: int = 30, per_chat_rate: float = 1.0, burst: float = 3.0, retry_after: int = 1
    ) -> None:
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.burst = burst
        self.retry_after = retry_after
        self.window: list[float] = []
        self.buckets: dict[Any, tuple[float, float]] = {}  # chat -> (tokens, at)
        self.rejected: list[tuple[str, Any, str]] = []
        self.passed: list[tuple[str, Any, float]] = []  # (method, chat, monotonic)

    def __call__(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if not method.startswith(FLOOD_COUNTED) or method == "sendChatAction":
            return None
        now = time.monotonic()
        chat = params.get("chat_id")
        self.window = [at for at in self.window if now - at < 1.0]
        if len(self.window) >= self.global_rate:
            return self._reject(method, chat, "global")
        tokens, at = self.buckets.get(chat, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.per_chat_rate)
        if chat is not None and tokens < 1.0:
            return self._reject(method, chat, "chat")
        self.buckets[chat] = (tokens - 1.0, now)
        self.window.append(now)
        self.passed.append((method, chat, now))
        return None

    def _reject(self, method: str, chat: Any, why: str) -> dict[str, Any]:
        self.rejected.append((method, chat, why))
        return error(429, f"Too Many Requests: retry after {self.retry_after}", retry_after=self.retry_after)
