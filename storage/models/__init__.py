"""All models, imported here so that `Base.metadata` (and Alembic) sees every table.

A feature adds its own module next to these and one import line below.
"""

from storage.models.base import Base, UTCDateTime
from storage.models.gmfy import GmfyNotification
from storage.models.users import GmfyEvent, InviteCode, PhoneCode, Referral, User

__all__ = ["Base", "GmfyEvent", "GmfyNotification", "InviteCode", "PhoneCode", "Referral", "UTCDateTime", "User"]
