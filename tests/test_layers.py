"""The layers hold at import time: the renderers are pure functions that load no I/O library.

import-linter (run by `./run test`, contracts in pyproject.toml) checks the static import graph;
this checks what a fresh interpreter really loads, lazy imports and all.
"""

from __future__ import annotations

import subprocess
import sys

RENDERERS = ("bot.render.slack", "bot.render.discord", "bot.render.markdown", "bot.render.notes")
IO_LIBRARIES = ("redis", "httpx", "aiohttp", "slack_sdk", "discord", "anthropic")


def test_the_renderers_load_no_io_library() -> None:
    code = (
        f"import sys, {', '.join(RENDERERS)}\n"
        f"print(' '.join(m for m in {IO_LIBRARIES!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == [], f"importing the renderers loads {loaded}"
