"""Rate-limit events: login attempts, under keyed hashes only, never a raw name or address.

Rows of kind submit:<survey id> with blocked = 1 are refusals by releases before answers
from a busy address were flagged instead (see `ops.blocked_submissions`)."""
from . import write_transaction
from .util import iso, utc_now


def count_since(db, kind: str, key_hash: str, since: str) -> int:
    return db.execute("SELECT count(*) FROM rate_events WHERE kind = ? AND key_hash = ? AND at > ?",
                      [kind, key_hash, since]).fetchone()[0]


def count_attempt(db, kind: str, key_hashes: list[str], since: str) -> tuple[list[int], list[int]]:
    """Record one attempt under each key and count each key's events since `since`, this one
    included, in one write transaction: concurrent attempts are counted one after another, so
    16 parallel guesses at a limit of 10 see the counts 1 to 16, never 16 times 10.

    Returns (the new rows' ids, the counts), in the order of `key_hashes`."""
    now = iso(utc_now())
    ids, counts = [], []
    with write_transaction(db):
        for key_hash in key_hashes:
            ids.append(db.execute("INSERT INTO rate_events (kind, key_hash, at) VALUES (?, ?, ?)",
                                  [kind, key_hash, now]).lastrowid)
            counts.append(count_since(db, kind, key_hash, since))
    return ids, counts


def forget(db, event_ids: list[int]) -> None:
    """An attempt that turned out legitimate (a correct password) no longer counts."""
    db.conn.executemany("DELETE FROM rate_events WHERE id = ?", [(i,) for i in event_ids])
