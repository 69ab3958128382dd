"""Buttons whose message is gone, or pressed twice: the Bot API answers 400 ("message to edit not found",
"message is not modified") when the handler edits the message. That is not a bug and logs no error.
The presser is told what happened: if the handler's work was saved before the edit (every Bot API
call commits first), the action was taken; otherwise the button has expired and nothing changed."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from storage.models import Broadcast
from tests.e2e.harness import Harness

DONE_BUT_GONE = "Done. The message with this button is gone"


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_action_on_a_deleted_message_is_taken_and_says_so(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    admin = await tg.admin().signed_in()
    await tg.user("Bob").signed_in()
    await admin.send("/broadcast Dinner at 8")
    preview = admin.last()
    cancel = next(b["callback_data"] for b in preview.buttons if "Cancel" in b["text"])
    preview.deleted = True  # the admin deleted the preview; the button is pressed anyway (a stale client)
    mark = admin.mark()

    answer = await admin.press_data(cancel, preview)

    assert DONE_BUT_GONE in answer["text"]
    assert errors(caplog) == []
    assert admin.since(mark) == []  # no apology, nothing else
    async with tg.app.ctx.sessionmaker() as session:
        assert await session.scalar(select(Broadcast.status)) == "cancelled"  # what the button said it does
    # The fake answers as Telegram does.
    edits = tg.tg.calls_to("editMessageText")
    assert edits[-1].params["message_id"] == preview.message_id


async def test_the_same_button_pressed_twice_logs_no_error(tg: Harness, caplog: pytest.LogCaptureFixture) -> None:
    bob = await tg.user("Bob").signed_in()
    await bob.send("/lang")
    choice = bob.last()
    english = next(b["callback_data"] for b in choice.buttons if "English" in b["text"])
    await bob.press_data(english, choice)
    assert "English" in (choice.text or "") or choice.edits == 1
    await bob.press_data(english, choice)  # the message already says so: "message is not modified"
    assert errors(caplog) == []
    assert not bob.received("Sorry, something went wrong")
