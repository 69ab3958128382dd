"""What the GMFY jobs last saw, for the admin's /gmfy (in memory, per process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class GmfyStatus:
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_sent_at: datetime | None = None
    events_sent: int = 0
    notifications_delivered: int = 0

    def error(self, where: str, text: str, now: datetime) -> None:
        self.last_error = f"{where}: {text}"
        self.last_error_at = now
