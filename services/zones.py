"""Time zones: the ones a phone number suggests, a search by city in English or Russian, and labels."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel import Locale
from babel.core import get_global
from phonenumbers import timezone as phone_timezones

# Where a country's numbers do not tell the zone (Russian mobiles list a dozen), the zone most of its
# people live in; members elsewhere pick theirs with /timezone.
COUNTRY_ZONES = {
    "RU": "Europe/Moscow",
    "KZ": "Asia/Almaty",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "AU": "Australia/Sydney",
    "ID": "Asia/Jakarta",
}
SEARCH_LOCALES = ("en", "ru")


def is_zone(name: str) -> bool:
    if name not in known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def known_zones() -> frozenset[str]:
    return frozenset(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def zones_for_phone(e164: str) -> list[str]:
    """The zones a number may be in, most likely first (empty when the number tells nothing)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return []
    zones = [z for z in phone_timezones.time_zones_for_number(number) if is_zone(z)]
    region = phonenumbers.region_code_for_number(number) or ""
    # +7 is Russia and Kazakhstan, +44 the UK and its islands: the number's own country first.
    territories = get_global("zone_territories")
    own = [z for z in zones if territories.get(z) == region]
    zones = own or zones
    january = datetime(2026, 1, 1, tzinfo=UTC)
    zones.sort(key=lambda z: (z != COUNTRY_ZONES.get(region), january.astimezone(ZoneInfo(z)).utcoffset(), z))
    return zones


def guess_zone(e164: str, default: str) -> str:
    """The zone to show this member's times in until they choose: the number's only zone, the
    default when the number allows it, the country's main zone, else the default."""
    zones = zones_for_phone(e164)
    if len(zones) == 1:
        return zones[0]
    if default in zones:
        return default
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""
    except phonenumbers.NumberParseException:
        return default
    return COUNTRY_ZONES[region] if COUNTRY_ZONES.get(region) in zones else default


@cache
def _cities() -> list[tuple[str, str]]:
    """(lower-cased city name in one of our languages, zone) for every zone with a city."""
    found: list[tuple[str, str]] = []
    for name in sorted(known_zones()):
        found.append((name.rsplit("/", 1)[-1].replace("_", " ").lower(), name))
        for code in SEARCH_LOCALES:
            city = Locale.parse(code).time_zones.get(name, {}).get("city")
            if city:
                found.append((str(city).lower(), name))
    return found


def search_zones(query: str, limit: int = 8) -> list[str]:
    """Zones whose city (English or Russian, or the IANA name) starts with the query; then those containing it."""
    q = " ".join(query.lower().replace("ё", "е").split())
    if not q:
        return []
    if is_zone(query.strip()):
        return [query.strip()]
    starts: list[str] = []
    contains: list[str] = []
    for city, name in _cities():
        city = city.replace("ё", "е")
        bucket = starts if city.startswith(q) else contains if q in city else None
        if bucket is not None and name not in starts and name not in contains:
            bucket.append(name)
    return (starts + contains)[:limit]


def city_name(name: str, locale: str) -> str:
    city = Locale.parse(locale).time_zones.get(name, {}).get("city")
    return str(city) if city else name.rsplit("/", 1)[-1].replace("_", " ")


def utc_offset(name: str, now: datetime) -> str:
    """`UTC+3`, `UTC−3:30`, `UTC`."""
    offset = now.astimezone(ZoneInfo(name)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(name: str, locale: str, now: datetime) -> str:
    """`Москва (UTC+3)`, `New York (UTC−5)`."""
    if name == "UTC":
        return "UTC"
    return f"{city_name(name, locale)} ({utc_offset(name, now)})"
