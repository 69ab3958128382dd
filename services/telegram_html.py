"""Telegram's HTML parse mode, for text staff type in the web panel: whether Telegram will take it
(`html_problem`, as its 400 "can't parse entities" would say), and how it will look (`telegram_preview`,
safe to put in a page: every tag Telegram does not know is shown as text, attributes other than a
link's http(s)/tg href are dropped, so a preview cannot carry a script or a style into the panel)."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

# Telegram's parse_mode=HTML tags (Bot API "Formatting options"), with their HTML look in the panel.
TAGS = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s", "strike": "s", "del": "s",
    "code": "code", "pre": "pre", "a": "a", "blockquote": "blockquote", "tg-spoiler": "span",
}  # fmt: skip


class _Preview(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "span" and ("class", "tg-spoiler") in attrs:
            tag = "tg-spoiler"
        target = TAGS.get(tag)
        if target is None:
            self.out.append(escape(self.get_starttag_text() or ""))
            return
        extra = ""
        if target == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(("http://", "https://", "tg://")):
                extra = f' href="{escape(href)}" rel="noopener noreferrer nofollow" target="_blank"'
        elif tag == "tg-spoiler":
            extra = ' class="spoiler"'
        self.open.append(target)
        self.out.append(f"<{target}{extra}>")

    def handle_endtag(self, tag: str) -> None:
        target = TAGS.get("tg-spoiler" if tag == "span" else tag)
        if target is not None and target in self.open:
            while self.open:
                closing = self.open.pop()
                self.out.append(f"</{closing}>")
                if closing == target:
                    break
        else:
            self.out.append(escape(f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data).replace("\n", "<br>"))


class _Checker(HTMLParser):
    """Known tags only, properly nested, like Telegram's parser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS and tag != "tg-emoji":
            self.problem = self.problem or f"<{tag}>"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problem = self.problem or f"</{tag}>"
        else:
            self.stack.pop()


def html_problem(text: str) -> str | None:
    """The first tag Telegram would refuse (unknown, or closed out of order), or None when it parses."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.problem is None and checker.stack:
        return f"<{checker.stack[-1]}>"
    return checker.problem


def telegram_preview(text: str) -> str:
    parser = _Preview()
    parser.feed(text[:5000])
    parser.close()
    return "".join(parser.out) + "".join(f"</{tag}>" for tag in reversed(parser.open))
