"""The request's database connection, on flask.g.

Each server thread keeps its connection open between requests (one per thread and app):
opening one costs three PRAGMAs and a schema read, and closing the last one checkpoints the
WAL, together about 1 ms of a request that otherwise takes about as much. A connection is
given back at the end of the request; a transaction left open by an error is rolled back.
"""
import threading

from flask import current_app, g

from . import store


def _pool(app) -> threading.local:
    pool = app.extensions.get("survey_db_pool")
    if pool is None:
        pool = app.extensions.setdefault("survey_db_pool", threading.local())
    return pool


def get_db():
    if "db" not in g:
        app = current_app._get_current_object()
        pool = _pool(app)
        path = app.config["DATABASE"]
        db = getattr(pool, "db", None)
        if db is None or pool.path != path:
            if db is not None:
                db.conn.close()
            db = store.connect(path)
            pool.db, pool.path = db, path
        g.db = db
    return g.db


def close_db(exc=None):
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def release_thread_connection(app) -> None:
    """Close this thread's kept connection (tests, and code that replaces the database file)."""
    pool = _pool(app)
    db = getattr(pool, "db", None)
    if db is not None:
        pool.db = None
        db.conn.close()


def init_app(app):
    # Upgrade (never recreate) the database before the first request.
    store.initialise(app.config["DATABASE"]).conn.close()
    app.teardown_appcontext(close_db)
