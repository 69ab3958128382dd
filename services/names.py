"""Anonymous display names, so that real names are never shown unless a user chooses (/nick)."""

from __future__ import annotations

from collections.abc import Callable

ADJECTIVES = (
    "Amber",
    "Brave",
    "Calm",
    "Clever",
    "Cosmic",
    "Crimson",
    "Gentle",
    "Golden",
    "Happy",
    "Jolly",
    "Lucky",
    "Mellow",
    "Misty",
    "Noble",
    "Quiet",
    "Rapid",
    "Silver",
    "Sunny",
    "Swift",
    "Witty",
)
ANIMALS = (
    "Badger",
    "Beaver",
    "Falcon",
    "Fox",
    "Hedgehog",
    "Heron",
    "Koala",
    "Lynx",
    "Marten",
    "Otter",
    "Owl",
    "Panda",
    "Puffin",
    "Raccoon",
    "Seal",
    "Sparrow",
    "Squirrel",
    "Tiger",
    "Walrus",
    "Wolf",
)


def anonymous_name(randbelow: Callable[[int], int]) -> str:
    """E.g. `Swift Otter 417`."""
    return f"{ADJECTIVES[randbelow(len(ADJECTIVES))]} {ANIMALS[randbelow(len(ANIMALS))]} {100 + randbelow(900)}"
