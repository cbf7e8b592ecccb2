"""The turn to write a SQLite database, shared by the threads of all processes."""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: writers of one process queue, others poll
    fcntl = None  # type: ignore[assignment]


class SqliteWriterLock:
    """The turn to write a SQLite database, for the threads of all processes.

    SQLite admits one writer at a time; a writer that finds the file locked
    sleeps in SQLite's busy handler in growing steps (1, 2, 5, ... 25, 50,
    100 ms) and retries, so under a steady stream of writers (an import in
    another process committing batch after batch) it keeps waking up to find
    the file locked again: a next task waited seconds. So writers queue in the
    kernel instead: the threads of one process on a thread lock, the processes
    on a POSIX record lock on `<database>-writer`. A process waiting for the
    write lock (byte 1) holds the turnstile (byte 0), which the writer needs
    for its next turn: two busy processes take turns, neither starves. Other
    programs (the sqlite3 shell) still meet SQLite's own locking. Without a file
    (`:memory:`) or fcntl (Windows) only the threads of one process queue here.
    """

    def __init__(self, path: Path | None) -> None:
        self._threads = threading.Lock()
        self._path = path.with_name(path.name + "-writer") if path is not None else None
        self._fd: int | None = None
        self._fd_pid = 0
        self._waiting_threads = 0
        self._count_guard = threading.Lock()

    def __enter__(self) -> None:
        with self._count_guard:
            self._waiting_threads += 1
        try:
            self._threads.acquire()
        finally:
            with self._count_guard:
                self._waiting_threads -= 1
        try:
            fd = self._file()
            if fd is not None:
                fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0)  # the turnstile
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX, 1, 1)  # the write lock
                finally:
                    fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._fd is not None and self._fd_pid == os.getpid():
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, 1)
        finally:
            self._threads.release()

    def others_waiting(self) -> bool:
        """Whether another writer (a thread of this process, or a process) waits
        for the lock; ask while holding it. A waiting process holds the turnstile."""
        if self._waiting_threads:
            return True
        fd = self._fd
        if fd is None or fcntl is None or self._fd_pid != os.getpid():
            return False
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)
        return False

    def _file(self) -> int | None:
        if self._path is None or fcntl is None:
            return None
        if self._fd is None or self._fd_pid != os.getpid():
            # Record locks are not inherited by a forked child: it opens its
            # own. The descriptor stays open (closing any descriptor of a file
            # drops the process's record locks on it).
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._fd_pid = os.getpid()
        return self._fd

    def __del__(self) -> None:
        # Only when no engine of this process uses the database any more (they
        # share this object), so no lock of ours is dropped with the descriptor.
        if self._fd is not None and self._fd_pid == os.getpid():
            os.close(self._fd)


# Record locks belong to a process, not to a descriptor: every engine of a
# process on the same file must share one lock object.
_WRITER_LOCKS: weakref.WeakValueDictionary[Path, SqliteWriterLock] = weakref.WeakValueDictionary()
_WRITER_LOCKS_GUARD = threading.Lock()


def sqlite_writer_lock(path: Path | None) -> SqliteWriterLock:
    """The writer lock of the SQLite file at `path` (None: in memory) in this process."""
    if path is None:
        return SqliteWriterLock(None)
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(path)
        if lock is None:
            lock = _WRITER_LOCKS[path] = SqliteWriterLock(path)
        return lock
