"""What a Claude call costs, as the bill counts it: input, output, cache writes and reads, each at
its own price, and the Batches API at half of all of them.

The price table itself is `LLMSettings.prices` (a deployment can override it); this module is the
one place that turns tokens into dollars.
"""

from __future__ import annotations

from typing import Any

from bot.models import Usage
from bot.settings import Price

__all__ = ["BATCH_DISCOUNT", "dollars", "input_equivalents", "price_usage"]

BATCH_DISCOUNT = 0.5  # Message Batches: half price on every kind of token


def dollars(usage: Usage, price: Price, *, batch: bool = False) -> float:
    cost = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_creation_input_tokens * price.cache_write
        + usage.cache_read_input_tokens * price.cache_read
    ) / 1e6
    return cost * BATCH_DISCOUNT if batch else cost


def input_equivalents(usage: Usage, price: Price, *, batch: bool = False) -> float:
    """The bill in input tokens: dollars divided by the input price per token."""
    return dollars(usage, price, batch=batch) * 1e6 / price.input


def price_usage(raw: Any, model: str, price: Price, *, batch: bool = False) -> Usage:
    """Our Usage record, priced, from the SDK's usage of one message."""
    usage = Usage(
        model=model,
        calls=1,
        input_tokens=raw.input_tokens,
        output_tokens=raw.output_tokens,
        cache_creation_input_tokens=raw.cache_creation_input_tokens or 0,
        cache_read_input_tokens=raw.cache_read_input_tokens or 0,
    )
    usage.cost_usd = dollars(usage, price, batch=batch)
    return usage
