"""Finding users the way admins name them: Telegram id, @username, phone or invite code."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import InvalidPhone, NotARelayedMessage, ReportTargetUnknown, UserNotFound
from services.invites import looks_like_code
from services.moderation import NoRelayedMessages, RelayedMessageLookup
from services.phones import normalize_phone
from storage.models import User
from storage.repositories.relay import RelayRepo
from storage.repositories.users import InviteCodeRepo, UserRepo


class UserDirectory:
    def __init__(
        self, session: AsyncSession, *, default_region: str, lookup: RelayedMessageLookup | None = None
    ) -> None:
        self.users = UserRepo(session)
        self.members = RelayRepo(session)
        self.codes = InviteCodeRepo(session)
        self.default_region = default_region
        self.lookup: RelayedMessageLookup = lookup or NoRelayedMessages(session)

    async def resolve_reply(self, chat_id: int, message_id: int) -> User:
        """The author of the relayed message whose copy is `message_id` in `chat_id` (an admin's reply).
        Raises NotARelayedMessage."""
        found = await self.lookup.find_by_copy(chat_id, message_id)
        user = await self.users.by_id(found.author_id) if found is not None else None
        if user is None:
            raise NotARelayedMessage()
        return user

    async def resolve_member(self, ref: str) -> User:
        """Whom a member may name (to report them): a signed-in member's `@username` or chat nickname.

        A phone number, an account or Telegram id, or an invite code matches nobody, with the same
        answer as an unknown name (ReportTargetUnknown): a member cannot learn whether a phone is
        registered, or walk the ids to list everyone.
        """
        ref = ref.strip()
        user: User | None = None
        if ref.startswith("@") and len(ref) > 1:
            user = await self.users.by_username(ref[1:])
        if user is None and ref:
            user = await self.members.find_by_name(ref.removeprefix("@"))
        if user is None or not user.signed_in:
            raise ReportTargetUnknown(ref=ref[:64])
        return user

    async def resolve(self, ref: str, *, by_phone: bool = True) -> User:
        """`12345` (Telegram id), `#7` (account id), `@name`, `+7916...` or an invite code. Raises UserNotFound.

        `by_phone=False` (anyone but admins, see ModerationService.may_see_phones): a phone matches
        nobody, with the answer any unknown reference gets.
        """
        ref = ref.strip()
        user: User | None = None
        if ref.startswith("@") and len(ref) > 1:
            user = await self.users.by_username(ref[1:])
        elif ref.startswith("#") and ref[1:].isdigit():
            user = await self.users.by_id(int(ref[1:]))
        elif ref.startswith("+"):
            if not by_phone:
                raise UserNotFound(ref=ref[:64])
            try:
                user = await self.users.by_phone(normalize_phone(ref, self.default_region))
            except InvalidPhone:
                user = None
        elif ref.isdigit() and len(ref) != 6:
            user = await self.users.by_telegram_id(int(ref))
        if user is None and looks_like_code(ref):
            code = await self.codes.by_code(ref)
            user = await self.users.by_id(code.owner_id) if code is not None else None
        if user is None and ref.isdigit():
            user = await self.users.by_telegram_id(int(ref))
        if user is None:
            raise UserNotFound(ref=ref[:64])
        return user
