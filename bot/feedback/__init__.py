"""Learning each channel's taste from its votes (👍/👎 reactions, `more-like`/`less-like`)."""

from bot.feedback.model import EXPLICIT_USER, TasteModel, record_explicit

__all__ = ["EXPLICIT_USER", "TasteModel", "record_explicit"]
