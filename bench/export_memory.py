"""Peak memory of the raw-response exports on a survey of 1,000,000 responses.

    python bench/export_memory.py                       # build 1,000,000 responses, measure
    python bench/export_memory.py --responses 100000    # a quicker run
    python bench/export_memory.py --db /tmp/big.db      # build once there, reuse next time
    python bench/export_memory.py --modes baseline,csv,xlsx,evidence --no-tracemalloc

Each measurement runs in a fresh child process that imports the same modules and reports its
peak resident set (VmHWM on Linux, else ru_maxrss) and, unless --no-tracemalloc, the peak of
Python allocations (tracemalloc). The baseline iterates the same SQL cursor the export reads,
writing nothing, so "export minus baseline" is what writing the file costs; if the export
streams, that difference stays small and does not grow with the number of responses.
Prints a table and a final JSON line.

Measured (2 shared cores, 1,000,000 responses of 10 questions, --no-tracemalloc):
    baseline 8 s, 50.2 MB; csv 27 s, 159 MB file, 51.1 MB (+0.9); xlsx 237 s, 68 MB file,
    58.0 MB (+7.8); evidence 94 s, 101 MB zip, 108.0 MB (+57.8: matplotlib and the charts).
With tracemalloc, Python's peak: baseline 0.1 MB, csv 0.6 MB, xlsx 6.3 MB; the same at 20,000.
"""
import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from survey.core.questionnaire import load_survey_template  # noqa: E402
from survey.io import evidence, exports  # noqa: E402
from survey.store import accounts, connect, initialise  # noqa: E402
from survey.store import evidence as evidence_rows  # noqa: E402
from survey.store import surveys as survey_store  # noqa: E402

MODES = ("baseline", "csv", "xlsx", "evidence")
MB = 1024 * 1024


def _largest_survey(db) -> tuple[int, int] | None:
    row = db.execute("SELECT survey_id, count(*) FROM responses GROUP BY survey_id "
                     "ORDER BY count(*) DESC LIMIT 1").fetchone()
    return tuple(row) if row else None


def prepare(path: Path, responses: int, seed: int) -> tuple[int, int]:
    """(survey id, responses): reuse the largest survey at `path` if big enough, else build."""
    db = initialise(path)
    try:
        found = _largest_survey(db)
        if found and found[1] >= responses:
            return found
        from dashboard_bench import Builder  # the bulk loader the dashboard benchmark uses
        department = accounts.ensure_department(db, "信阳市平桥区人力资源和社会保障局")
        survey_id = survey_store.create_survey(db, department, load_survey_template(
            "satisfaction-5"), title="基准测试：导出内存", status="open")
        db.execute("PRAGMA synchronous = OFF")  # bulk load only
        Builder(db, survey_store.get_survey(db, survey_id),
                survey_store.questionnaire(db, survey_id), random.Random(seed)).write(responses)
        return survey_id, responses
    finally:
        db.conn.close()


def run_mode(mode: str, db_path: str, survey_id: int, out: str) -> dict:
    """One measurement, in this (child) process."""
    db = connect(db_path)
    survey = survey_store.get_survey(db, survey_id)
    questions = survey_store.questionnaire(db, survey_id)
    start = time.perf_counter()
    rows = 0
    if mode == "baseline":
        for _ in evidence_rows.response_cursor(db, survey_id):
            rows += 1
    elif mode == "evidence":
        with open(out, "wb") as f:
            rows = evidence.build_package(db, survey, f)["database_state"]["responses"]
    else:
        table = exports.raw_table(db, survey, questions)
        with open(out, "wb") as f:
            exports.write_export([table], mode, f)
        rows = table.total
    seconds = time.perf_counter() - start
    return {"mode": mode, "rows": rows, "seconds": round(seconds, 1),
            "bytes": os.path.getsize(out) if mode != "baseline" else 0}


def child_main(args) -> None:
    if args.tracemalloc:
        import tracemalloc
        tracemalloc.start()
    result = run_mode(args.child, args.db, args.survey, args.out)
    if args.tracemalloc:
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / MB, 1)
    result["maxrss_mb"] = round(peak_rss_kb() / 1024, 1)
    print(json.dumps(result))


def peak_rss_kb() -> int:
    """This process's peak resident set. On Linux, VmHWM: ru_maxrss survives execve, so a
    child would report its parent's peak (here, the bulk loader's) instead of its own."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(mode: str, db_path: Path, survey_id: int, workdir: Path, traced: bool) -> dict:
    out = workdir / f"export.{ 'zip' if mode == 'evidence' else mode }"
    command = [sys.executable, __file__, "--child", mode, "--db", str(db_path),
               "--survey", str(survey_id), "--out", str(out)]
    if traced:
        command.append("--tracemalloc")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    out.unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: list[dict], responses: int) -> dict:
    print(f"{'mode':<10}{'rows':>10}{'seconds':>9}{'file MB':>9}{'peak RSS MB':>13}"
          f"{'py peak MB':>12}")
    for r in results:
        print(f"{r['mode']:<10}{r['rows']:>10}{r['seconds']:>9}{r['bytes'] / MB:>9.1f}"
              f"{r['maxrss_mb']:>13}{r.get('tracemalloc_peak_mb', '—'):>12}")
    base = next((r for r in results if r["mode"] == "baseline"), None)
    summary = {"responses": responses, "results": results}
    if base:
        summary["rss_over_baseline_mb"] = {r["mode"]: round(r["maxrss_mb"] - base["maxrss_mb"], 1)
                                           for r in results if r is not base}
        for mode, extra in summary["rss_over_baseline_mb"].items():
            print(f"{mode}: peak RSS {extra:+.1f} MB over the baseline cursor")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--db", help="SQLite file to build into or reuse")
    parser.add_argument("--modes", default="baseline,csv,xlsx")
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--survey", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        workdir = Path(tmp)
        db_path = Path(args.db) if args.db else workdir / "bench.db"
        started = time.perf_counter()
        survey_id, responses = prepare(db_path, args.responses, args.seed)
        print(f"survey {survey_id}: {responses} responses in {db_path} "
              f"({time.perf_counter() - started:.0f} s to prepare)")
        results = [measure(mode, db_path, survey_id, workdir, not args.no_tracemalloc)
                   for mode in args.modes.split(",")]
        print(json.dumps(report(results, responses), ensure_ascii=False))


if __name__ == "__main__":
    main()
