"""What kind of announcement a listed paper is, when the listing does not say."""

from __future__ import annotations

import datetime as dt

from bot.models import AnnounceType

__all__ = ["announce_type", "classify"]


def classify(paper_id: str, primary: str, requested: set[str], day: dt.date | None) -> AnnounceType:
    """new/cross by whether the primary category was asked for; replacement when the id is old.

    A new submission's id carries its submission month (YYMM), so an id two or more months older
    than the announcement can only be a replacement.
    """
    cross = primary not in requested
    old = False
    if day is not None and paper_id[:4].isdigit():
        yy, mm = int(paper_id[:2]), int(paper_id[2:4])
        months = (day.year - 2000 - yy) * 12 + (day.month - mm)
        old = months > 1
    return announce_type(cross=cross, replaced=old)


def announce_type(*, cross: bool, replaced: bool) -> AnnounceType:
    """The four kinds arXiv lists: a new version or not, primary category asked for or not."""
    if replaced:
        return AnnounceType.REPLACE_CROSS if cross else AnnounceType.REPLACE
    return AnnounceType.CROSS if cross else AnnounceType.NEW
