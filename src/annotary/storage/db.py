"""Engines and sessions for SQLite (default) and PostgreSQL, and migrations.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so a reader
never blocks the writer. PostgreSQL URLs are routed to psycopg 3.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import weakref
from collections.abc import Hashable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from annotary.errors import (
    E_DATABASE_NOT_MIGRATED,
    E_DATABASE_UNREACHABLE,
    E_DATABASE_URL_INVALID,
    Invalid,
    Unavailable,
)
from annotary.storage.writer_lock import SqliteWriterLock, sqlite_writer_lock

if TYPE_CHECKING:
    from alembic.config import Config

if TYPE_CHECKING:
    from annotary.core.plugins.registry import Plugins

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


# SQLite admits one writer at a time: see `SqliteWriterLock`.
_SQLITE_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, SqliteWriterLock] = (
    weakref.WeakKeyDictionary()
)


def normalize_url(url: str) -> str:
    """Accept `postgresql://` / `postgres://` and a bare SQLite path; pick our drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    return url


def create_db_engine(url: str, pool_size: int = 10, **kwargs: Any) -> Engine:
    """An engine for `url` with our connection settings applied; a PostgreSQL
    engine keeps up to `pool_size` connections open (and opens up to 10 more
    for bursts)."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError as exc:
        raise Invalid(E_DATABASE_URL_INVALID, f"not a database URL: {url!r} ({exc})") from exc
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database) if parsed.database not in (None, "", ":memory:") else None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        _SQLITE_WRITE_LOCKS[engine] = sqlite_writer_lock(path.resolve() if path else None)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise Invalid(
            E_DATABASE_URL_INVALID,
            f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql",
        )
    # No pre-ping: it costs a round trip per checkout on the hot paths. A
    # connection found dead fails its request and the pool is refreshed.
    return create_engine(parsed, pool_size=pool_size, max_overflow=10, pool_recycle=3600, **kwargs)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_on_begin) so that a write
    # transaction takes the lock at its start instead of failing mid-way.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # A write transaction must take SQLite's write lock up front: upgrading a
    # read transaction later fails at once with "database is locked" when
    # another writer committed meanwhile, instead of waiting.
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads; never takes a write lock."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def write_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work that writes: commit on success, roll back on any exception.

    On SQLite the write lock is taken at BEGIN (serializing writers); on
    PostgreSQL this is an ordinary transaction.
    """
    bind = factory.kw.get("bind")
    lock = _SQLITE_WRITE_LOCKS.get(bind) if isinstance(bind, Engine) else None
    with lock or nullcontext(), factory() as session, session.begin():
        session.connection(execution_options={"sqlite_immediate": True})
        yield session


@contextmanager
def write_connection(engine: Engine) -> Iterator[Connection]:
    """`write_transaction` on a bare Core connection, without an ORM session: the
    queue's hot paths use only Core statements, and a session's bookkeeping
    cost them more CPU than some of their statements."""
    lock = _SQLITE_WRITE_LOCKS.get(engine)
    with lock or nullcontext(), engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


@contextmanager
def bulk_write_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for a writer that commits many short transactions in a row
    (an import), each in `bulk_write_transaction`.

    On SQLite its commits do not checkpoint the write-ahead log (SQLite would
    do it inside the commit, while the writer still holds the writer lock, so
    the queue's writers would wait for it): the writer calls
    `checkpoint_wal` between its transactions instead.
    """
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        sqlite = _sqlite_driver_connection(conn)
        if sqlite is not None:
            sqlite.execute("PRAGMA wal_autocheckpoint=0")
        try:
            yield conn
        finally:
            if sqlite is not None:
                sqlite.execute(f"PRAGMA wal_autocheckpoint={_WAL_AUTOCHECKPOINT}")


@contextmanager
def bulk_write_transaction(conn: Connection) -> Iterator[Connection]:
    """One write transaction on a `bulk_write_connection` (SQLite: behind the writer lock)."""
    lock = _SQLITE_WRITE_LOCKS.get(conn.engine)
    with lock or nullcontext(), conn.begin():
        yield conn


def writers_waiting(conn: Connection) -> bool:
    """Whether, on SQLite, another writer waits for the writer lock that `conn`'s
    open `bulk_write_transaction` holds (always False on PostgreSQL)."""
    lock = _SQLITE_WRITE_LOCKS.get(conn.engine)
    return lock is not None and lock.others_waiting()


def checkpoint_wal(conn: Connection) -> None:
    """Copy committed pages from SQLite's write-ahead log into the database file
    without waiting for anyone (PASSIVE); other writers may write meanwhile.
    Nothing to do on PostgreSQL. Call outside a transaction."""
    sqlite = _sqlite_driver_connection(conn)
    if sqlite is not None:
        sqlite.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


_WAL_AUTOCHECKPOINT = 1000  # pages: SQLite's default


def _sqlite_driver_connection(conn: Connection) -> Any:
    if conn.dialect.name != "sqlite":
        return None
    return conn.connection.driver_connection


# Alembic is imported only where a migration runs or the revisions disagree:
# importing it costs a command like `annotary import` about 0.15 s of CPU.


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic configuration (no alembic.ini needed), bound to `engine` if given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), revision)
    except OperationalError as exc:
        raise Unavailable(E_DATABASE_UNREACHABLE, f"cannot reach the database: {exc.orig}") from exc


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    try:
        with engine.connect() as connection:
            if not engine.dialect.has_table(connection, "alembic_version"):
                return None
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except OperationalError as exc:
        raise Unavailable(E_DATABASE_UNREACHABLE, f"cannot reach the database: {exc.orig}") from exc
    if len(versions) > 1:  # several heads: let alembic say what that means
        from alembic.runtime.migration import MigrationContext

        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    return str(versions[0][0]) if versions else None


def head_revision() -> str | None:
    """The newest revision shipped with this version of annotary."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


_REVISION = re.compile(r"^revision(?:\s*:[^=]+)?\s*=\s*[\"']([^\"']+)[\"']\s*$", re.MULTILINE)
_DOWN_REVISION = re.compile(
    r"^down_revision(?:\s*:[^=]+)?\s*=\s*(?:None|[\"']([^\"']+)[\"'])\s*$", re.MULTILINE
)


@functools.cache
def shipped_head() -> str | None:
    """`head_revision()` read straight from the migration files, without alembic;
    None when a file does not state its revisions in the plain form."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def require_current(engine: Engine) -> None:
    """Fail clearly when the database is unreachable or not migrated to head."""
    revision = current_revision(engine)
    if revision is not None and revision == shipped_head():
        return
    head = head_revision()
    if revision != head:
        raise Unavailable(
            E_DATABASE_NOT_MIGRATED,
            f"database is at revision {revision or 'none'}, this annotary needs {head}; "
            "run `annotary db upgrade`",
        )


class TtlCache:
    """A small thread-safe map whose entries expire `seconds` after they are set."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                self._entries.pop(key, None)
                return None
            return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.seconds, value)

    def drop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Database:
    """An engine and its session factory: what services are handed to do work,
    with the plugins whose components that work uses (consensus methods, ...)."""

    def __init__(self, engine: Engine, plugins: Plugins | None = None) -> None:
        self.engine = engine
        self.sessions = make_session_factory(engine)
        self._plugins = plugins
        self.token_cache = TtlCache(seconds=5.0)
        """Recently checked API tokens: a revoked token stops working within 5 s."""
        self.recent_sweeps = TtlCache(seconds=1.0)
        """Projects whose expired leases were swept in the last second (queue)."""

    @classmethod
    def from_url(cls, url: str, pool_size: int = 10, plugins: Plugins | None = None) -> Database:
        return cls(create_db_engine(url, pool_size), plugins)

    @property
    def plugins(self) -> Plugins:
        """The plugins given, else the default ones (built-ins and installed plugins)."""
        if self._plugins is None:
            from annotary.core.plugins.manager import default_plugins  # built on first use

            self._plugins = default_plugins()
        return self._plugins

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
