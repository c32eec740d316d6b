"""The request's database connection, on flask.g.

Each server thread keeps its connection open between requests (one per thread and app):
opening one costs three PRAGMAs and a schema read, and closing the last one checkpoints the
WAL, together about 1 ms of a request that otherwise takes about as much. A connection is
given back at the end of the request (a transaction left open by an error is rolled back) and
closed once it has been idle for IDLE_SECONDS, so a quiet server holds no database file open:
the WAL is checkpointed, and the disk can be remounted or the file replaced. A kept connection
never checkpoints inside a COMMIT; the request that ends past `store.CHECKPOINT_CHANGES`
changed rows does it, outside the write lock (see `store.checkpoint_if_due`).
"""
import os
import threading
import time
import weakref

from flask import current_app, g

from .. import store
from ..store import ops
from . import security

IDLE_SECONDS = 2.0


class _Slot:
    """One thread's kept connection; the reaper thread closes it when idle."""

    def __init__(self):
        self.lock = threading.Lock()
        self.db = None
        self.path = None
        self.in_use = 0  # app contexts using it (they may nest in one thread)
        self.last_used = 0.0


_SLOTS: "weakref.WeakSet[_Slot]" = weakref.WeakSet()
_REAPER: list = []
_REAPER_LOCK = threading.Lock()


def _slot(app) -> _Slot:
    pool = app.extensions.get("survey_db_pool")
    if pool is None:
        pool = app.extensions.setdefault("survey_db_pool", threading.local())
    slot = getattr(pool, "slot", None)
    if slot is None:
        slot = pool.slot = _Slot()
        _SLOTS.add(slot)
        _start_reaper()
    return slot


def get_db():
    if "db" not in g:
        app = current_app._get_current_object()
        slot, path = _slot(app), app.config["DATABASE"]
        with slot.lock:
            if slot.db is not None and slot.path != path:
                slot.db.conn.close()
                slot.db = None
            if slot.db is None:
                slot.db, slot.path = store.connect(path), path
                store.defer_checkpoints(slot.db)
            slot.in_use += 1
            g.db, g.db_slot = slot.db, slot
    return g.db


def close_db(exc=None):
    db, slot = g.pop("db", None), g.pop("db_slot", None)
    if db is not None:
        store.abandon_transaction(db)
        store.checkpoint_if_due(db)  # outside the write lock: one request waits, not a batch
    if slot is not None:
        with slot.lock:
            slot.in_use -= 1
            slot.last_used = time.monotonic()


def release_thread_connection(app) -> None:
    """Close this thread's kept connection now (code that replaces the database file)."""
    slot = _slot(app)
    with slot.lock:
        if slot.db is not None and not slot.in_use:
            slot.db.conn.close()
            slot.db = None


def _start_reaper() -> None:
    with _REAPER_LOCK:
        if _REAPER and _REAPER[0].is_alive():
            return
        thread = threading.Thread(target=_reap, name="survey-db-reaper", daemon=True)
        _REAPER[:] = [thread]
        thread.start()


def _reap() -> None:
    while True:
        time.sleep(IDLE_SECONDS / 2)
        now = time.monotonic()
        for slot in list(_SLOTS):
            if slot.db is None or slot.in_use or now - slot.last_used < IDLE_SECONDS:
                continue
            with slot.lock:
                if slot.db is not None and not slot.in_use and \
                        now - slot.last_used >= IDLE_SECONDS:
                    slot.db.conn.close()
                    slot.db = None


def init_app(app):
    # Upgrade (never recreate) the database before the first request.
    db = store.initialise(app.config["DATABASE"])
    try:
        ops.remember_key_fingerprint(db, security.key_fingerprint(app.config))
    finally:
        db.conn.close()
    restrict_files(app)
    app.teardown_appcontext(close_db)


def restrict_files(app) -> None:
    """The instance folder (secrets, answers, backups) 0700 and the database files 0600 (POSIX)."""
    if os.name == "posix":
        os.chmod(app.instance_path, 0o700)
    store.restrict_permissions(app.config["DATABASE"])
