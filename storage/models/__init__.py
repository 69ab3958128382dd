"""All models, imported here so that `Base.metadata` (and Alembic) sees every table.

A feature adds its own module next to these and one import line below.
"""

from storage.models.base import Base, UTCDateTime
from storage.models.broadcast import Broadcast
from storage.models.delivery import Outgoing
from storage.models.fsm import FsmState
from storage.models.gmfy import GmfyNotification
from storage.models.jobs import JobLease
from storage.models.moderation import AuditEntry, Ban, Moderator, Report, ReportCard, WarningEntry
from storage.models.oauth import OAuthLink, OAuthState
from storage.models.panel import PanelLogin, PanelSession, RateLimitHits
from storage.models.relay import (
    Block,
    LimitWindow,
    Member,
    RelayCopy,
    RelayMessage,
    RuntimeSetting,
    ScheduledMessage,
)
from storage.models.rooms import Room, RoomMember
from storage.models.signin import PhoneTakeover, SignInQuota
from storage.models.users import GmfyEvent, InviteCode, PhoneCode, Referral, User
from storage.models.webhook import SeenUpdate

__all__ = [
    "AuditEntry",
    "Ban",
    "Base",
    "Block",
    "Broadcast",
    "FsmState",
    "GmfyEvent",
    "GmfyNotification",
    "InviteCode",
    "JobLease",
    "LimitWindow",
    "Member",
    "Moderator",
    "OAuthLink",
    "OAuthState",
    "Outgoing",
    "PanelLogin",
    "PanelSession",
    "PhoneCode",
    "PhoneTakeover",
    "RateLimitHits",
    "Referral",
    "RelayCopy",
    "RelayMessage",
    "Report",
    "ReportCard",
    "Room",
    "RoomMember",
    "RuntimeSetting",
    "ScheduledMessage",
    "SeenUpdate",
    "SignInQuota",
    "UTCDateTime",
    "User",
    "WarningEntry",
]
