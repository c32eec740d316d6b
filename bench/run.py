"""Benchmarks of survey, run against the production server on loopback.

    python bench/run.py submit --seconds 20     # submission throughput vs a bare endpoint
    python bench/run.py submit --reference      # ... and vs bench/minimal_app.py, same run
    python bench/run.py weight                  # the public form's first-load bytes (Chromium)
    python bench/run.py lighthouse              # Lighthouse 12.2.3 (mobile) on the public form
    python bench/run.py cpu                     # CPU per submission in process (GET, POST, bare)
    python bench/run.py import                  # paper import of 50,000 rows, write-lock hold
    python bench/run.py summary | dashboard | export   # the other benchmarks, when present

`submit` prints its figures and, as its last line, one JSON object (see README.md).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import _common

BENCH_DIR = Path(__file__).resolve().parent
WRK = "/usr/bin/wrk"
BARE_PATH = "/"  # the public start page: same app, same server, no survey, no write
ANSWER_VARIANTS = 5
# waitress drops X-Forwarded-For from an untrusted peer, so every wrk request seems to come
# from 127.0.0.1; lift the per-address limit (its query still runs on every submission).
NO_LIMIT = {"SUBMIT_RATE_LIMIT": 1_000_000_000}


def recommended_workers() -> int:
    """The default of `survey serve --workers`: what a department gets without tuning."""
    from survey.cli.base import serve_command
    return next(p.default for p in serve_command.params if p.name == "workers")


def answer_bodies(server: _common.Server, token: str) -> list[str]:
    """A few answer sets (without the ticket) read from the real form page."""
    html = _common.get(f"{server.url}/s/{token}")[2]
    return [urllib.parse.urlencode(_common.random_answers(html, random.Random(seed)))
            for seed in range(ANSWER_VARIANTS)]


def wrk(url: str, seconds: float, connections: int, threads: int, *script_args: str) -> dict:
    """One wrk run with bench/submit.lua; its JSON summary line."""
    out = subprocess.run(
        [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-s", str(BENCH_DIR / "submit.lua"), url, "--", *script_args],
        capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    return json.loads(line[len("WRK_JSON "):])


def server_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time so far of the server process and its forked children (Linux
    /proc); None elsewhere. Unlike requests per second, it hardly moves with a neighbour's
    load on the same cores."""
    total = 0.0
    try:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a process that ended meanwhile
            if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself or a child
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


def timed_wrk(pid: int, *args) -> dict:
    """wrk(*args) with the server's CPU seconds spent meanwhile (`cpu_s`, None if unknown)."""
    before = server_cpu_seconds(pid)
    result = wrk(*args)
    after = server_cpu_seconds(pid)
    result["cpu_s"] = None if before is None or after is None else after - before
    return result


def _per_ms(cpu_s: float | None, count: int) -> float | None:
    return None if cpu_s is None or not count else round(cpu_s * 1000 / count, 3)


def submit_figures(bare: dict, flow: dict, stored: int, integrity: str, workers: int,
                   connections: int) -> dict:
    rps = flow["acknowledged"] / flow["duration_s"]
    bare_rps = bare["acknowledged"] / bare["duration_s"]
    return {
        "acknowledged": flow["acknowledged"], "stored": stored,
        "lost": max(0, flow["acknowledged"] - stored),
        "in_flight_at_stop": max(0, stored - flow["acknowledged"]),
        "rps": round(rps, 1), "bare_rps": round(bare_rps, 1), "ratio": round(rps / bare_rps, 4),
        "http_rps": round(flow["requests"] / flow["duration_s"], 1),
        "p50_ms": flow["p50_ms"], "p90_ms": flow["p90_ms"], "p99_ms": flow["p99_ms"],
        "max_ms": flow["max_ms"], "bare_p50_ms": bare["p50_ms"], "bare_p99_ms": bare["p99_ms"],
        "rejected": flow["rejected"], "server_errors": flow["server_errors"],
        "rate_limited": flow["rate_limited"], "other": flow["other"],
        "socket_errors": flow["socket_errors"] + bare["socket_errors"],
        "timeouts": flow["timeouts"] + bare["timeouts"], "integrity": integrity,
        "workers": workers, "connections": connections, "seconds": flow["duration_s"],
        "loadavg": round(os.getloadavg()[0], 2),
        "cpu_ms_bare": _per_ms(bare.get("cpu_s"), bare["acknowledged"]),
        "cpu_ms_submission": _per_ms(flow.get("cpu_s"), flow["acknowledged"]),
    } | _cpu_ratio(bare, flow)


def _cpu_ratio(bare: dict, flow: dict) -> dict:
    """The ratio the run would show if the server's CPU were all that limits it."""
    bare_ms = _per_ms(bare.get("cpu_s"), bare["acknowledged"])
    flow_ms = _per_ms(flow.get("cpu_s"), flow["acknowledged"])
    return {"cpu_ratio": round(bare_ms / flow_ms, 4) if bare_ms and flow_ms else None}


def run_submit(args) -> dict:
    workers = args.workers or recommended_workers()
    with tempfile.TemporaryDirectory(prefix="survey-bench-") as tmp:
        instance = Path(tmp) / "instance"
        survey = _common.prepare_instance(instance, config="TRUST_PROXY = True")
        server = _common.Server(instance, workers=workers, settings=NO_LIMIT,
                                processes=args.processes).start()
        try:
            bodies = "|".join(answer_bodies(server, survey["token"]))
            wrk(server.url, 1, args.connections, args.threads, "bare", BARE_PATH)  # warm-up
            pid = server.proc.pid
            bare = timed_wrk(pid, server.url, args.seconds, args.connections, args.threads,
                             "bare", BARE_PATH)
            flow = timed_wrk(pid, server.url, args.seconds, args.connections, args.threads,
                             survey["token"], bodies)
            time.sleep(0.5)  # let requests cut off by wrk's stop finish
        finally:
            server.stop()
        db = _common.database_path(instance)
        stored = _common.stored_responses(instance, survey["id"])
        figures = submit_figures(bare, flow, stored, _common.integrity(db), workers,
                                 args.connections)
        figures["processes"] = args.processes
    if args.reference:
        figures |= run_reference(args, workers)
        # The product's pace as a share of the minimal app's (issue 14's limit), same run.
        figures["share_of_reference_rps"] = round(figures["rps"] / figures["reference_rps"], 3)
    return figures


class MinimalServer(_common.Server):
    """bench/minimal_app.py under waitress: the reference for the same wrk path."""

    def start(self) -> "MinimalServer":
        self.port = self.port or _common.free_port()
        self.log_path = self.instance / "minimal.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(BENCH_DIR / "minimal_app.py"), "--port", str(self.port),
                 "--threads", str(self.workers), "--database", str(self.instance / "minimal.db")],
                stdout=log, stderr=log, start_new_session=True)
        self._wait_ready()
        return self


def run_reference(args, workers: int) -> dict:
    """The same wrk phases against bench/minimal_app.py."""
    body = "&".join(f"q{n}={n % 5 + 1}" for n in range(1, 13))
    with tempfile.TemporaryDirectory(prefix="survey-bench-minimal-") as tmp:
        server = MinimalServer(Path(tmp), workers=workers).start()
        try:
            wrk(server.url, 1, args.connections, args.threads, "bare", BARE_PATH)  # warm-up
            pid = server.proc.pid
            bare = timed_wrk(pid, server.url, args.seconds, args.connections, args.threads,
                             "bare", BARE_PATH)
            flow = timed_wrk(pid, server.url, args.seconds, args.connections, args.threads,
                             "minimal", body)
        finally:
            server.stop()
    rps = flow["acknowledged"] / flow["duration_s"]
    bare_rps = bare["acknowledged"] / bare["duration_s"]
    return {"reference_rps": round(rps, 1), "reference_bare_rps": round(bare_rps, 1),
            "reference_ratio": round(rps / bare_rps, 4), "reference_p99_ms": flow["p99_ms"],
            "reference_bare_p99_ms": bare["p99_ms"]} | {
        f"reference_{k}": v for k, v in _cpu_ratio(bare, flow).items()}


def print_submit(figures: dict) -> None:
    print(f"submissions: {figures['rps']}/s (bare endpoint {figures['bare_rps']}/s, "
          f"ratio {figures['ratio']:.2%}); HTTP requests {figures['http_rps']}/s")
    print(f"latency of form GETs and POSTs: p50 {figures['p50_ms']} ms, "
          f"p99 {figures['p99_ms']} ms (bare p99 {figures['bare_p99_ms']} ms)")
    print(f"acknowledged {figures['acknowledged']}, stored {figures['stored']}, "
          f"lost {figures['lost']}, integrity {figures['integrity']}, "
          f"rejected {figures['rejected']} (server errors {figures['server_errors']}), "
          f"socket errors {figures['socket_errors']}, load average {figures['loadavg']}")
    print(f"server CPU: {figures['cpu_ms_submission']} ms per submission, "
          f"{figures['cpu_ms_bare']} ms per bare request (ratio {figures['cpu_ratio']})")
    print(json.dumps(figures))


def run_script(name: str, extra: list[str]) -> int:
    """Run another benchmark script when it exists (others are written separately)."""
    script = BENCH_DIR / name
    if not script.exists():
        print(f"{name} is not present; skipped")
        return 0
    return subprocess.run([sys.executable, str(script), *extra]).returncode


SCRIPTS = {"summary": "summary_bench.py", "dashboard": "dashboard_bench.py",
           "export": "export_memory.py", "weight": "form_weight.py",
           "lighthouse": "lighthouse_form.py", "cpu": "cpu_bench.py", "import": "import_bench.py"}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SCRIPTS:  # everything after the name goes to that script as is
        return run_script(SCRIPTS[argv[0]], argv[1:])
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    submit = sub.add_parser("submit", help="submission throughput through `survey serve`")
    submit.add_argument("--seconds", type=int, default=10)
    submit.add_argument("--connections", type=int, default=16)
    submit.add_argument("--threads", type=int, default=2, help="wrk threads")
    submit.add_argument("--workers", type=int, default=None,
                        help="server threads (default: survey serve's own default)")
    submit.add_argument("--processes", type=int, default=1,
                        help="server processes (survey serve --processes, Linux)")
    submit.add_argument("--reference", action="store_true",
                        help="also run bench/minimal_app.py the same way (reference_* figures)")
    for name, script in SCRIPTS.items():
        sub.add_parser(name, help=f"run bench/{script} with the arguments that follow")
    args = parser.parse_args(argv)
    figures = run_submit(args)
    print_submit(figures)
    return 0 if figures["lost"] == 0 and figures["integrity"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
