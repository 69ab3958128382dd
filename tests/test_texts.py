"""Every text the code can ask for exists in every language, with the same arguments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fluent.syntax import FluentParser, ast
from fluent.syntax.visitor import Visitor

from bot.i18n import LOCALES_DIR, Translator
from services import errors

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ["bot", "handlers", "services"]
KEY_CALL = re.compile(r"""\bt(?:\.plain)?\(\s*["']([a-z0-9-]+)["']\s*[,)]""")


class _Variables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: ast.VariableReference) -> None:
        self.names.add(node.id.name)


def catalog() -> dict[str, dict[str, set[str]]]:
    """locale -> key -> the variables its text uses."""
    found: dict[str, dict[str, set[str]]] = {}
    for folder in sorted(p for p in LOCALES_DIR.iterdir() if p.is_dir()):
        keys: dict[str, set[str]] = {}
        for path in sorted(folder.glob("*.ftl")):
            for entry in FluentParser().parse(path.read_text(encoding="utf-8")).body:
                if isinstance(entry, ast.Message):
                    visitor = _Variables()
                    visitor.visit(entry)
                    assert entry.id.name not in keys, f"{path}: {entry.id.name} defined twice"
                    keys[entry.id.name] = visitor.names
        found[folder.name] = keys
    return found


def keys_used_in_code() -> set[str]:
    used: set[str] = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            used.update(KEY_CALL.findall(path.read_text(encoding="utf-8")))
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.DomainError):
            used.add(value.key)
    return used


def test_languages_have_the_same_keys_and_variables() -> None:
    texts = catalog()
    assert set(texts) >= {"en", "ru"}
    for locale, keys in texts.items():
        assert set(keys) == set(texts["en"]), (locale, sorted(set(keys) ^ set(texts["en"])))
        differing = {key: (names, texts["en"][key]) for key, names in keys.items() if names != texts["en"][key]}
        assert not differing, (locale, differing)


def test_every_key_the_code_uses_exists() -> None:
    missing = sorted(keys_used_in_code() - set(catalog()["en"]))
    assert not missing, missing


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_every_text_renders(locale: str) -> None:
    translator = Translator()
    t = translator.texts(locale)
    for key, names in catalog()[locale].items():
        text = t(key, **{name: 1 for name in names})
        assert text.strip(), (locale, key)


def test_every_relayed_kind_has_a_label() -> None:
    from handlers.relay import MEDIA_KINDS

    keys = set(catalog()["en"])
    missing = sorted(f"relay-media-{kind}" for kind in MEDIA_KINDS.values() if kind != "text")
    assert not [key for key in missing if key not in keys]


def test_help_names_every_user_command_in_both_languages() -> None:
    from bot.i18n import Translator
    from bot.i18n.menus import USER_COMMANDS

    translator = Translator()
    for locale in translator.locales:
        text = translator.texts(locale)("help-text")
        missing = [name for name in USER_COMMANDS if name not in {"start", "help"} and f"/{name}" not in text]
        assert missing == [], (locale, missing)
