"""Each member reads and types times in their own zone and language: guessed from the phone at
sign-in, changed with /timezone; /schedule, /status, bans and limit resets all follow it.

The fake clock starts at 2026-01-01 12:00 UTC: 15:00 in Moscow, 19:00 in Novosibirsk, 07:00 in New York."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import ScheduledMessage, User
from tests.e2e.harness import Harness, Person

MOSCOW_PHONE = "+74951234567"
NEW_YORK_PHONE = "+12125551234"


async def zone_of(tg: Harness, person: Person) -> str | None:
    async with tg.app.ctx.sessionmaker() as session:
        return await session.scalar(select(User.timezone).where(User.telegram_id == person.id))


async def test_sign_in_guesses_the_zone_from_the_phone(tg: Harness) -> None:
    ivan = await tg.user("Иван", language_code="ru").signed_in(MOSCOW_PHONE)
    mobile = await tg.user("Оля", language_code="ru").signed_in()  # +7916…: a dozen zones, Moscow first
    nina = await tg.user("Nina").signed_in(NEW_YORK_PHONE)
    assert await zone_of(tg, ivan) == "Europe/Moscow"
    assert await zone_of(tg, mobile) == "Europe/Moscow"
    assert await zone_of(tg, nina) == "America/New_York"
    await ivan.send("/status")
    assert "Ваше время: 15:00, Москва (UTC+3)" in ivan.last_text()
    await nina.send("/status")
    assert "Your time: 7:00 AM, New York (UTC−5)" in nina.last_text()


async def test_a_russian_member_schedules_in_local_time_and_reads_it_back(tg: Harness) -> None:
    ivan = await tg.user("Иван", language_code="ru").signed_in(MOSCOW_PHONE)
    bob = await tg.user("Bob").signed_in()
    for person in (ivan, bob):
        await person.send("/join")
    await ivan.send("/schedule 18:30 Встречаемся у входа")
    assert "Запланировано на сегодня в 18:30." in ivan.last_text()
    await ivan.send("/schedule 09:00 Доброе утро")
    assert "Запланировано на завтра в 09:00." in ivan.last_text()
    await ivan.send("/schedule через 10 мин Скоро начнём")
    assert "Запланировано на сегодня в 15:10." in ivan.last_text()
    await ivan.send("/schedule 2ч Через два часа")
    assert "Запланировано на сегодня в 17:00." in ivan.last_text()
    await ivan.send("/scheduled")
    listing = ivan.last_text()
    assert "сегодня в 18:30 — Встречаемся у входа" in listing
    assert "завтра в 09:00 — Доброе утро" in listing
    async with tg.app.ctx.sessionmaker() as session:
        dues = sorted((await session.scalars(select(ScheduledMessage.due_at))).all())
    assert datetime(2026, 1, 1, 15, 30, tzinfo=UTC) in [d.replace(tzinfo=UTC) for d in dues]
    assert datetime(2026, 1, 2, 6, 0, tzinfo=UTC) in [d.replace(tzinfo=UTC) for d in dues]
    tg.clock.set(datetime(2026, 1, 1, 15, 30, tzinfo=UTC))
    await tg.run_jobs()
    assert any("Встречаемся у входа" in text for text in bob.texts())
    # The day after, yesterday's plan is "a date": the next 09:00 is tomorrow's from then.
    tg.clock.set(datetime(2026, 1, 3, 8, 0, tzinfo=UTC))
    await ivan.send("/schedule 14:00 Снова")
    assert "Запланировано на сегодня в 14:00." in ivan.last_text()


async def test_an_english_member_schedules_in_russian_units_and_sees_the_date(tg: Harness) -> None:
    nina = await tg.user("Nina").signed_in(NEW_YORK_PHONE)
    await nina.send("/join")
    await nina.send("/schedule через 3 часа tea")
    assert "Scheduled for today at 10:00 AM." in nina.last_text()
    await nina.send("/schedule in 3 days dinner")
    assert "Scheduled for Jan 4, 7:00 AM." in nina.last_text()


async def test_a_ban_is_shown_in_each_members_zone_and_language(tg: Harness) -> None:
    admin = await tg.admin().signed_in(NEW_YORK_PHONE)
    ivan = await tg.user("Иван", language_code="ru").signed_in(MOSCOW_PHONE)
    await ivan.send("/nick Иван")
    await admin.send(f"/ban {MOSCOW_PHONE} 2ч спам")
    assert "Иван (#2) is banned for 2 hours, until today at 9:00 AM." in admin.last_text()
    assert (
        "⛔ Вы заблокированы модератором. Писать снова можно будет сегодня в 17:00. Причина: спам." in ivan.last_text()
    )
    await ivan.send("/join")
    await ivan.send("привет")
    assert "Вы заблокированы. Писать снова можно будет сегодня в 17:00." in ivan.last_text()
    await ivan.send("/status")
    assert "Блокировка: писать снова можно сегодня в 17:00" in ivan.last_text()
    await admin.send(f"/unban {MOSCOW_PHONE}")
    await admin.send(f"/ban {MOSCOW_PHONE} на 3 часа за грубость")
    assert "is banned for 3 hours, until today at 10:00 AM." in admin.last_text()
    assert "Причина: за грубость." in ivan.last_text()
    await admin.send(f"/unban {MOSCOW_PHONE}")
    await admin.send(f"/ban {MOSCOW_PHONE} 3d")
    assert "is banned for 3 days, until Jan 4, 7:00 AM." in admin.last_text()
    assert "Писать снова можно будет 4 янв., 15:00." in ivan.last_text()
    await admin.send("/audit")
    assert "today at 7:00 AM · " in admin.last_text()
    assert "banned Иван (#2) for 3 days" in admin.last_text()


async def test_the_limit_resets_in_the_members_time(tg: Harness) -> None:
    ivan = await tg.user("Иван", language_code="ru").signed_in(MOSCOW_PHONE)
    bob = await tg.user("Bob").signed_in()
    for person in (ivan, bob):
        await person.send("/join")
    limit = tg.app.ctx.settings.messages_per_period
    for n in range(limit + 1):
        await ivan.send(f"сообщение {n}")
    assert f"Вы отправили {limit} из {limit} сообщений за этот период. Лимит обновится сегодня в 16:00." in (
        ivan.last_text()
    )


async def test_timezone_buttons_and_city_search(tg: Harness) -> None:
    ivan = await tg.user("Иван", language_code="ru").signed_in()
    await ivan.send("/timezone")
    assert "Время показываю по поясу Москва (UTC+3), там сейчас 15:00." in ivan.last_text()
    labels = [b["text"] for b in ivan.last().buttons]
    assert labels[0] == "Москва (UTC+3)"
    assert "Новосибирск (UTC+7)" in labels
    await ivan.send("/timezone новосиб")
    assert "Подходит 1 часовой пояс" in ivan.last_text()
    await ivan.press("Новосибирск (UTC+7)")
    assert "теперь время показываю по поясу Новосибирск (UTC+7), там сейчас 19:00." in ivan.last_text()
    assert await zone_of(tg, ivan) == "Asia/Novosibirsk"
    await ivan.send("/timezone Атлантида")
    assert "Город «Атлантида» не найден." in ivan.last_text()
    await ivan.press_data("tz:Mars/Olympus", ivan.last())
    assert await zone_of(tg, ivan) == "Asia/Novosibirsk"
