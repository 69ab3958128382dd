"""A user's own preferences."""

from __future__ import annotations

from services.errors import UnknownLanguage, UnknownTimezone
from services.zones import is_zone, search_zones, zones_for_phone
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

    async def set_timezone(self, user: User, name: str) -> str:
        """Show this member's times in zone `name` from now on. Raises UnknownTimezone."""
        if not is_zone(name):
            raise UnknownTimezone(query=name[:64])
        user.timezone = name
        return name

    def likely_zones(self, user: User, default: str, limit: int = 14) -> list[str]:
        """The zones to offer as buttons: the member's own, their phone's, the default."""
        found: list[str] = []
        for name in [user.timezone or default, *(zones_for_phone(user.phone) if user.phone else []), default]:
            if name not in found and (name == "UTC" or is_zone(name)):
                found.append(name)
        return found[:limit]

    def find_zones(self, query: str) -> list[str]:
        """Zones whose city matches `query` (English or Russian). Raises UnknownTimezone when none does."""
        found = search_zones(query)
        if not found:
            raise UnknownTimezone(query=query[:64])
        return found
