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


# Russian adjectives agree with the animal's gender: (masculine, feminine) forms, and each animal's gender.
ADJECTIVES_RU = (
    ("Янтарный", "Янтарная"),
    ("Смелый", "Смелая"),
    ("Спокойный", "Спокойная"),
    ("Ловкий", "Ловкая"),
    ("Звёздный", "Звёздная"),
    ("Алый", "Алая"),
    ("Добрый", "Добрая"),
    ("Золотой", "Золотая"),
    ("Весёлый", "Весёлая"),
    ("Задорный", "Задорная"),
    ("Везучий", "Везучая"),
    ("Мягкий", "Мягкая"),
    ("Туманный", "Туманная"),
    ("Благородный", "Благородная"),
    ("Тихий", "Тихая"),
    ("Быстрый", "Быстрая"),
    ("Серебряный", "Серебряная"),
    ("Солнечный", "Солнечная"),
    ("Стремительный", "Стремительная"),
    ("Остроумный", "Остроумная"),
)
ANIMALS_RU = (
    ("Барсук", "m"),
    ("Бобр", "m"),
    ("Сокол", "m"),
    ("Лис", "m"),
    ("Ёж", "m"),
    ("Цапля", "f"),
    ("Коала", "f"),
    ("Рысь", "f"),
    ("Куница", "f"),
    ("Выдра", "f"),
    ("Сова", "f"),
    ("Панда", "f"),
    ("Енот", "m"),
    ("Тюлень", "m"),
    ("Воробей", "m"),
    ("Белка", "f"),
    ("Тигр", "m"),
    ("Морж", "m"),
    ("Волк", "m"),
    ("Пингвин", "m"),
)


def anonymous_name(randbelow: Callable[[int], int], language: str | None = None) -> str:
    """E.g. `Swift Otter 417`, or `Тихая Сова 417` for a member who speaks Russian."""
    number = 100 + randbelow(900)
    if language == "ru":
        masculine, feminine = ADJECTIVES_RU[randbelow(len(ADJECTIVES_RU))]
        animal, gender = ANIMALS_RU[randbelow(len(ANIMALS_RU))]
        return f"{masculine if gender == 'm' else feminine} {animal} {number}"
    return f"{ADJECTIVES[randbelow(len(ADJECTIVES))]} {ANIMALS[randbelow(len(ANIMALS))]} {number}"
