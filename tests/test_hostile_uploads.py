"""Uploads cost what their real content costs (security issue 12, item 4).

Each hostile file is generated here and read in a fresh subprocess, which reports the time and
the peak resident memory of the parse (VmHWM, Linux). Before the fix: a 1.6 KB XLSX declaring
<dimension ref="A1:XFD12000"/> cost 61 s and 1.8 GB (A1:XFD50001: 6.5 GB), a 19 MB CSV of
newlines 11 s and 1.5 GB. The bounds below are generous (a loaded 2-core machine); measured
after: well under a second and under 100 MB for each (see the README of bench/).
"""
import io
import json
import subprocess
import sys
import zipfile

import pytest

from survey.core.questionnaire import load_survey_template
from survey.io import paper_import, tabular

SECONDS = 15
PEAK_MB = 400

CHILD = r"""
import json, sys, time
from survey.io import paper_import
from survey.core.errors import DomainError
def peak_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
path, questions = sys.argv[1], json.loads(sys.argv[2])
data = open(path, "rb").read()
before = peak_mb()
started = time.process_time()
try:
    paper_import.plan_import(questions, path, data, 25 * 1024 * 1024)
    outcome = "accepted"
except DomainError as error:
    outcome = str(error)
print(json.dumps({"seconds": time.process_time() - started, "peak_mb": peak_mb(),
                  "before_mb": before, "outcome": outcome}))
"""


def _questions() -> list[dict]:
    """The satisfaction template as stored questions (ids made up, as plan_import needs)."""
    questions, option_id = [], 100
    for position, q in enumerate(load_survey_template("satisfaction-5")["questions"], start=1):
        options = []
        for o in q.get("options", []):
            option_id += 1
            options.append({"id": option_id, "label": o["label"], "value": o.get("value")})
        if q["kind"] == "scale" and not options:
            options = [{"id": (option_id := option_id + 1), "label": label, "value": value}
                       for label, value in (("非常满意", 100), ("满意", 80), ("一般", 60),
                                            ("不满意", 40), ("非常不满意", 0))]
        questions.append({"id": position, "position": position, "kind": q["kind"],
                          "text": q["text"], "required": q.get("required", True),
                          "options": options})
    return questions


def _parse_in_child(tmp_path, name: str, data: bytes) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), json.dumps(_questions())],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    print(name, found)  # the measured figures, with -s
    return found


def _xlsx_declaring(dimension: str, rows: list[list[str]]) -> bytes:
    """A small workbook (ours) whose sheet claims `dimension`, as a hostile file would."""
    out = io.BytesIO()
    tabular.write_xlsx([("答卷录入", rows[0], rows[1:], [], frozenset())], out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    hostile = io.BytesIO()
    with zipfile.ZipFile(hostile, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"<sheetViews>", f'<dimension ref="{dimension}"/>'
                                    .encode() + b"<sheetViews>", 1)
            target.writestr(item.filename, body)
    return hostile.getvalue()


def _header() -> list[str]:
    return [paper_import.column_header(q) for q in _questions()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
@pytest.mark.parametrize("dimension", ["A1:XFD12000", "A1:XFD50001"])
def test_an_xlsx_declaring_a_huge_sheet_costs_its_real_size(tmp_path, dimension):
    data = _xlsx_declaring(dimension, [_header(), ["非常满意"]])
    assert len(data) < 4096
    found = _parse_in_child(tmp_path, "hostile.xlsx", data)
    assert found["seconds"] < SECONDS and found["peak_mb"] < PEAK_MB, found
    assert found["outcome"] != "accepted", found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_an_xlsx_with_cells_far_to_the_right_is_refused_quickly(tmp_path):
    rows = [_header(), ["非常满意"]]
    out = io.BytesIO()
    tabular.write_xlsx([("答卷录入", rows[0], rows[1:], [], frozenset())], out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    far = "".join(f'<row r="{n}"><c r="XFD{n}" t="inlineStr"><is><t>x</t></is></c></row>'
                  for n in range(3, 20_000))
    hostile = io.BytesIO()
    with zipfile.ZipFile(hostile, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"</sheetData>", far.encode() + b"</sheetData>")
            target.writestr(item.filename, body)
    found = _parse_in_child(tmp_path, "far.xlsx", hostile.getvalue())
    assert found["seconds"] < SECONDS and found["peak_mb"] < PEAK_MB, found
    assert f"超过 {paper_import.MAX_COLUMNS} 列" in found["outcome"], found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_a_csv_of_millions_of_empty_lines_stops_at_the_row_limit(tmp_path):
    header = ",".join(_header()).encode("utf-8-sig")
    data = header + b"\r\n" * (19 * 1024 * 1024 // 2)
    found = _parse_in_child(tmp_path, "newlines.csv", data)
    assert found["seconds"] < SECONDS and found["peak_mb"] < PEAK_MB, found
    assert f"一次最多导入 {paper_import.MAX_ROWS} 份问卷" in found["outcome"], found


def test_a_csv_row_with_thousands_of_columns_is_refused():
    data = (",".join(_header()) + "\r\n" + "非常满意" + ",x" * 20_000 + "\r\n").encode()
    with pytest.raises(paper_import.ImportFileError, match="列数远多于问卷的题目数"):
        paper_import.plan_import(_questions(), "wide.csv", data, 25 * 1024 * 1024)
