"""`annotary serve --workers N`: every worker listens, connections are spread, a
taken port is refused."""

from __future__ import annotations

import os
import signal
import socket
import time
from contextlib import suppress
from pathlib import Path

import pytest

from annotary.testing import live_server
from tests.cli.runner import run

ESTABLISHED, LISTENING = "01", "0A"


def worker_pids(parent: int) -> list[int]:
    """The parent's child processes except multiprocessing's resource tracker."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [
        int(pid)
        for pid in children
        if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def sockets_on(pid: int, port: int, state: str) -> int:
    """How many TCP sockets on local `port` in `state` process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = fd.readlink().name if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == state and fields[9] in inodes:
            count += 1
    return count


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until_both_listen(parent: int, port: int) -> None:
    """The server answers once one worker is up; the test needs both."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = worker_pids(parent)
        with suppress(FileNotFoundError):  # a worker that just died
            if len(workers) == 2 and all(sockets_on(pid, port, LISTENING) for pid in workers):
                return
        time.sleep(0.1)
    raise AssertionError(f"two listening workers expected, found {worker_pids(parent)}")


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT (Linux)")
def test_two_workers_share_a_burst_of_connections(db_url: str) -> None:
    """48 clients connect at once, as a team does at the start of a shift; with one
    shared listening socket the first worker to wake would accept most of them."""
    with live_server(db_url, workers=2) as server:
        wait_until_both_listen(server.process.pid, server.port)
        connections = [
            socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(48)
        ]
        try:
            for sock in connections:
                sock.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: test\r\n\r\n")
            for sock in connections:  # an answer proves a worker accepted the connection
                assert sock.recv(64).startswith(b"HTTP/1.1 401")
            workers = worker_pids(server.process.pid)
            shares = [sockets_on(pid, server.port, ESTABLISHED) for pid in workers]
        finally:
            for sock in connections:
                sock.close()
    assert sum(shares) == 48
    # Spread by the kernel's hash of each connection: fewer than 10 of 48 on one
    # worker has odds of about 1 in 40,000.
    assert min(shares) >= 10, shares


def test_a_taken_port_is_refused_with_a_clear_error(db_url: str) -> None:
    with live_server(db_url) as server:
        second = run("serve", "--db", db_url, "--port", str(server.port), "--workers", "2")
    assert second.returncode != 0
    assert "E504" in second.stderr + second.stdout
    assert f"127.0.0.1:{server.port}" in second.stderr + second.stdout


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT (Linux)")
def test_a_worker_that_dies_is_replaced(db_url: str) -> None:
    with live_server(db_url, workers=2) as server:
        parent = server.process.pid
        wait_until_both_listen(parent, server.port)
        victim = worker_pids(parent)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while victim in worker_pids(parent):  # until the supervisor has reaped it
            assert time.monotonic() < deadline, "the dead worker was never reaped"
            time.sleep(0.05)
        wait_until_both_listen(parent, server.port)


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT (Linux)")
def test_workers_stop_when_the_supervisor_is_killed(db_url: str) -> None:
    with live_server(db_url, workers=2) as server:
        parent = server.process.pid
        wait_until_both_listen(parent, server.port)
        workers = worker_pids(parent)
        server.process.kill()  # SIGKILL: no chance to stop its workers
        server.process.wait()
        deadline = time.monotonic() + 30
        while any(running(pid) for pid in workers):
            assert time.monotonic() < deadline, "orphaned workers kept running"
            time.sleep(0.1)
