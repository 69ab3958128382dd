"""Durations and clock times as members type them, in English or Russian: `30m`, `4h`, `2ч`,
`10 мин`, `через 10 мин`, `in 2 hours`, `18:30`. No aiogram; rendering lives in bot/i18n.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

# Every spelling of a unit we accept, in both languages (members mix them), -> the timedelta field.
UNIT_WORDS: dict[str, str] = {}
for _unit, _words in {
    "seconds": "s sec secs second seconds с сек секунда секунды секунд секунду",
    "minutes": "m min mins minute minutes м мин минута минуты минут минуту",
    "hours": "h hr hrs hour hours ч час часа часов",
    "days": "d day days д дн день дня дней сут сутки суток",
    "weeks": "w wk week weeks нед неделя недели недель неделю",
}.items():
    for _word in _words.split():
        UNIT_WORDS[_word] = _unit

_UNIT = "|".join(sorted((re.escape(w) for w in UNIT_WORDS), key=len, reverse=True))
# One amount and a unit: `30m`, `4 h`, `2ч`, `10 мин`, `3 часа` (a trailing dot after an abbreviation is fine).
DURATION_RE = re.compile(rf"^(\d{{1,6}})\s*({_UNIT})\.?$", re.IGNORECASE)
# `in 10m text`, `через 10 мин текст`, or the duration alone at the start: `10m text`.
_IN_RE = re.compile(rf"^(?:(?:in|через)\s+)?(\d{{1,6}})\s*({_UNIT})\.?(?:\s+(.*))?$", re.IGNORECASE | re.S)
_AT_RE = re.compile(r"^(?:(?:at|в)\s+)?(\d{1,2})[:.](\d{2})(?:\s+(.*))?$", re.IGNORECASE | re.S)


def parse_duration(text: str, maximum: timedelta | None = None) -> timedelta | None:
    """`30m`, `4h`, `2ч`, `10 мин`, `1 неделя` -> timedelta; None when it is not one (or not positive,
    or over `maximum`)."""
    match = DURATION_RE.match(text.strip())
    if match is None:
        return None
    duration = _delta(int(match[1]), match[2])
    if duration <= timedelta(0) or (maximum is not None and duration > maximum):
        return None
    return duration


def _delta(amount: int, unit: str) -> timedelta:
    return timedelta(**{UNIT_WORDS[unit.lower()]: amount})


def leading_duration(words: list[str], maximum: timedelta | None = None) -> tuple[timedelta | None, list[str]]:
    """A duration at the start of a command's words (`2ч`, `4 часа`, `на 4 часа`, `for 2 days`) and the
    words after it; (None, words) when they do not start with one."""
    start = 1 if words and words[0].lower() in ("на", "for") else 0
    for size in (2, 1):
        part = words[start : start + size]
        if len(part) == size:
            duration = parse_duration(" ".join(part), maximum)
            if duration is not None:
                return duration, words[start + size :]
    return None, words


def split_duration(text: str) -> tuple[timedelta, str] | None:
    """A leading `in 10m` / `через 10 мин` / `2ч` and the rest of the text, or None."""
    match = _IN_RE.match(text.strip())
    if match is None:
        return None
    return _delta(int(match[1]), match[2]), (match[3] or "").strip()


def split_clock_time(text: str) -> tuple[time, str] | None:
    """A leading `18:30` (or `в 18:30`, `at 18.30`) and the rest of the text, or None."""
    match = _AT_RE.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute), (match[3] or "").strip()


def next_local(at: time, now: datetime, zone: tzinfo) -> datetime:
    """The next moment (in UTC) when the wall clock in `zone` shows `at`: today's if still ahead,
    else tomorrow's. A time skipped by a DST change comes out an hour later, as clocks do."""
    local_now = now.astimezone(zone)
    day: date = local_now.date()
    for _ in range(3):
        due = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if due > now:
            return due
        day += timedelta(days=1)
    raise AssertionError("unreachable: a day later is always ahead")
