"""Times and durations as each reader reads them: their zone, their language's words and forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.i18n import Translator
from services.clock import FakeClock
from services.relay import parse_when
from services.zones import guess_zone, search_zones, zones_for_phone

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 15:00 in Moscow


def texts(locale: str, zone: str = "Europe/Moscow"):  # type: ignore[no-untyped-def]
    return Translator(clock=FakeClock(NOW)).texts(locale, zone)


def test_moments_today_tomorrow_and_dates() -> None:
    ru, en = texts("ru"), texts("en")
    assert ru.moment(NOW + timedelta(hours=3, minutes=30)) == "сегодня в 18:30"
    assert ru.moment(datetime(2026, 12, 2, 6, 0, tzinfo=UTC)) == "завтра в 09:00"
    assert ru.moment(datetime(2026, 12, 3, 11, 0, tzinfo=UTC)) == "3 дек., 14:00"
    assert ru.moment(datetime(2026, 11, 30, 20, 0, tzinfo=UTC)) == "вчера в 23:00"
    assert ru.moment(datetime(2027, 1, 3, 11, 0, tzinfo=UTC)) == "3 янв. 2027 г., 14:00"
    assert en.moment(NOW + timedelta(hours=3, minutes=30)) == "today at 6:30 PM"
    assert en.moment(datetime(2026, 12, 3, 11, 0, tzinfo=UTC)) == "Dec 3, 2:00 PM"
    # Midnight in Moscow is still "yesterday" in New York.
    assert texts("en", "America/New_York").moment(datetime(2026, 12, 1, 21, 0, tzinfo=UTC)) == "today at 4:00 PM"


def test_durations_with_plural_forms() -> None:
    ru, en = texts("ru"), texts("en")
    assert [ru.duration(timedelta(hours=n)) for n in (1, 2, 5, 11, 21)] == [
        "1 час",
        "2 часа",
        "5 часов",
        "11 часов",
        "21 час",
    ]
    assert ru.duration(timedelta(minutes=1)) == "1 минуту"  # "на 1 минуту", "через 1 минуту"
    assert ru.duration(timedelta(days=1, hours=6)) == "1 день 6 часов"
    assert ru.duration(timedelta(weeks=2)) == "2 недели"
    assert en.duration(timedelta(hours=4)) == "4 hours"
    assert en.duration(timedelta(minutes=1)) == "1 minute"
    assert en.duration(timedelta(days=10)) == "10 days"


def test_schedule_reads_the_members_wall_clock_and_both_languages_units() -> None:
    from zoneinfo import ZoneInfo

    moscow = ZoneInfo("Europe/Moscow")
    assert parse_when("18:30 привет", NOW, moscow) == (datetime(2026, 12, 1, 15, 30, tzinfo=UTC), "привет")
    assert parse_when("в 9:00 привет", NOW, moscow) == (datetime(2026, 12, 2, 6, 0, tzinfo=UTC), "привет")
    assert parse_when("через 10 мин текст", NOW, moscow)[0] == NOW + timedelta(minutes=10)
    assert parse_when("2ч текст", NOW, moscow)[0] == NOW + timedelta(hours=2)
    assert parse_when("in 3 hours text", NOW, moscow)[0] == NOW + timedelta(hours=3)
    assert parse_when("через 2 дня текст", NOW, moscow)[0] == NOW + timedelta(days=2)
    # A spring-forward gap: 02:30 does not exist in New York on 2026-03-08; clocks show 03:30 then.
    ny = ZoneInfo("America/New_York")
    before = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST
    due, _ = parse_when("02:30 x", before, ny)
    assert due > before
    assert due.astimezone(ny).hour in (1, 3)


def test_zones_from_phones_and_city_search() -> None:
    assert guess_zone("+74951234567", "UTC") == "Europe/Moscow"
    assert guess_zone("+79161234567", "UTC") == "Europe/Moscow"  # a mobile: the country's main zone
    assert guess_zone("+79161234567", "Asia/Omsk") == "Asia/Omsk"  # unless the default is one of its zones
    assert guess_zone("+12125551234", "UTC") == "America/New_York"
    assert "Asia/Almaty" not in zones_for_phone("+79161234567")  # +7 is Kazakhstan too: Russian zones only
    assert search_zones("новосиб") == ["Asia/Novosibirsk"]
    assert search_zones("New York") == ["America/New_York"]
    assert search_zones("Екатеринбург") == ["Asia/Yekaterinburg"]
    assert search_zones("атлантида") == []
