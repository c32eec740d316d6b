"""Paper import of a 50,000-row file, end to end, and how long it holds the write lock.

    python bench/import_bench.py                   # 50,000 rows, CSV
    python bench/import_bench.py --rows 10000 --format xlsx

A fresh database with the 10-question satisfaction survey (open). The file is made like staff
would fill in the template (option labels, a suggestion on one row in ten, a mix of satisfied
and dissatisfied answers so follow-up cases are opened too). Then, in one process:
  * `seconds`: paper_import.import_file end to end (read, validate, store, make visible);
  * `max_lock_s` / `lock_transactions`: the longest of the import's write transactions
    (timed around every `write_transaction` it opens) and how many there were;
  * `citizen_max_wait_ms`: meanwhile a thread stores a citizen's response every 20 ms through
    record_response (the group-commit path of the public form) on its own connection; the
    longest any of them took, i.e. how long the import kept a submission waiting;
  * the import is checked: every row visible, tallies equal to a recount, hash chain intact.
Prints a summary and a final JSON line.
"""
import argparse
import contextlib
import csv
import io
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey import store  # noqa: E402
from survey.core.questionnaire import load_survey_template  # noqa: E402
from survey.io import paper_import  # noqa: E402
from survey.io.evidence import chain_problems  # noqa: E402
from survey.store import accounts  # noqa: E402
from survey.store import imports as import_store  # noqa: E402
from survey.store import surveys as survey_store  # noqa: E402
from survey.store.responses import Submission, record_response  # noqa: E402
from survey.store.tallies import survey_figures  # noqa: E402

SUGGESTIONS = ["希望周末也能开放窗口。", "取号机经常排长队。", "工作人员态度很好！"]


def make_rows(questions, count: int, rng: random.Random) -> list[list[str]]:
    rows = [[paper_import.column_header(q) for q in questions]]
    for _ in range(count):
        mood = rng.choices(range(5), [55, 30, 9, 4, 2])[0]
        row = []
        for q in questions:
            if q["kind"] == "scale":
                row.append(q["options"][min(4, max(0, mood + rng.choice((0, 0, 1, -1))))]["label"])
            elif q["kind"] == "multiple":
                row.append("；".join(o["label"] for o in rng.sample(q["options"], 2)))
            elif q["kind"] == "single":
                row.append(rng.choice(q["options"])["label"])
            else:
                row.append(rng.choice(SUGGESTIONS) if rng.random() < 0.1 else "")
        rows.append(row)
    return rows


def encode(rows, fmt: str) -> bytes:
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")
    from survey.io import tabular
    out = io.BytesIO()
    tabular.write_xlsx([("答卷录入", rows[0], rows[1:], [], frozenset())], out)
    return out.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        db = store.initialise(path)
        department = accounts.ensure_department(db, "基准测试部门")
        survey_id = survey_store.create_survey(db, department, load_survey_template(
            "satisfaction-5"), title="基准测试：纸质问卷导入", status="open")
        survey = survey_store.get_survey(db, survey_id)
        questions = survey_store.questionnaire(db, survey_id)
        data = encode(make_rows(questions, args.rows, random.Random(args.seed)), args.format)

        locks: list[float] = []
        real = import_store.write_transaction

        @contextlib.contextmanager
        def timed(db_):
            with real(db_):
                began = time.perf_counter()
                yield db_
            locks.append(time.perf_counter() - began)
        import_store.write_transaction = timed

        waits, stop = [], threading.Event()

        def citizen():
            own = store.connect(path)
            while not stop.is_set():
                began = time.perf_counter()
                record_response(own, survey, questions, Submission(
                    answers={}, nonce=secrets.token_hex(8), source="qr"))
                waits.append(time.perf_counter() - began)
                time.sleep(0.02)
            own.conn.close()

        thread = threading.Thread(target=citizen, daemon=True)
        thread.start()
        time.sleep(0.2)
        started = time.perf_counter()
        result = paper_import.import_file(db, survey, questions, f"bench.{args.format}", data,
                                          max_bytes=100 * 1024 * 1024)
        seconds = time.perf_counter() - started
        time.sleep(0.2)
        stop.set()
        thread.join()
        import_store.write_transaction = real

        figures = survey_figures(db, survey)
        paper = db.execute("SELECT count(*) FROM responses r JOIN screening s ON s.response_id = "
                           "r.id WHERE r.survey_id = ? AND r.source = 'paper'",
                           [survey_id]).fetchone()[0]
        chain_ok = not chain_problems(db, survey_id)
        summary = {
            "rows": args.rows, "format": args.format, "bytes": len(data),
            "imported": result.imported, "visible_paper_rows": paper,
            "returned": figures["returned"], "seconds": round(seconds, 2),
            "max_lock_s": round(max(locks), 3), "lock_transactions": len(locks),
            "citizen_submissions": len(waits),
            "citizen_max_wait_ms": round(max(waits) * 1000, 1) if waits else None,
            "chain_ok": chain_ok, "loadavg": round(os.getloadavg()[0], 2),
        }
        db.conn.close()
    print(f"imported {summary['imported']} rows ({summary['format']}, "
          f"{summary['bytes'] / 1048576:.1f} MB) in {summary['seconds']} s; longest write "
          f"transaction {summary['max_lock_s']} s of {summary['lock_transactions']}; a citizen "
          f"waited at most {summary['citizen_max_wait_ms']} ms; chain ok: {chain_ok}")
    print(json.dumps(summary))
    return 0 if chain_ok and paper == result.imported == args.rows else 1


if __name__ == "__main__":
    sys.exit(main())
