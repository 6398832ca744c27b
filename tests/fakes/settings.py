"""Settings for the tests and the benchmarks: a base pointed at local servers, plus overrides."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings


def settings_from(data: dict[str, Any], overrides: dict[str, Any]) -> Settings:
    """`data` with `overrides` merged one level deep: a dict value updates that section
    (`llm={"triage": False}` keeps the rest of `llm`), anything else replaces the key."""
    merged = dict(data)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return Settings(**merged)
