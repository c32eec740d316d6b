"""Storage: the one place that knows the SQLite schema (through sqlite-utils 4.x).

No Flask here. Callers pass a `sqlite_utils.Database` obtained from `connect()`.
"""
import contextlib
import os
import sqlite3
import threading
from collections import deque
from pathlib import Path

import sqlite_utils

from .schema import migrations

BUSY_TIMEOUT_MS = 10_000
# Threads of one server process queue here for the write lock instead of polling SQLite's
# busy handler (which sleeps in steps of up to 100 ms): measured p99 1 s -> 0.2 s under load.
_WRITER = threading.RLock()  # for connections not made by connect() (no survey_path)
# Per database file: its writer lock, and the jobs waiting for it (see `batched_write`).
_WRITERS: dict[str, threading.RLock] = {}
_QUEUES: dict[str, "_Queue"] = {}
_SETUP = threading.Lock()
# Several server processes on one database (`survey serve --processes N`, POSIX): an advisory
# lock file next to it makes the processes queue for the write lock in the kernel (woken at
# once) rather than in SQLite's busy handler (which sleeps in steps of up to 100 ms).
# BEGIN IMMEDIATE and busy_timeout stay the guard against every other writer.
_CROSS_PROCESS: dict[str, int] = {}


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
    # Deleted answers and call-back numbers are overwritten, not left in free pages.
    conn.execute("PRAGMA secure_delete = ON")
    db = sqlite_utils.Database(conn)
    db.survey_path = os.path.abspath(str(path))  # batched writes group jobs by database file
    return db


# SQLite copies the WAL back into the database (a checkpoint: megabytes written, two fsyncs)
# inside the COMMIT that finds it past 1,000 pages, holding the write lock: a whole batch of
# citizens and every writer behind it waited. A server's connections instead checkpoint at
# the end of a request, outside the write lock (`checkpoint_if_due`), once this many rows
# changed (a submission changes about 15 rows, about 20 pages when committed alone).
CHECKPOINT_CHANGES = 1000
_CHANGES: dict[str, int] = {}  # rows changed per database file since its last checkpoint


def defer_checkpoints(db: sqlite_utils.Database) -> None:
    """For a kept server connection: its commits no longer checkpoint (see checkpoint_if_due)."""
    db.conn.execute("PRAGMA wal_autocheckpoint = 0")
    db.counted_changes = db.conn.total_changes


def checkpoint_if_due(db: sqlite_utils.Database) -> None:
    """Checkpoint (PASSIVE: writers go on meanwhile) once enough rows changed through the
    connections that defer it. A failure is left for the next one: the WAL keeps every row."""
    counted = getattr(db, "counted_changes", None)
    if counted is None or db.conn.in_transaction:
        return
    total = db.conn.total_changes
    db.counted_changes = total
    with _SETUP:
        changes = _CHANGES[db.survey_path] = _CHANGES.get(db.survey_path, 0) + total - counted
        if changes < CHECKPOINT_CHANGES:
            return
        _CHANGES[db.survey_path] = 0
    with contextlib.suppress(sqlite3.Error):
        db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


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


def restrict_permissions(path: str | Path) -> None:
    """Database files readable by their owner only (POSIX): the file, its -wal and -shm.

    SQLite creates a later -wal/-shm with the main file's mode, so this holds from now on."""
    if os.name != "posix":
        return
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", 0o600)


def abandon_transaction(db: sqlite_utils.Database) -> None:
    """A kept connection goes back to its pool with no transaction left open."""
    if db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


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
    try:
        with _writer(db), _cross_process_lock(db):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
    finally:
        _after_release(db)


def _writer(db) -> threading.RLock:
    path = getattr(db, "survey_path", None)
    if path is None:
        return _WRITER
    lock = _WRITERS.get(path)
    if lock is None:
        with _SETUP:
            _QUEUES.setdefault(path, _Queue())  # first: a thread seeing the lock finds it
            lock = _WRITERS.setdefault(path, threading.RLock())
    return lock


def share_writer_across_processes(path: str | Path) -> None:
    """Call in each server process sharing the database at `path` (POSIX only)."""
    import fcntl  # noqa: F401  (POSIX only: fail here, not at the first write)
    key = os.path.abspath(str(path))
    if key not in _CROSS_PROCESS:
        _CROSS_PROCESS[key] = os.open(key + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)


@contextlib.contextmanager
def _cross_process_lock(db):
    fd = _CROSS_PROCESS.get(getattr(db, "survey_path", None)) if _CROSS_PROCESS else None
    if fd is None:
        yield
        return
    import fcntl
    fcntl.flock(fd, fcntl.LOCK_EX)  # blocks in the kernel, the GIL released
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


class _Job:
    __slots__ = ("fn", "durable", "taken", "done", "result", "error")

    def __init__(self, fn, durable: bool):
        self.fn, self.durable = fn, durable
        self.taken = self.done = False
        self.result = self.error = None


class _Queue:
    """A database file's jobs waiting for its writer. `turn` wakes every waiting thread when a
    batch is committed: a thread whose job it carried returns at once, instead of queueing
    for the writer lock only to find its job done (behind the next batch's fsync, which was
    the tail of the latency under load)."""

    def __init__(self):
        self.jobs: deque = deque()
        self.turn = threading.Condition(threading.Lock())
        self.leading = False  # a thread is writing a batch of answers


def batched_write(db: sqlite_utils.Database, fn, *, durable: bool = True):
    """`fn(db)` in a write transaction, committed together with the jobs other threads of this
    process queued meanwhile (group commit): one BEGIN IMMEDIATE ... COMMIT, so one fsync, for
    all of them. Each job runs in its own savepoint: its exception rolls back its own writes
    only and is raised in its own thread; every job's writes stay in one transaction.
    `fn` runs on whichever thread leads the batch, with that thread's connection to the same
    database, so it must use only the `db` it is given. Returns `fn`'s result once committed.
    A batch starts as soon as no other is being written: nothing waits for company.

    `durable=False` (a form view's counter) does not wait: the job is written now if the
    writer is free, else by the thread holding it, with its own batch or right after (every
    holder of a database's writer drains its queue on release, so no job is left behind). A
    batch of such jobs alone commits with synchronous=NORMAL (in WAL mode: made durable by the
    next full commit); a batch with answers always commits FULL. Returns None for those."""
    path = getattr(db, "survey_path", None)
    if path is None or db.conn.in_transaction:
        with write_transaction(db):
            return fn(db)
    lock, queue = _writer(db), _QUEUES[path]
    job = _Job(fn, durable)
    queue.jobs.append(job)
    if not durable:
        _after_release(db)
        return None
    if _wait_or_lead(queue, job):
        lead_ended = False
        try:
            with lock:
                jobs = _take(path)  # empty when a drain of views took this job along
                if jobs:
                    lead_ended = True  # with the batch's own wake-up call: one, not two
                    _run_batch(db, jobs, ends_lead=True)
        finally:
            if not lead_ended:
                with queue.turn:
                    queue.leading = False
                    queue.turn.notify_all()
            _after_release(db)
    if job.error is not None:
        raise job.error
    return job.result


def _wait_or_lead(queue: _Queue, job: _Job) -> bool:
    """Wait until the job is committed by another thread (False), or until no batch is being
    written and the job is still queued: this thread then leads the next batch (True)."""
    with queue.turn:
        while not job.done:
            if not queue.leading and not job.taken:
                queue.leading = True
                return True
            queue.turn.wait()
    return False


def _take(path: str) -> list:
    queue, jobs = _QUEUES[path].jobs, []
    while queue:
        job = queue.popleft()
        job.taken = True
        jobs.append(job)
    return jobs


def _after_release(db) -> None:
    """Write the jobs that queued while this thread held the writer, unless one of them is an
    answer (its own thread is waiting and will lead) or another thread holds the writer now
    (it will come here too when it lets go)."""
    path = getattr(db, "survey_path", None)
    if path is None or db.conn.in_transaction:
        return
    lock, queue = _writer(db), _QUEUES[path].jobs
    while queue and not any(job.durable for job in list(queue)):
        if lock._is_owned() or not lock.acquire(blocking=False):
            return
        try:
            jobs = _take(path)
            if jobs:
                _run_batch(db, jobs)
        finally:
            lock.release()


def _run_batch(db, jobs: list, ends_lead: bool = False) -> None:
    conn = db.conn
    relaxed = not any(job.durable for job in jobs)
    try:
        if relaxed:
            conn.execute("PRAGMA synchronous = NORMAL")
        with _cross_process_lock(db):
            conn.execute("BEGIN IMMEDIATE")
            try:
                _run_jobs(db, jobs)
                if conn.in_transaction:
                    conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    except BaseException as error:  # nothing committed: every job of the batch fails
        for job in jobs:
            job.error, job.result = error, None
        if not isinstance(error, Exception):
            raise
    finally:
        if relaxed:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA synchronous = FULL")
        queue = _QUEUES[db.survey_path]
        with queue.turn:
            for job in jobs:
                job.done = True
            if ends_lead:
                queue.leading = False
            if ends_lead or not relaxed:  # nobody waits for a form view
                queue.turn.notify_all()


def _run_jobs(db, jobs: list) -> None:
    """Each job in its own savepoint: its exception undoes its own writes only, and is raised
    again in its own thread. A job alone needs none: the transaction is rolled back."""
    conn = db.conn
    if len(jobs) == 1:
        job = jobs[0]
        try:
            job.result = job.fn(db)
        except Exception as error:  # noqa: BLE001 - raised again in its own thread
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            job.error = error
        return
    for job in jobs:
        conn.execute("SAVEPOINT job")
        try:
            job.result = job.fn(db)
        except Exception as error:  # noqa: BLE001 - raised again in its own thread
            conn.execute("ROLLBACK TO job")
            job.error = error
        conn.execute("RELEASE job")
