"""Delivery: the outgoing queue sent at Telegram's limits (SPEC 8), one job per module.

- `outbox`: from the transactions that queue messages (services.delivery.Outbox) to the worker, after commit
- `limits`: the global rate (SpacingLimiter, RedisSpacingLimiter) and the per-chat pace (ChatPacer)
- `express`: the express lane, rows handed over in memory by the transaction that queued them
- `worker`: the DeliveryWorker, claiming, sending and recording rows
- `api`: BotApi, the lean Bot API client of the hot path
"""

from bot.delivery.api import BotApi
from bot.delivery.express import ExpressLane
from bot.delivery.limits import (
    PER_CHAT_RATE,
    TELEGRAM_FREE_RATE,
    TELEGRAM_MAX_RATE,
    ChatPacer,
    RateLimiter,
    RedisSpacingLimiter,
    SendLimits,
    SpacingLimiter,
)
from bot.delivery.outbox import CommitHandoff, Waker
from bot.delivery.worker import DeliveryConfig, DeliveryStats, DeliveryWorker

__all__ = [
    "PER_CHAT_RATE",
    "TELEGRAM_FREE_RATE",
    "TELEGRAM_MAX_RATE",
    "BotApi",
    "ChatPacer",
    "CommitHandoff",
    "DeliveryConfig",
    "DeliveryStats",
    "DeliveryWorker",
    "ExpressLane",
    "RateLimiter",
    "RedisSpacingLimiter",
    "SendLimits",
    "SpacingLimiter",
    "Waker",
]
