"""State in Redis: papers, scores, channels, deliveries, leases, ledger."""

from bot.store.store import REDIS_ERRORS, Store, connect

__all__ = ["REDIS_ERRORS", "Store", "connect"]
