"""Shared by the benchmarks and the slow tests: a real `survey serve` on a loopback port, and a
citizen-like client that opens the form, reads its ticket and posts answers.

Nothing here imports the app: the server is the production command in its own process, so the
figures and the fault tests see exactly what a department's server does.
"""
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from itsdangerous import URLSafeSerializer

TICKET = re.compile(r'name="ticket"[^>]*value="([^"]+)"')
CHOICE = re.compile(r'<input[^>]*name="(q\d+)"[^>]*type="(radio|checkbox)"[^>]*value="(\d+)"')
TEXTAREA = re.compile(r'<textarea[^>]*name="(q\d+)"')
READY_SECONDS = 20


def survey_command() -> list[str]:
    """The `survey` console script an operator runs, from the same Python as the caller."""
    script = Path(sys.executable).with_name("survey")
    if script.exists():
        return [str(script)]
    found = shutil.which("survey")
    return [found] if found else [sys.executable, "-c", "from survey.cli import cli; cli()"]


def survey_env(instance: Path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env["SURVEY_INSTANCE_PATH"] = str(instance)
    env.update({f"SURVEY_{k}": str(v) for k, v in settings.items()})
    return env


def run_survey(instance: Path, *args: str, stdin: str | None = None, check=True,
               **settings) -> subprocess.CompletedProcess:
    return subprocess.run([*survey_command(), *args], env=survey_env(instance, **settings),
                          input=stdin, capture_output=True, text=True, check=check, timeout=120)


def prepare_instance(instance: Path, config: str = "", title: str = "压力测试问卷") -> dict:
    """`survey init`, extra instance config, then an open satisfaction survey: {id, token}."""
    run_survey(instance, "init")
    if config:
        with open(instance / "config.py", "a", encoding="utf-8") as f:
            f.write("\n" + config + "\n")
    out = run_survey(instance, "new-survey", "--department", "压力测试部门", "--title", title,
                     "--open").stdout
    return json.loads(out[out.index("{"):])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A `survey serve` subprocess; its stdout and stderr go to `log_path`."""
    instance: Path
    workers: int = 8
    settings: dict = field(default_factory=dict)
    processes: int = 1
    port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        self.port = self.port or free_port()
        self.log_path = self.log_path or self.instance.parent / f"serve-{self.port}.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*survey_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers),
                 *(["--processes", str(self.processes)] if self.processes > 1 else [])],
                env=survey_env(self.instance, **self.settings), stdout=log, stderr=log,
                start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text(errors='replace')}")
            try:
                if get(self.url + "/", timeout=2)[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _connection(url: str, timeout: float, source: str | None
                ) -> tuple[http.client.HTTPConnection, str]:
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout,
                                      source_address=(source, 0) if source else None), path


def request(method: str, url: str, body: str | None = None, headers: dict | None = None,
            timeout: float = 15, source: str | None = None) -> tuple[int, dict, str]:
    """One HTTP request, redirects not followed: (status, headers, body text). `source` is the
    client's own loopback address (e.g. 127.0.0.2), so the server sees a distinct visitor."""
    conn, path = _connection(url, timeout, source)
    try:
        all_headers = dict(headers or {})
        if body is not None:
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        conn.request(method, path, body=body.encode() if body is not None else None,
                     headers=all_headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode(
            "utf-8", "replace")
    finally:
        conn.close()


def get(url: str, timeout: float = 15) -> tuple[int, dict, str]:
    return request("GET", url, timeout=timeout)


def random_answers(html: str, rng: random.Random, text: str | None = None) -> dict:
    """Answers to every choice question on the form page (one option each), like a citizen."""
    options: dict[str, list[str]] = {}
    for name, _kind, value in CHOICE.findall(html):
        options.setdefault(name, []).append(value)
    answers = {name: rng.choice(values) for name, values in options.items()}
    if text is not None:
        answers.update({name: text for name in TEXTAREA.findall(html)})
    return answers


def submit_once(base_url: str, token: str, rng: random.Random, headers: dict | None = None,
                text: str | None = None, query: str = "?via=qr", source: str | None = None
                ) -> tuple[int, str | None]:
    """GET the form, read its ticket, POST answers: (the POST's status, the ticket).
    303 means acknowledged; a failed GET gives (its status, None)."""
    status, _, html = request("GET", f"{base_url}/s/{token}{query}", headers=headers,
                              source=source)
    if status != 200:
        return status, None
    ticket = TICKET.search(html)
    if not ticket:
        raise AssertionError("form page without a ticket")
    body = urllib.parse.urlencode({**random_answers(html, rng, text), "ticket": ticket.group(1)})
    status = request("POST", f"{base_url}/s/{token}", body=body, headers=headers,
                     source=source)[0]
    return status, ticket.group(1)


def ticket_nonce(ticket: str) -> str:
    """The nonce inside a form ticket (the server checked its signature; we only read it)."""
    payload = ticket.rsplit(".", 2)[0]
    return URLSafeSerializer("unused").load_payload(payload.encode())["n"]


@dataclass
class Load:
    """Citizens submitting concurrently, each in its own thread, until `stop` or a count."""
    base_url: str
    token: str
    clients: int = 8
    per_client: int | None = None
    statuses: Counter = field(default_factory=Counter)
    acknowledged: list = field(default_factory=list)  # tickets answered with 303
    errors: list = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list = field(default_factory=list)

    def start(self) -> "Load":
        self._threads = [threading.Thread(target=self._client, args=(i,), daemon=True)
                         for i in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def _client(self, seed: int) -> None:
        rng, done = random.Random(seed), 0
        while not self.stop.is_set() and (self.per_client is None or done < self.per_client):
            try:
                status, ticket = submit_once(self.base_url, self.token, rng)
            except (OSError, http.client.HTTPException) as error:  # the server went away
                with self._lock:
                    self.errors.append(repr(error))
                return
            with self._lock:
                self.statuses[status] += 1
                if status == 303:
                    self.acknowledged.append(ticket)
            done += 1

    def wait_for(self, acknowledged: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < acknowledged and time.monotonic() < deadline:
            time.sleep(0.05)

    def join(self, timeout: float = 60) -> "Load":
        for thread in self._threads:
            thread.join(timeout)
        return self

    def finish(self) -> "Load":
        self.stop.set()
        return self.join()

    def acknowledged_nonces(self) -> set[str]:
        with self._lock:
            return {ticket_nonce(t) for t in self.acknowledged}


def database_path(instance: Path) -> Path:
    return instance / "survey.db"


def count_rows(instance: Path, sql: str, params=()) -> int:
    conn = sqlite3.connect(database_path(instance), timeout=30)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


def stored_responses(instance: Path, survey_id: int) -> int:
    return count_rows(instance, "SELECT count(*) FROM responses WHERE survey_id = ?", [survey_id])


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
