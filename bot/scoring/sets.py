"""Several sets of interests per scoring call: which sets go together, and who pays what.

An abstract costs the same to read for one set of interests as for four, so sets scoring the same
listing at the same time share calls (`llm.sets_per_call` sets each). Sets that kept the most
papers in common go together, since each call sends the union of what its sets asked for.
"""

from __future__ import annotations

from bot.models import Usage

__all__ = ["groups", "shares"]


def groups(wanted: list[set[str]], size: int) -> list[list[int]]:
    """Indices of `wanted` in groups of at most `size`: each group starts from the first set left
    and adds, one at a time, the set that overlaps most with what the group asks for already."""
    left = list(range(len(wanted)))
    out: list[list[int]] = []
    while left:
        group = [left.pop(0)]
        union = set(wanted[group[0]])
        while left and len(group) < size:
            best = max(left, key=lambda i: len(wanted[i] & union) / max(1, len(wanted[i] | union)))
            left.remove(best)
            group.append(best)
            union |= wanted[best]
        out.append(group)
    return out


def shares(usage: Usage, weights: list[int]) -> list[Usage]:
    """One call's usage split by weight (the papers each set asked for in it): dollars in
    proportion, tokens by largest remainder so that they add up, and the call counted once, on
    the set with the largest share."""
    total = sum(weights) or 1
    fields = (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    )
    parts = [
        {"model": usage.model, "cost_usd": usage.cost_usd * w / total, "calls": 0} for w in weights
    ]
    for name in fields:
        value = getattr(usage, name)
        exact = [value * w / total for w in weights]
        ints = [int(x) for x in exact]
        order = sorted(range(len(weights)), key=lambda i: ints[i] - exact[i])
        for i in order[: value - sum(ints)]:
            ints[i] += 1
        for part, n in zip(parts, ints, strict=True):
            part[name] = n
    parts[max(range(len(weights)), key=lambda i: weights[i])]["calls"] = usage.calls
    return [Usage.model_validate(p) for p in parts]
