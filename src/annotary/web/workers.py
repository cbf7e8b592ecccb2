"""Several uvicorn worker processes on one port, each with its own listening socket.

uvicorn's `--workers` shares one listening socket: the worker that wakes
first accepts every waiting connection, and with keep-alive clients (scripts,
browsers) one worker ends up serving most of them while the other idles (seen:
80% and 19% of a core under 32 clients). Here every worker binds the port
itself with `SO_REUSEPORT`, and the kernel spreads new connections evenly over
the listeners. Where the option does not exist (not Linux), uvicorn's own
supervisor is used.

`SO_REUSEPORT` would also let a second server silently share a port that is
in use, so callers first check the port with an ordinary bind
(`require_free_port`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.context import SpawnProcess
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from annotary.errors import E_PORT_IN_USE, E_WORKER_FAILED, Unavailable

APP = "annotary.web.asgi:create_app_from_env"
RESTART_PAUSE_S = 1.0
ORPHAN_CHECK_S = 0.5


def serve_workers(host: str, port: int, workers: int, access_log: bool) -> None:
    """Serve the app from the environment with `workers` processes until interrupted."""
    if not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, access_log=access_log)
        return
    require_free_port(host, port)
    supervisor = _Supervisor(host, port, workers, access_log)
    supervisor.run()


def require_free_port(host: str, port: int) -> None:
    """Fail clearly when something already listens on host:port."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise Unavailable(E_PORT_IN_USE, f"cannot listen on {host}:{port}: {exc}") from exc


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _worker(host: str, port: int, access_log: bool) -> None:
    """One worker process: its own socket on the shared port, then uvicorn."""
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    config = uvicorn.Config(APP, factory=True, host=host, port=port, access_log=access_log)
    uvicorn.Server(config).run(sockets=[sock])


def _stop_when_orphaned(parent: int) -> None:
    """Shut this worker down (gracefully, as on SIGTERM) once its supervisor is
    gone, e.g. killed with SIGKILL: a worker left behind would keep the port."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_S)
    os.kill(os.getpid(), signal.SIGTERM)


class _Supervisor:
    """Starts the workers, restarts one that dies, stops them all on SIGINT/SIGTERM."""

    def __init__(self, host: str, port: int, workers: int, access_log: bool) -> None:
        self.args = (host, port, access_log)
        self.count = workers
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[SpawnProcess] = []
        self.stopping = False
        self.failed = False

    def _start(self) -> SpawnProcess:
        process = self.context.Process(target=_worker, args=self.args, daemon=False)
        process.start()
        return process

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.processes = [self._start() for _ in range(self.count)]
            while not self.stopping:
                time.sleep(0.2)
                self._replace_dead()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self.failed:
            raise Unavailable(
                E_WORKER_FAILED, "a server worker failed to start; its error is printed above"
            )

    def _replace_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if process.is_alive() or self.stopping:
                continue
            if process.exitcode == STARTUP_FAILURE:
                # The app or the socket is broken; it would fail the same way again.
                self.stopping = self.failed = True
                return
            time.sleep(RESTART_PAUSE_S)
            self.processes[index] = self._start()

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes open requests
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
