"""The reference for `run.py submit --reference`: a minimal Flask app for the same
citizen's path, served the same way (waitress, same threads, loopback).

    GET /            a tiny page (this app's own bare endpoint)
    GET /s/<token>   a form of 12 fields with a random ticket in a hidden input
    POST /s/<token>  the 12 fields and the ticket inserted as one row, synchronous=FULL, 303

No screening, no tallies, no hash chain, no case, no template, no session, no security headers:
what remains is Flask, waitress and one durable SQLite insert per answer. Issue 14 calls this
"the limit to approach"; measuring it in the same run as the product turns that sentence into a
figure for this machine (`reference_ratio`).
"""
import argparse
import secrets
import sqlite3
import threading

from flask import Flask, redirect, request

FIELDS = [f"q{n}" for n in range(1, 13)]
FORM = ("<!doctype html><meta charset=utf-8><title>问卷</title><form method=post>"
        + "".join(f'<label>第{n}题 <input name="q{n}"></label>' for n in range(1, 13))
        + '<input type="hidden" name="ticket" value="{ticket}"><button>提交</button></form>')


def create_app(database: str) -> Flask:
    app = Flask(__name__)
    local = threading.local()
    # Writers queue on a lock (woken at once) rather than in SQLite's busy handler, which
    # sleeps in steps: the reference's best latency, not an artefact of polling.
    write_lock = threading.Lock()
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, ticket TEXT, "
                   + ", ".join(f"{f} TEXT" for f in FIELDS) + ")")

    def connection() -> sqlite3.Connection:
        if getattr(local, "db", None) is None:
            local.db = sqlite3.connect(database, timeout=30, isolation_level=None)
            local.db.execute("PRAGMA synchronous = FULL")
        return local.db

    @app.get("/")
    def bare():
        return "ok"

    @app.get("/s/<token>")
    def form(token):
        return FORM.replace("{ticket}", secrets.token_urlsafe(24))

    @app.post("/s/<token>")
    def submit(token):
        row = [request.form.get("ticket", "")] + [request.form.get(f, "") for f in FIELDS]
        db = connection()
        with write_lock:
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"INSERT INTO answers (ticket, {', '.join(FIELDS)}) VALUES "
                       f"({', '.join('?' * (len(FIELDS) + 1))})", row)
            db.execute("COMMIT")
        return redirect(f"/s/{token}/thanks", 303)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    import waitress
    waitress.serve(create_app(args.database), host="127.0.0.1", port=args.port,
                   threads=args.threads, ident="minimal")


if __name__ == "__main__":
    main()
