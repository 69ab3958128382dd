"""OAUTH_TOKEN_KEY: strong keys only (refused at start with one line naming the setting), and
rotation: the first key encrypts and signs, every listed key still decrypts and verifies."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.__main__ import settings_error_line
from bot.settings import Settings
from services.oauth import TokenKeys
from tests.fakes.telegram import TOKEN

WEAK = [
    "secret",
    "a long secret that only this test knows",  # any string was accepted and hashed with SHA-256
    "correct-horse-battery-staple-correct-horse",  # 43 characters, not 32 bytes of base64
    base64.urlsafe_b64encode(b"A" * 32).decode(),  # the shape of a Fernet key, none of the randomness
    base64.urlsafe_b64encode(b"0123456789" * 3 + b"01").decode()[:-1],  # one character short
    " , ",
]


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize("weak", WEAK)
def test_a_weak_token_key_is_refused_at_start(weak: str) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(oauth_token_key=weak)
    line = settings_error_line(refused.value)
    assert line.startswith("Setting OAUTH_TOKEN_KEY is invalid")
    assert "Fernet" in line
    assert "\n" not in line
    assert weak.strip() == "" or weak not in line  # the refused value is not echoed


def test_fernet_keys_are_accepted_one_or_several() -> None:
    one, two = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert settings(oauth_token_key=one).oauth_token_key is not None
    assert settings(oauth_token_key=f"{one}, {two}").oauth_token_key is not None


def test_rotation_old_tokens_still_decrypt_new_ones_use_the_new_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = TokenKeys.parse(old).cipher().encrypt(b"access-token")
    signed = TokenKeys.parse(old).sign("state.123")

    rotated = TokenKeys.parse(f"{new},{old}")
    assert rotated.cipher().decrypt(stored) == b"access-token"
    assert rotated.verify("state.123", signed)  # a /link button made just before the rotation
    fresh = rotated.cipher().encrypt(b"refreshed")
    assert TokenKeys.parse(new).cipher().decrypt(fresh) == b"refreshed"  # written with the first key
    assert TokenKeys.parse(new).cipher().decrypt(rotated.cipher().rotate(stored)) == b"access-token"

    assert not TokenKeys.parse(new).verify("state.123", signed)  # once the old key is dropped
    assert not rotated.verify("state.124", signed)
