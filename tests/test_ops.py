"""Operations: secrets never reach the logs; readiness follows Redis."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from bot.health import start_health
from bot.logs import setup_logging
from bot.store import connect
from tests.fakes.redis_server import RedisServer, free_port


def test_json_logs_redact_tokens_and_passwords(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(json_logs=True, level=logging.INFO)
    try:
        logging.getLogger("bot.test").warning(
            "posting with %s to redis://user:hunter2@redis:6379 key %s",
            "xoxb-123-456-abcdef",
            "sk-ant-api03-secret",
        )
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        logging.getLogger().handlers.clear()
    record = json.loads(line)
    assert record["level"] == "warning" and record["logger"] == "bot.test"
    for secret in ("xoxb-123", "hunter2", "sk-ant-api03"):
        assert secret not in line


async def test_readyz_follows_redis(redis_server: RedisServer, redis_url: str) -> None:
    store = await connect(redis_url, prefix="t")
    port = free_port()
    runner = await start_health(port, {"redis": store.ping}, host="127.0.0.1")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                assert r.status == 200
            redis_server.stop()
            async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                assert r.status == 503 and (await r.json())["redis"] is False
            async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200  # alive, just not ready
    finally:
        redis_server.start()
        await runner.cleanup()
        await store.close()
