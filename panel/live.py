"""Live delivery figures for the overview: sends per second and 429 answers in the last hour, from the
delivery worker's counters in this process (bot.delivery.worker.DeliveryStats), sampled as pages ask."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import BotApp

HOUR = 3600.0
MIN_SPAN = 5.0  # a rate over a shorter span is mostly noise


@dataclass(frozen=True)
class LiveSample:
    sends_per_second: float
    rate_limited_hour: int


class DeliverySampler:
    """Keeps (time, sent, 429s) samples of the last hour; no background task."""

    def __init__(self) -> None:
        # The worker's counters start at zero with the process, as this sample does.
        self.samples: deque[tuple[float, int, int]] = deque([(time.monotonic(), 0, 0)])

    def sample(self, app: BotApp) -> LiveSample:
        stats = app.delivery.stats if app.delivery is not None else None
        sent, limited = (stats.sent, stats.rate_limited) if stats is not None else (0, 0)
        now = time.monotonic()
        if not self.samples or now - self.samples[-1][0] >= 1.0:
            self.samples.append((now, sent, limited))
        # Keep the newest sample at least an hour old: the count covers the hour (a little more when
        # nobody looked for a while), never less.
        while len(self.samples) > 1 and now - self.samples[1][0] >= HOUR:
            self.samples.popleft()
        _, _, first_limited = self.samples[0]  # an hour ago, or the process start
        # The rate over the newest stretch of at least MIN_SPAN seconds.
        rate = 0.0
        for when, then_sent, _ in reversed(self.samples):
            if now - when >= MIN_SPAN:
                rate = (sent - then_sent) / (now - when)
                break
        return LiveSample(round(rate, 1), limited - first_limited)
