"""Memos keyed by a set of papers, which functools.lru_cache cannot hash (papers come as lists)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from bot.models import Paper

__all__ = ["LastUsed", "papers_key"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def papers_key(papers: list[Paper]) -> tuple[str, ...]:
    """The identity of a set of papers, versions included, in order."""
    return tuple(f"{p.id}v{p.version}" for p in papers)


class LastUsed(Generic[K, V]):
    """The `size` most recently used values, each made on first use."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, make: Callable[[], V]) -> V:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = self._items[key] = make()
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()
