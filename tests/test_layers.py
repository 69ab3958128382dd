"""The import rules of README.md "Layout", kept: every module's imports (those under TYPE_CHECKING too)
against the table's "may import" column. An update's path is one straight line, bot → handlers →
services → storage, with no hop back up."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("bot", "handlers", "services", "storage", "panel")

# bot/ wires handlers/ (routers, their middlewares, the admin-chat rule, the copy style) in one place.
BOT_WIRING = {"bot/app.py"}


def layout_rules() -> dict[str, set[str] | None]:
    """folder -> the project modules it may import (None: everything), from README.md's table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rules: dict[str, set[str] | None] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"`\w+/`", cells[0]):
            continue
        folder = cells[0].strip("`/")
        rules[folder] = None if cells[2] == "everything" else set(re.findall(r"`([\w.]+)`", cells[2]))
    return rules


def imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            assert node.module is not None
            for alias in node.names:  # `from bot import settings` imports bot.settings
                yield node.lineno, f"{node.module}.{alias.name}"


def allowed(module: str, own: str, rule: set[str]) -> bool:
    top = module.split(".")[0]
    if top not in PROJECT or top == own:
        return True
    return any(module == name or module.startswith(f"{name}.") for name in rule)


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_table_names_every_layer() -> None:
    rules = layout_rules()
    assert {"bot", "handlers", "services", "storage", "panel"} <= rules.keys()
    assert rules["storage"] == set()
    assert rules["bot"] is None


@pytest.mark.parametrize("folder", ["handlers", "services", "storage", "panel"])
def test_imports_follow_the_layout_table(folder: str) -> None:
    rule = layout_rules()[folder]
    assert rule is not None
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in modules(folder)
        for line, module in imports(path)
        if not allowed(module, folder, rule)
    ]
    assert wrong == [], f"{folder}/ may import only {sorted(rule)} of the project"


def test_services_and_storage_never_import_aiogram() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for folder in ("services", "storage")
        for path in modules(folder)
        for line, module in imports(path)
        if module.split(".")[0] == "aiogram"
    ]
    assert wrong == []


def test_only_the_wiring_imports_handlers_and_i18n_stands_alone() -> None:
    """bot/ imports handlers/ only where it wires them (bot/app.py): nothing else of the process
    reaches back into a handler. And bot.i18n, which handlers share, imports no other part of bot/."""
    wrong = []
    for path in modules("bot"):
        name = str(path.relative_to(ROOT))
        for line, module in imports(path):
            top = module.split(".")[0]
            if top == "handlers" and name not in BOT_WIRING:
                wrong.append(f"{name}:{line}: {module}")
            if name.startswith("bot/i18n/") and top == "bot" and not module.startswith("bot.i18n"):
                wrong.append(f"{name}:{line}: {module}")
    assert wrong == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    """The walk sees the forms an import takes (plain, from, under TYPE_CHECKING)."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nimport bot.settings\nfrom bot import commands\n"
        "if TYPE_CHECKING:\n    from bot.middlewares import UnitOfWork\nfrom bot.i18n import Texts\n"
    )
    rule = layout_rules()["handlers"]
    assert rule is not None
    bad = sorted({name for _, name in imports(module) if not allowed(name, "handlers", rule)})
    assert bad == ["bot.commands", "bot.middlewares.UnitOfWork", "bot.settings"]
