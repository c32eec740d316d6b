"""Operations on the database file: online backup, checked restore, and what the rate limit did.

No Flask here. Backups go through SQLite's own backup API: one step, one read transaction, so the
copy is a consistent snapshot even while the service keeps taking submissions (in WAL mode a
reader never blocks a writer). Restores go through the same API in the other direction, so the
live database is replaced in one write transaction: atomic, and safe with the WAL beside it.
"""
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from . import StoreError, initialise
from .schema import migrations

SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(StoreError):
    """The backup could not be made or did not pass its check."""


class RestoreError(StoreError):
    """The file cannot be restored, or restoring it would lose answers."""


@dataclass(frozen=True)
class DatabaseInfo:
    path: Path
    integrity: str
    migrations: tuple[str, ...]
    responses: int
    size_bytes: int


@dataclass(frozen=True)
class RestoreResult:
    restored: DatabaseInfo
    kept_as: Path | None  # the database as it was before, when there was one


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _integrity(conn: sqlite3.Connection) -> str:
    return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))


def inspect_database(path: Path) -> DatabaseInfo:
    """Check that `path` is a whole survey database; RestoreError (Chinese) when it is not."""
    path = Path(path)
    if not path.is_file():
        raise RestoreError(f"文件不存在：{path}")
    with open(path, "rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise RestoreError(f"{path} 不是 SQLite 数据库文件")
    conn = _read_only(path)
    try:
        integrity = _integrity(conn)
        if integrity != "ok":
            raise RestoreError(f"{path} 未通过完整性检查：{integrity}")
        names = _migration_names(conn, path)
        responses = conn.execute("SELECT count(*) FROM responses").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise RestoreError(f"{path} 无法读取：{error}") from error
    finally:
        conn.close()
    return DatabaseInfo(path, integrity, names, responses, path.stat().st_size)


def _migration_names(conn: sqlite3.Connection, path: Path) -> tuple[str, ...]:
    try:
        names = tuple(r[0] for r in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            [migrations.name]))
    except sqlite3.OperationalError:
        names = ()
    if not names:
        raise RestoreError(f"{path} 不是本系统的数据库（缺少迁移记录）")
    unknown = set(names) - {m.name for m in migrations._migrations}
    if unknown:
        raise RestoreError(f"{path} 来自更新的版本（含未知迁移 {', '.join(sorted(unknown))}），"
                           "请先升级本系统")
    return names


def backup(database: Path, target: Path) -> DatabaseInfo:
    """A consistent copy of the live `database` at `target` (a single file), checked."""
    database, target = Path(database), Path(target)
    if target.resolve() == database.resolve():
        raise BackupError("备份文件不能是数据库本身")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # Created empty with mode 0600 (SQLite takes an empty file as a new database), so the
    # copy of every answer is never readable by others, not even while it is written.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    if os.name == "posix":
        os.chmod(partial, 0o600)
    _copy(database, partial)
    try:
        info = inspect_database(partial)
    except RestoreError as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"备份未通过检查：{error}") from error
    os.replace(partial, target)
    return DatabaseInfo(target, info.integrity, info.migrations, info.responses,
                        target.stat().st_size)


def _copy(database: Path, target: Path) -> None:
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # pages=-1: the whole database in one read transaction
        # A backup is one self-contained file: no -wal beside it to forget when copying it away.
        copy.execute("PRAGMA journal_mode = DELETE")
        copy.commit()
    except sqlite3.Error as error:
        raise BackupError(f"备份失败：{error}") from error
    finally:
        copy.close()
        source.close()
    with open(target, "rb") as f:
        os.fsync(f.fileno())


def responses_missing_from(database: Path, candidate: Path) -> int:
    """Responses in the live database that the candidate file does not hold."""
    conn = _read_only(Path(database))
    try:
        conn.execute("ATTACH DATABASE ? AS candidate", [f"{Path(candidate).resolve().as_uri()}"
                                                        "?mode=ro"])
        return conn.execute(
            "SELECT count(*) FROM main.responses r WHERE NOT EXISTS (SELECT 1 FROM "
            "candidate.responses c WHERE c.survey_id = r.survey_id AND c.nonce = r.nonce)"
        ).fetchone()[0]
    finally:
        conn.close()


def restore(database: Path, source: Path, *, force: bool = False,
            now: dt.datetime | None = None) -> RestoreResult:
    """Replace the live database with the backup `source`, keeping the current one as .bak."""
    database = Path(database)
    candidate = inspect_database(Path(source))
    if database.exists() and candidate.path.resolve() == database.resolve():
        raise RestoreError("备份文件就是当前数据库，无需恢复")
    kept = None
    if database.exists():
        missing = responses_missing_from(database, candidate.path)
        if missing and not force:
            raise RestoreError(
                f"当前数据库中有 {missing} 份答卷不在该备份中，恢复后它们只保留在 .bak 文件里。"
                "请先停止服务；确认仍要恢复请加 --force")
        stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
        kept = backup(database, database.with_name(f"{database.name}.{stamp}.bak")).path
    _overwrite(candidate.path, database)
    initialise(database).conn.close()  # a backup from an older version is upgraded in place
    return RestoreResult(restored=inspect_database(database), kept_as=kept)


def _overwrite(source: Path, database: Path) -> None:
    """The backup API into the live file: one write transaction, WAL kept consistent."""
    src = _read_only(source)
    dst = sqlite3.connect(database, timeout=30)
    try:
        src.backup(dst)
    except sqlite3.Error as error:
        raise RestoreError(f"恢复失败，当前数据库未改变：{error}") from error
    finally:
        dst.close()
        src.close()


def blocked_submissions(db, survey_id: int) -> dict:
    """What the per-address submission limit did to one survey, for staff to see."""
    kind = f"submit:{survey_id}"
    total, addresses, first, last = db.execute(
        "SELECT count(*), count(DISTINCT key_hash), min(at), max(at) FROM rate_events "
        "WHERE kind = ? AND blocked = 1", [kind]).fetchone()
    by_day = [{"day": day, "blocked": n, "addresses": a} for day, n, a in db.execute(
        "SELECT date(at, '+8 hours') AS day, count(*), count(DISTINCT key_hash) FROM rate_events "
        "WHERE kind = ? AND blocked = 1 GROUP BY day ORDER BY day", [kind])]
    return {"survey_id": survey_id, "blocked": total, "addresses": addresses,
            "first_at": first, "last_at": last, "by_day": by_day}


def remember_key_fingerprint(db, fingerprint: str) -> None:
    """The first instance to open a database marks it; a restored copy keeps its origin's."""
    db.execute("INSERT OR IGNORE INTO instance_keys (name, fingerprint) VALUES ('secrets', ?)",
               [fingerprint])


def key_fingerprint(database: Path) -> str | None:
    conn = _read_only(Path(database))
    try:
        row = conn.execute("SELECT fingerprint FROM instance_keys WHERE name = 'secrets'").fetchone()
    finally:
        conn.close()
    return row[0] if row else None
