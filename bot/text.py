"""Text helpers shared by the renderers, the commands, ask and explain (below all of them)."""

from __future__ import annotations

__all__ = ["clip", "money"]


def clip(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """Cut at a word boundary so that the result, ellipsis included, fits in `limit` characters."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ellipsis))
    cut = text[:room]
    if " " in cut[room // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + ellipsis


def money(value: float) -> str:
    return f"${value:.4f}" if 0 < value < 0.01 else f"${value:.2f}"
