"""Whitespace and counting helpers shared by the page parsers and the note writers."""

from __future__ import annotations

import re

__all__ = ["plural", "squash"]


def squash(text: str) -> str:
    """`text` with every run of whitespace made one space, and trimmed."""
    return re.sub(r"\s+", " ", text).strip()


def plural(n: int, noun: str) -> str:
    """'1 table', '2 tables'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
