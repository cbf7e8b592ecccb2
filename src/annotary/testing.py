"""Helpers for tests and benchmarks: a real `annotary serve` process on a free
loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

ANNOTARY = str(Path(sys.executable).with_name("annotary"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A running `annotary serve`; its output goes to a log file, not a pipe
    (a pipe nobody reads could fill up and stall the server)."""

    def __init__(self, args: Sequence[str], cwd: Path | None, timeout: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Closed in stop(): the file lives as long as the server does.
        self._log = tempfile.NamedTemporaryFile(prefix="annotary-serve-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [ANNOTARY, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        )
        self._wait_until_ready(timeout)

    def log_text(self) -> str:
        """Everything the server printed so far."""
        return Path(self._log.name).read_text(errors="replace")

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"annotary serve exited early:\n{self.log_text()[-3000:]}")
            with suppress(httpx.HTTPError):  # not listening yet
                if httpx.get(f"{self.url}/api/v1/openapi.json", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"annotary serve did not answer in {timeout} s:\n{self.log_text()}")

    def stop(self) -> None:
        """Stop like Ctrl+C would; kill if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextmanager
def live_server(
    db_url: str | None = None,
    *,
    workers: int = 1,
    args: Sequence[str] = (),
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[ServerProcess]:
    """`annotary serve` on `db_url` (no request log) until the block ends."""
    full = [*(["--db", db_url] if db_url else []), "--workers", str(workers)]
    server = ServerProcess([*full, "--no-access-log", *args], cwd, timeout)
    try:
        yield server
    finally:
        server.stop()
