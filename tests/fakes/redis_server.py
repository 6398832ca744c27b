"""A redis-server process of our own on a free port of 127.0.0.1, for the tests and the
benchmarks (never the one that may run on 6379). No persistence unless asked (`appendonly`);
it can be paused (SIGSTOP), killed (SIGKILL) and started again on the same port."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any, Self

import redis

LOCALHOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """The port is chosen once: stop() then start() brings the same server address back, as a
    Redis restart would."""

    def __init__(self, *, appendonly: bool = False) -> None:
        self.appendonly = appendonly
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server is not installed (./run test installs it)")
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="arxivbot-redis-")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host=LOCALHOST, port=self.port)

    def start(self) -> Self:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                LOCALHOST,
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "everysec",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = self.client()
        for _ in range(400):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.025)
        self.stop()
        raise RuntimeError("redis-server did not start")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def kill(self) -> None:
        """SIGKILL: what the AOF had not written yet (up to a second of it) is lost."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def pause(self) -> None:
        """SIGSTOP: connections stay open and every command waits, as with a stalled Redis."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def flush(self) -> None:
        self.client().flushall()

    def info_memory(self) -> dict[str, Any]:
        return self.client().info("memory")

    def version(self) -> str:
        return str(self.client().info("server").get("redis_version", "?"))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
