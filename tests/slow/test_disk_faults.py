"""A full disk and a read-only database, simulated honestly on the real server process:

- full disk, any user: RLIMIT_FSIZE of the running server lowered to 0, so the kernel refuses
  every file write with EFBIG (SQLite reports an I/O error) — then raised back;
- full disk, root: the instance on a 4 MB tmpfs filled up by a filler file, so writes fail with
  ENOSPC (SQLITE_FULL) — then the filler is removed;
- read-only, root: that tmpfs remounted read-only, then read-write again;
- read-only, other users: the instance folder and database file made read-only (chmod).

In every case the citizen gets the 'please try again later' page, nothing is half-written, and
the same form submits once the disk is back.
"""
import contextlib
import errno
import os
import random
import resource
import subprocess
import time
import urllib.parse

import pytest

from bench import _common
from survey.web.db import IDLE_SECONDS

from ..checks import incomplete_responses

pytestmark = pytest.mark.slow
TRY_LATER = "请稍后再试"


@pytest.fixture
def disk(tmp_path):
    """A 4 MB tmpfs when this user may mount one, else a plain folder (mounted is False)."""
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path)],
                             capture_output=True).returncode == 0
    yield path, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def instance(disk):
    return disk[0] / "instance"


@contextlib.contextmanager
def file_size_limit(pid: int):
    soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))


@contextlib.contextmanager
def filled(path):
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 16, 1 << 12, 1 << 8, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
        with pytest.raises(OSError) as full:
            os.write(fd, b"\0")
        assert full.value.errno == errno.ENOSPC
        yield
    finally:
        os.close(fd)
        filler.unlink()


@contextlib.contextmanager
def remounted_read_only(path):
    # Linux refuses to remount read-only while a file is open for writing ("busy"): the
    # server keeps each thread's database connection until it has been idle for
    # survey.db.IDLE_SECONDS. (A kernel remounting a failing disk does not wait; this does.)
    deadline = time.monotonic() + 4 * IDLE_SECONDS + 5
    while True:
        done = subprocess.run(["mount", "-o", "remount,ro", str(path)], capture_output=True,
                              text=True)
        if done.returncode == 0:
            break
        if "busy" not in done.stderr or time.monotonic() > deadline:
            raise AssertionError(done.stderr)
        time.sleep(0.2)
    try:
        yield
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(path)], check=True)


@contextlib.contextmanager
def read_only_files(instance):
    paths = [instance, *instance.glob("survey.db*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def fault(kind: str, server, disk):
    path, mounted = disk
    if kind in ("tmpfs-full", "remount-ro") and not mounted:
        pytest.skip("mounting a small filesystem needs root")
    if kind == "chmod-ro" and os.geteuid() == 0:
        pytest.skip("root ignores file permissions; remount-ro covers root")
    return {"rlimit-full": lambda: file_size_limit(server.proc.pid),
            "tmpfs-full": lambda: filled(path),
            "remount-ro": lambda: remounted_read_only(path),
            "chmod-ro": lambda: read_only_files(server.instance)}[kind]()


def posted_answers(server, token) -> str:
    status, _, html = _common.get(f"{server.url}/s/{token}")
    assert status == 200
    answers = _common.random_answers(html, random.Random(7), text="办事很快")
    return urllib.parse.urlencode({**answers, "ticket": _common.TICKET.search(html).group(1)})


@pytest.mark.parametrize("kind", ["rlimit-full", "tmpfs-full", "remount-ro", "chmod-ro"])
def test_disk_fault_asks_to_try_later_and_recovers(kind, serve, open_survey, database, disk):
    server = serve(workers=4)
    token = open_survey["token"]
    body = posted_answers(server, token)
    with fault(kind, server, disk):
        status, _, page = _common.request("POST", f"{server.url}/s/{token}", body=body)
        assert (status, TRY_LATER in page) == (503, True)
        # Opening the form writes its view count; if that fails, the same page (or the form).
        status, _, page = _common.get(f"{server.url}/s/{token}")
        assert (status == 503 and TRY_LATER in page) or status == 200
    status, _, _ = _common.request("POST", f"{server.url}/s/{token}", body=body)
    assert status == 303
    server.stop()
    db = database()
    assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM answers WHERE text = '办事很快'").fetchone()[0] == 1
    assert incomplete_responses(db, open_survey["id"]) == []
    assert _common.integrity(_common.database_path(server.instance)) == "ok"
    assert "Traceback" not in server.log_path.read_text(errors="replace")
