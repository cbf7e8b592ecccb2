"""Helpers for tests and benchmarks: a real `annotary serve` process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ANNOTARY = str(Path(sys.executable).with_name("annotary"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(db_url: str, workers: int = 1, timeout: float = 30.0) -> Iterator[str]:
    """Start the server on `db_url`; yield its base URL; stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [ANNOTARY, "serve", "--db", db_url, "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "ANNOTARY_ACCESS_LOG": "0"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = process.stderr.read() if process.stderr else b""
                raise RuntimeError(f"server exited: {output.decode()[-2000:]}")
            try:
                if httpx.get(f"{base}/api/v1/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become ready")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
