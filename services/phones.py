"""Phone numbers: normalisation to E.164 and masking for display."""

from __future__ import annotations

import phonenumbers

from services.errors import InvalidPhone


def normalize_phone(raw: str, default_region: str = "RU", *, international: bool = False) -> str:
    """Return `raw` as E.164 (`+79161234567`).

    `international=True` for Telegram contacts, whose digits are always international with or
    without `+`; typed numbers are read in `default_region` first, then as international.
    Raises InvalidPhone when the text is not a valid number.
    """
    text = raw.strip()
    if not text or len(text) > 32:
        raise InvalidPhone()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):
        candidates = [text]
    elif international:
        candidates = ["+" + digits]
    else:
        candidates = [text, "+" + digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, None if candidate.startswith("+") else default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhone()


def mask_phone(e164: str | None) -> str:
    """`+79161234567` -> `+7 *** *** 45 67`: country code and the last four digits only."""
    if not e164:
        return "—"
    try:
        number = phonenumbers.parse(e164, None)
        country = str(number.country_code)
        national = str(number.national_number)
    except phonenumbers.NumberParseException:
        country, national = "", e164.lstrip("+")
    tail = national[-4:]
    return f"+{country} *** *** {tail[:2]} {tail[2:]}".strip()
