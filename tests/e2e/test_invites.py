"""Invite codes and referrals end to end (SPEC 2)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage.models import GmfyEvent, Referral
from tests.e2e.harness import Harness
from tests.fakes.telegram import BOT_USERNAME


async def test_invite_card_with_deep_link_and_buttons(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    code = await alice.invite_code()
    await alice.send("/invite")
    card = alice.last()
    assert f"https://t.me/{BOT_USERNAME}?start={code}" in (card.text or "")
    labels = [b["text"] for b in card.buttons]
    assert any("Share" in label for label in labels)
    assert any("QR" in label for label in labels)
    assert any("New code" in label for label in labels)
    assert any("Delete code" in label for label in labels)
    share = next(b for b in card.buttons if "Share" in b["text"])
    assert share["url"].startswith("https://t.me/share/url?url=")


async def test_qr_is_sent_as_png_photo(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    await alice.send("/invite")
    await alice.press("QR")
    photo = alice.last()
    assert photo.kind == "photo"
    upload = photo.data["_upload"]
    assert upload["file_name"].endswith(".png")
    assert upload["head"].startswith(b"\x89PNG")
    assert upload["size"] > 200
    assert await alice.invite_code() in (photo.text or "")


async def test_new_code_replaces_old_and_double_press_changes_nothing(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    old = await alice.invite_code()
    await alice.send("/invite")
    card = alice.last()
    new_button = next(b for b in card.buttons if "New code" in b["text"])
    answer = await alice.press_data(new_button["callback_data"], card)
    assert "New code issued" in answer["text"]
    new = await alice.invite_code()
    assert new != old
    assert new in (card.text or "")  # the card was edited in place
    answer = await alice.press_data(new_button["callback_data"], card)  # the same (now stale) button again
    assert "out of date" in answer["text"]
    assert await alice.invite_code() == new
    bob = await tg.user("Bob").signed_in()
    await bob.send(f"/redeem {old}")
    assert "no longer active" in bob.last_text()


async def test_delete_code_then_new(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    code = await alice.invite_code()
    await alice.send("/invite")
    card = alice.last()
    delete = next(b for b in card.buttons if "Delete" in b["text"])
    answer = await alice.press_data(delete["callback_data"], card)
    assert "deleted" in answer["text"]
    assert "no active invite code" in (card.text or "")
    answer = await alice.press_data(delete["callback_data"], card)  # pressed twice
    assert "out of date" in answer["text"]
    bob = await tg.user("Bob").signed_in()
    await bob.send(f"/redeem {code}")
    assert "no longer active" in bob.last_text()
    await alice.press("New code", card)
    fresh = await alice.invite_code()
    assert fresh != code
    assert fresh in (card.text or "")


async def test_deep_link_code_applied_after_sign_in(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    code = await alice.invite_code()
    bob = tg.user("Bob")
    await bob.send(f"/start {code}")
    assert "invite code is saved" in bob.last_text()
    await bob.send_contact(tg.new_phone())
    assert any("you were invited by" in t for t in bob.texts())
    assert "joined with your invite code" in alice.last_text()
    await alice.send("/referrals")
    assert "Joined with your code: 1" in alice.last_text()
    async with tg.app.ctx.sessionmaker() as session:
        events = list(await session.scalars(select(GmfyEvent).order_by(GmfyEvent.id)))
    kinds = [(e.type, e.idempotence_key) for e in events]
    assert ("referral", "referral-1") in kinds
    assert sum(1 for e in events if e.type == "registration") == 2


async def test_bad_deep_link_code_reported_after_sign_in(tg: Harness) -> None:
    bob = tg.user("Bob")
    await bob.send("/start NoSuch")
    await bob.send_contact(tg.new_phone())
    assert "could not be applied" in bob.last_text()
    assert "no invite code “NoSuch”" in bob.last_text()


async def test_every_redeem_rule_has_its_own_message(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    bob = await tg.user("Bob").signed_in()
    carol = await tg.user("Carol").signed_in()
    a_code, b_code = await alice.invite_code(), await bob.invite_code()

    await bob.send("/redeem")
    assert "Send the code after the command" in bob.last_text()
    await bob.send("/redeem zzzzzz")
    assert "There is no invite code “zzzzzz”" in bob.last_text()
    await bob.send("/redeem <b>x")
    assert "There is no invite code “&lt;b&gt;x”" not in bob.last_text()  # shown as text, not markup
    assert "There is no invite code “<b>x”" in bob.last_text()
    await bob.send(f"/redeem {b_code}")
    assert "your own invite code" in bob.last_text()
    await bob.send(f"/redeem {a_code.swapcase()}")  # codes are case-sensitive
    assert "There is no invite code" in bob.last_text()
    await bob.send(f"/redeem {a_code}")
    assert "you were invited by" in bob.last_text()
    await bob.send(f"/redeem {await carol.invite_code()}")
    assert "already used an invite code" in bob.last_text()
    await alice.send(f"/redeem {b_code}")  # Bob joined through Alice: no cycles
    assert "its owner joined through you" in alice.last_text()
    dave = await tg.user("Dave").signed_in()
    await carol.send(f"/redeem {await dave.invite_code()}")
    tg.clock.advance(timedelta(days=31))
    erin = await tg.user("Erin").signed_in()
    await erin.send(f"/redeem {await dave.invite_code()}")
    assert "has expired" in erin.last_text()
    async with tg.app.ctx.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 2


async def test_referrals_are_paged_newest_first_with_masked_phones(tg: Harness) -> None:
    alice = await tg.user("Alice").signed_in()
    code = await alice.invite_code()
    for n in range(12):
        friend = await tg.user(f"Friend{n}").signed_in(f"+7916777{n:04d}")
        tg.clock.advance(timedelta(minutes=1))
        await friend.send(f"/redeem {code}")
    await alice.send("/referrals")
    first = alice.last()
    assert "Joined with your code: 12" in (first.text or "")
    assert "page 1/2" in (first.text or "")
    assert "+7 *** *** 00 11" in (first.text or "")  # the newest first
    assert "+7916" not in (first.text or "")
    assert len((first.text or "").splitlines()) == 11
    await alice.press("▶", first)
    assert "page 2/2" in (first.text or "")
    assert "+7 *** *** 00 00" in (first.text or "")
    await alice.press("◀", first)
    assert "page 1/2" in (first.text or "")


async def test_admin_code_and_whoinvited(tg: Harness) -> None:
    alice = await tg.user("Alice", username="alice").signed_in()
    bob = await tg.user("Bob").signed_in("+79165550001")
    await bob.send(f"/redeem {await alice.invite_code()}")
    admin = await tg.admin().signed_in()
    await admin.send("/code @alice")
    assert await alice.invite_code() in admin.last_text()
    await admin.send("/whoinvited +79165550001")
    assert "was invited by" in admin.last_text()
    await admin.send("/whoinvited @nobody")
    assert "No user matches" in admin.last_text()
    await bob.send("/code @alice")  # not an admin: like an unknown command
    assert "don't know that command" in bob.last_text()
