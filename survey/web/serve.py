"""`survey serve`: waitress, in one process (every platform) or several (Linux and other POSIX).

Several processes (`--processes N`): the parent binds the listening socket once, then forks N
children, each running its own waitress (its own threads) on that shared socket; the kernel
hands each new connection to one of them. Each process has its own SQLite connections and its
own in-process writer lock, so the processes meet at the database: every write is BEGIN
IMMEDIATE with a busy timeout (SQLite's file lock is the guard), and an advisory lock file next
to the database (`survey.db.writer-lock`, flock) lets them queue for it in the kernel instead of
in SQLite's busy handler. The parent only supervises: it restarts a child that dies, passes
SIGTERM/SIGINT on to the children and waits for them; a child is killed with its parent.
"""
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import time

from .. import store

RESTART_PAUSE_SECONDS = 1.0


def waitress_options(app, workers: int) -> dict:
    # Behind a trusted proxy keep X-Forwarded-For, or every citizen shares the proxy's address
    # hash and one rate limit.
    return {"threads": workers, "ident": "survey",
            "clear_untrusted_proxy_headers": not app.config.get("TRUST_PROXY"),
            "max_request_body_size": app.config["IMPORT_MAX_BYTES"] + 1024 * 1024}


def check_port(host: str, port: int) -> None:
    """Raise OSError (EADDRINUSE) when the address is taken, before waitress builds a server:
    a failed waitress bind leaves its sockets to the garbage collector."""
    for family, kind, proto, _, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
        with socket.socket(family, kind, proto) as probe:
            if os.name == "posix":  # as waitress does: a port in TIME_WAIT is not "in use"
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)


def serve(app, host: str, port: int, workers: int, processes: int = 1) -> None:
    import waitress
    _quiet_queue_warnings()
    _freeze_startup_objects()
    if processes <= 1:
        check_port(host, port)
        waitress.serve(app, host=host, port=port, **waitress_options(app, workers))
        return
    if os.name != "posix":
        raise RuntimeError("多进程模式（--processes）只支持 Linux 等类 Unix 系统；Windows 请使用单进程")
    listener = socket.create_server((host, port), backlog=1024)
    listener.set_inheritable(True)
    _Supervisor(app, listener, workers, processes).run()


def _quiet_queue_warnings() -> None:
    """waitress warns "Task queue depth is N" for every request that finds all threads busy,
    from its I/O thread and holding the task queue's lock: under a burst of citizens that is
    one log line (and a stack walk) per request, slowing the very queue it reports. A queue
    is normal in a burst; its effect is the latency `bench/run.py submit` measures."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def _freeze_startup_objects() -> None:
    """What is loaded by now (modules, the app, its routes) lives as long as the process: out
    of the garbage collector's reach, a full collection under load does not walk it again
    (tens of ms with every thread stopped), and forked children share its pages."""
    gc.collect()
    gc.freeze()


class _Supervisor:
    def __init__(self, app, listener, workers: int, processes: int):
        self.app, self.listener = app, listener
        self.workers, self.processes = workers, processes
        self.children: set[int] = set()
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.processes):
            self._spawn()
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            self.children.discard(pid)
            if not self.stopping:
                print(f"服务进程 {pid} 意外退出（状态 {status}），正在重启", file=sys.stderr, flush=True)
                time.sleep(RESTART_PAUSE_SECONDS)
                self._spawn()
        self.listener.close()

    def _stop(self, signum, frame) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _spawn(self) -> None:
        pid = os.fork()
        if pid:
            self.children.add(pid)
            return
        code = 0
        try:
            _die_with_parent()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            # A lock file opened before the fork would be one open file description shared by
            # every child, and flock would not keep them apart: each opens its own.
            store.share_writer_across_processes(self.app.config["DATABASE"])
            import waitress
            waitress.serve(self.app, sockets=[self.listener],
                           **waitress_options(self.app, self.workers))
        except BaseException as error:  # noqa: BLE001 - a child must never return into click
            print(f"服务进程出错：{error!r}", file=sys.stderr, flush=True)
            code = 1
        finally:
            os._exit(code)


def _die_with_parent() -> None:
    """Linux: SIGTERM this child when the supervising parent dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)
