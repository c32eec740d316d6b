"""The per-request database connection, on flask.g."""
from flask import current_app, g

from .. import store


def get_db():
    if "db" not in g:
        g.db = store.connect(current_app.config["DATABASE"])
    return g.db


def close_db(exc=None):
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def init_app(app):
    # Upgrade (never recreate) the database before the first request.
    store.initialise(app.config["DATABASE"]).conn.close()
    app.teardown_appcontext(close_db)
