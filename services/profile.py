"""A user's own preferences."""

from __future__ import annotations

from services.errors import UnknownLanguage
from storage.models import User


class ProfileService:
    def __init__(self, languages: list[str]) -> None:
        self.languages = languages

    async def set_language(self, user: User, language: str) -> str:
        """Remember the language for every later answer. Raises UnknownLanguage."""
        if language not in self.languages:
            raise UnknownLanguage()
        user.language = language
        return language
