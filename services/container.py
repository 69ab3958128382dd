"""What a handler gets as `services`: the domain services of one update, each built the first time it
is asked for (most updates use one or two: a member's message only the relay). bot/context.py builds
them (`AppServices`, from the settings and the update's session); handlers see only this protocol,
so they import nothing of the bot's wiring."""

from __future__ import annotations

from typing import Any, Protocol

from services.broadcast import BroadcastService
from services.delivery import Outbox
from services.events import EventRecorder
from services.gmfy.service import GmfyService
from services.invites import InviteService
from services.moderation import ModerationService
from services.oauth import OAuthService
from services.panel import PanelAuth
from services.profile import ProfileService
from services.relay import Incoming, RelayResult, RelayService
from services.rooms import RoomService
from services.signin import SignInService
from services.users import UserDirectory


class Services(Protocol):
    """The services of one update (one session, one transaction); read-only, built on first use."""

    @property
    def events(self) -> EventRecorder: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def invites(self) -> InviteService: ...
    @property
    def signin(self) -> SignInService: ...
    @property
    def moderation(self) -> ModerationService: ...
    @property
    def users(self) -> UserDirectory: ...
    @property
    def profile(self) -> ProfileService: ...
    @property
    def gmfy(self) -> GmfyService: ...
    @property
    def relay(self) -> RelayService: ...
    @property
    def broadcasts(self) -> BroadcastService: ...
    @property
    def rooms(self) -> RoomService: ...
    @property
    def oauth(self) -> OAuthService | None:
        """None: OAuth linking is not configured."""
        ...

    @property
    def panel_auth(self) -> PanelAuth: ...


class RelayQueue(Protocol):
    """The relay batch (bot/relay_batch.py, the workflow-data key `relay_batch`) as the relay handler
    sees it: hand over a member's message, get its outcome (or its refusal raised)."""

    async def relay(
        self, user_id: int, incoming: Incoming, touch: dict[int, dict[str, Any]] | None = None
    ) -> RelayResult: ...
