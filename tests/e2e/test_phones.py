"""Phone numbers in moderation: full for admins only, masked for moderators, every /user lookup in the
audit log, and no way for a member (or a moderator) to learn whether a phone number is registered."""

from __future__ import annotations

from sqlalchemy import select

from services.phones import mask_phone
from storage.models import AuditEntry
from tests.e2e.harness import Harness, Person
from tests.e2e.relay_double import user_id

UNREGISTERED = "+79990000001"


async def staff(tg: Harness) -> tuple[Person, Person, Person]:
    """An admin, a moderator (Carol) and a member (Bob)."""
    admin = await tg.admin().signed_in()
    carol = await tg.user("Carol", username="carol").signed_in()
    bob = await tg.user("Bob", username="bob").signed_in()
    await admin.send("/mod @carol")
    return admin, carol, bob


async def lookups(tg: Harness) -> list[tuple[int | None, int | None, str | None]]:
    async with tg.app.ctx.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEntry.actor_id, AuditEntry.target_id, AuditEntry.details)
            .where(AuditEntry.action == "lookup")
            .order_by(AuditEntry.id)
        )
        return [(actor, target, (details or {}).get("phone")) for actor, target, details in rows.all()]


async def test_moderators_see_masked_phones_admins_full_and_both_are_audited(tg: Harness) -> None:
    admin, carol, bob = await staff(tg)
    assert bob.phone is not None

    await carol.send("/user @bob")
    card = carol.last_text()
    assert "Role: member" in card
    assert bob.phone not in card
    assert mask_phone(bob.phone) in card
    await admin.send("/user @bob")
    assert bob.phone in admin.last_text()

    # Buttons on the moderator's card redraw it masked, too.
    await carol.press("Warn")
    assert bob.phone not in (tg.tg.find(carol.id, carol.last().message_id).text or "")  # type: ignore[union-attr]
    assert all(bob.phone not in text for text in carol.texts())

    carol_id, admin_id, bob_id = await user_id(tg, carol), await user_id(tg, admin), await user_id(tg, bob)
    assert await lookups(tg) == [(carol_id, bob_id, "masked"), (admin_id, bob_id, "full")]
    await admin.send("/audit")
    assert "looked up" in admin.last_text()


async def test_a_moderator_cannot_tell_whether_a_phone_is_registered(tg: Harness) -> None:
    admin, carol, bob = await staff(tg)
    assert bob.phone is not None
    await carol.send(f"/user {bob.phone}")
    registered = carol.last_text().replace(bob.phone, "<phone>")
    await carol.send(f"/user {UNREGISTERED}")
    unregistered = carol.last_text().replace(UNREGISTERED, "<phone>")
    assert registered == unregistered
    assert "Role:" not in registered
    await carol.send(f"/ban {bob.phone}")
    assert "No user matches" in carol.last_text()
    # Admins still find members by phone.
    await admin.send(f"/user {bob.phone}")
    assert "Role: member" in admin.last_text()
    # Walking the ids leaves a trail: each card a moderator opens is in the log.
    before = len(await lookups(tg))
    for n in range(1, 4):
        await carol.send(f"/user #{n}")
    assert len(await lookups(tg)) == before + 3


async def test_report_with_a_phone_reveals_nothing(tg: Harness) -> None:
    alice = await tg.user("Alice", username="alice").signed_in()
    bob = await tg.user("Bob", username="bob").signed_in()
    assert bob.phone is not None

    answers = []
    for ref in (bob.phone, UNREGISTERED):
        await alice.send(f"/report {ref}")
        answers.append(alice.last_text().replace(ref, "<ref>"))
        assert alice.last().buttons == []  # no reasons to choose: nobody was found
        await alice.send(f"/report {ref} spam")
        answers.append(alice.last_text().replace(ref, "<ref>"))
    assert len(set(answers)) == 1, answers
    assert "@username" in answers[0]  # and it says how members report
    # Nor an account id, a Telegram id or an invite code (walking them would list everyone).
    for ref in (f"#{await user_id(tg, bob)}", str(bob.id), await bob.invite_code()):
        await alice.send(f"/report {ref} spam")
        assert alice.last_text().replace(ref, "<ref>") == answers[0], ref
    assert "moderators have your report" not in " ".join(alice.texts())
    assert "warning" not in " ".join(bob.texts())

    # By @username or nickname it works as before.
    await alice.send("/report @bob spam")
    assert "moderators have your report" in alice.last_text()
