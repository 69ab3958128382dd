"""Property tests: phone normalisation and invite-code generation."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.errors import InvalidPhone
from services.invites import CODE_ALPHABET, CODE_LENGTH, generate_code, looks_like_code
from services.phones import mask_phone, normalize_phone

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
ru_mobile = st.from_regex(r"9[0-9]{9}", fullmatch=True).filter(
    lambda n: phonenumbers.is_valid_number(phonenumbers.parse("+7" + n))
)


@given(ru_mobile)
def test_every_way_of_writing_a_number_gives_one_e164(national: str) -> None:
    expected = "+7" + national
    spaced = f"+7 ({national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}"
    for written in (expected, "7" + national, "8" + national, spaced, national, f"  {expected}  "):
        assert normalize_phone(written, "RU") == expected


@given(st.text(max_size=40))
def test_any_text_is_a_number_or_invalid_phone(text: str) -> None:
    try:
        result = normalize_phone(text, "RU")
    except InvalidPhone:
        return
    assert E164.match(result)
    assert normalize_phone(result, "RU") == result  # idempotent


@given(st.sampled_from(["US", "GB", "DE", "FR", "RU", "KZ", "BR", "IN"]), st.randoms())
def test_example_numbers_of_many_countries(region: str, rnd: object) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    assert normalize_phone(international, "RU") == e164
    assert normalize_phone(e164.lstrip("+"), "RU", international=True) == e164  # a Telegram contact


@given(st.sampled_from(["+12015550123", "+447400123456", "+79161234567", "+77710009998"]))
def test_contacts_without_plus_are_international(e164: str) -> None:
    assert normalize_phone(e164[1:], "RU", international=True) == e164


@given(ru_mobile)
def test_mask_shows_only_country_and_last_four(national: str) -> None:
    masked = mask_phone("+7" + national)
    assert masked == f"+7 *** *** {national[6:8]} {national[8:]}"
    assert national[:6] not in masked.replace(" ", "")


@settings(max_examples=300)
@given(st.randoms(use_true_random=False))
def test_codes_are_six_chars_of_the_alphabet(rnd: object) -> None:
    import random

    assert isinstance(rnd, random.Random)
    code = generate_code(rnd.choice)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)
    assert looks_like_code(code)


def test_secure_generator_spreads_over_the_alphabet() -> None:
    codes = [generate_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    used = set("".join(codes))
    assert used == set(CODE_ALPHABET)  # 12,000 draws from 62 symbols reach every one


@pytest.mark.parametrize("bad", ["", "12", "abc", "+", "+0000000", "9" * 40])
def test_clearly_bad_numbers(bad: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(bad, "RU")
