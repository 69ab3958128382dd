"""Domain errors: expected refusals, each mapped to one user-facing text by its `key`.

A service raises one of these *before* changing anything, except where the change is the
point (a wrong sign-in code counts an attempt); the unit of work commits on a DomainError
and rolls back on any other exception.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar


class DomainError(Exception):
    key: ClassVar[str] = "error-generic"

    def __init__(self, **args: Any) -> None:
        super().__init__(self.key, args)
        self.args_map: dict[str, Any] = args


# Sign-in
class NotSignedIn(DomainError):
    key = "signin-required"


class ForeignContact(DomainError):
    key = "signin-foreign-contact"


class InvalidPhone(DomainError):
    key = "signin-invalid-phone"


class PhoneCodeCooldown(DomainError):
    key = "signin-code-cooldown"


class NoPendingPhoneCode(DomainError):
    key = "signin-code-none"


class PhoneCodeExpired(DomainError):
    key = "signin-code-expired"


class PhoneCodeWrong(DomainError):
    key = "signin-code-wrong"


class PhoneCodeAttemptsExhausted(DomainError):
    key = "signin-code-attempts"


class PhoneCodesOff(DomainError):
    """No SMS sender is configured (and no development flag): sign-in is by the contact button."""

    key = "signin-phone-off"


class PhoneCodeDailyLimit(DomainError):
    """Too many codes, or wrong codes, today for this phone or this Telegram account; args: hours, minutes."""

    key = "signin-code-daily-limit"


class PhoneTakeoverStale(DomainError):
    """A takeover button that is not (or no longer) this account's to press: nothing changes."""

    key = "signin-takeover-stale"


class PhoneTakeoverExpired(DomainError):
    key = "signin-takeover-expired"


# Invite codes
class InviteCodeUnknown(DomainError):
    key = "invite-unknown"


class InviteCodeExpired(DomainError):
    key = "invite-expired"


class InviteCodeInactive(DomainError):
    key = "invite-inactive"


class InviteCodeOwn(DomainError):
    key = "invite-own"


class AlreadyRedeemed(DomainError):
    key = "invite-already-redeemed"


class ReferralCycle(DomainError):
    key = "invite-cycle"


class InviteButtonStale(DomainError):
    key = "invite-button-stale"


# Users
class UserNotFound(DomainError):
    key = "user-not-found"


class ReportTargetUnknown(DomainError):
    """/report names nobody a member may name (members report by reply, button or nickname only)."""

    key = "report-member-unknown"


class NotAllowed(DomainError):
    key = "error-unknown-command"


class UnknownLanguage(DomainError):
    key = "lang-unknown"


class UnknownTimezone(DomainError):
    key = "timezone-unknown"

    def __init__(self, *, query: str = "") -> None:
        super().__init__(query=query)


# Moderation (SPEC 6)
class Banned(DomainError):
    """The user is banned; `until` is when the ban ends (the relay refuses to relay until then)."""

    key = "moderation-you-are-banned"

    def __init__(self, *, until: datetime) -> None:
        super().__init__(until=until)
        self.until = until


class ReportSelf(DomainError):
    key = "moderation-report-self"


class ReportDuplicate(DomainError):
    key = "moderation-report-duplicate"


class ReportReasonUnknown(DomainError):
    key = "moderation-report-reason-unknown"


class NotARelayedMessage(DomainError):
    key = "moderation-not-relayed"


class ButtonNotForYou(DomainError):
    """A button naming a relayed message its presser neither wrote nor was sent (forged, or gone)."""

    key = "button-not-yours"


class ReportNotFound(DomainError):
    key = "moderation-report-not-found"


class ReportAlreadyHandled(DomainError):
    key = "moderation-report-handled"


class CannotModerate(DomainError):
    key = "moderation-cannot-moderate"


class AlreadyBanned(DomainError):
    key = "moderation-already-banned"


class NotBanned(DomainError):
    key = "moderation-not-banned"


class InvalidDuration(DomainError):
    key = "moderation-invalid-duration"


class AlreadyModerator(DomainError):
    key = "moderation-already-moderator"


class NotAModerator(DomainError):
    key = "moderation-not-moderator"


class NothingToDelete(DomainError):
    key = "moderation-nothing-to-delete"


class DeleteUnavailable(DomainError):
    key = "moderation-delete-unavailable"


class MessageAlreadyDeleted(DomainError):
    key = "moderation-message-already-deleted"


class CardOutdated(DomainError):
    key = "moderation-card-outdated"


# Relay (SPEC 3, 4)
class NotInChat(DomainError):
    key = "relay-not-member"


class AlreadyInChat(DomainError):
    key = "relay-already-member"


class LimitReached(DomainError):
    key = "relay-limit-reached"


class FileTooLarge(DomainError):
    key = "relay-file-too-large"


class UnsupportedMessage(DomainError):
    key = "relay-unsupported"


class NickInvalid(DomainError):
    key = "relay-nick-invalid"


class NickTaken(DomainError):
    key = "relay-nick-taken"


class MemberNotFound(DomainError):
    key = "relay-member-not-found"


class CannotMessageSelf(DomainError):
    key = "relay-dm-self"


class PrivateBlocked(DomainError):
    key = "relay-dm-blocked"


class NotYourMessage(DomainError):
    key = "relay-delete-not-yours"


class TooOldToDelete(DomainError):
    key = "relay-delete-too-old"


class MessageGone(DomainError):
    key = "relay-message-gone"


class ScheduleInvalid(DomainError):
    key = "relay-schedule-invalid"


class ScheduleTooLong(DomainError):
    key = "relay-schedule-too-long"


class ScheduleFull(DomainError):
    key = "relay-schedule-full"


class ScheduledNotFound(DomainError):
    key = "relay-scheduled-not-found"


class LimitValueInvalid(DomainError):
    key = "relay-setlimit-invalid"


# Broadcasts
class BroadcastEmpty(DomainError):
    key = "broadcast-empty"


class BroadcastTooLong(DomainError):
    key = "broadcast-too-long"


class BroadcastHtmlInvalid(DomainError):
    key = "broadcast-html-invalid"


class BroadcastNotFound(DomainError):
    key = "broadcast-not-found"


class BroadcastAlreadyHandled(DomainError):
    key = "broadcast-already-handled"


# Rooms
class RoomTitleInvalid(DomainError):
    key = "room-title-invalid"


class RoomLinkInvalid(DomainError):
    key = "room-link-invalid"


class RoomClosed(DomainError):
    key = "room-closed"


class RoomAlreadyMember(DomainError):
    key = "room-already-member"


class RoomAlreadyRequested(DomainError):
    key = "room-already-requested"


class RoomKickedOut(DomainError):
    key = "room-kicked-out"


class RoomNotYours(DomainError):
    key = "room-not-yours"


class RoomNotFound(DomainError):
    key = "room-not-found"


class RoomRequestHandled(DomainError):
    key = "room-request-handled"


class RoomNotMember(DomainError):
    key = "room-not-member"


class RoomOwnerStays(DomainError):
    key = "room-owner-stays"


# Linking an external account (OAuth2 + PKCE)
class OAuthOff(DomainError):
    key = "oauth-off"


class OAuthStateInvalid(DomainError):
    key = "oauth-state-invalid"


class OAuthFailed(DomainError):
    key = "oauth-failed"


class OAuthNotLinked(DomainError):
    key = "oauth-not-linked"


class OAuthConfirmInvalid(DomainError):
    key = "oauth-confirm-invalid"


# The staff web panel
class PanelLinkInvalid(DomainError):
    """A login link that is forged, used, expired, or whose owner is no longer staff."""

    key = "panel-link-invalid"


class PanelSignedOut(DomainError):
    """No session, or one that ended (logout, 12 hours, a ban, the moderator role taken)."""

    key = "panel-signed-out"


class PanelForbidden(DomainError):
    """A staff member asked for what their role does not allow (a moderator, an admin's action); or a
    form came without its CSRF token."""

    key = "panel-forbidden"


class PanelStaffOnly(DomainError):
    key = "panel-staff-only"


class OAuthFinishInvalid(DomainError):
    key = "oauth-finish-invalid"
