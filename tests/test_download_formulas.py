"""No spreadsheet or CSV the product produces starts a cell with a formula prefix (security
issue 12, item 5): every download route of the url_map that answers with CSV, XLSX (or a ZIP
of them) is fetched for a world whose every typed text is a formula, and every cell is read.

All of them write through survey.tabular.neutralise."""
import csv
import io
import zipfile

import openpyxl
import pytest

from survey.io.exports import ENCODINGS, EXPORT_FORMATS
from survey.io.tabular import FORMULA_PREFIXES
from survey.web.db import get_db

from .world import build_path, make_site, routes

FORMULAS = ['=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(1)", "\t=1", "\r=1"]
DOWNLOAD_TYPES = ("text/csv", "spreadsheetml", "application/zip")


def _hostile(app) -> None:
    """Formulas in the title, questions, options, channel, answers and indicator names."""
    with app.app_context():
        db = get_db()
        survey_id = db.execute("SELECT min(id) FROM surveys").fetchone()[0]
        db.execute("UPDATE surveys SET title = ? WHERE id = ?", [FORMULAS[0], survey_id])
        for n, (qid,) in enumerate(db.execute(
                "SELECT id FROM questions WHERE survey_id = ?", [survey_id]).fetchall()):
            db.execute("UPDATE questions SET text = ? WHERE id = ?",
                       [FORMULAS[n % len(FORMULAS)], qid])
        for n, (oid,) in enumerate(db.execute(
                "SELECT o.id FROM options o JOIN questions q ON q.id = o.question_id "
                "WHERE q.survey_id = ?", [survey_id]).fetchall()):
            db.execute("UPDATE options SET label = ? WHERE id = ?",
                       [f"{FORMULAS[n % len(FORMULAS)]}{n}", oid])
        db.execute("UPDATE responses SET channel = ?", [FORMULAS[3]])
        db.execute("UPDATE response_tallies SET channel = ?", [FORMULAS[3]])
        db.execute("UPDATE answer_tallies SET channel = ?", [FORMULAS[3]])
        db.execute("UPDATE answers SET text = ? WHERE text IS NOT NULL", [FORMULAS[2]])
        db.execute("UPDATE assessment_indicators SET name = ? || id", [FORMULAS[0]])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("formulas"))
    _hostile(site.app)
    return site


def _variants(route, world) -> list[dict]:
    if route.endpoint == "staff.io_export":
        return [{"format": f, "encoding": e} for f in EXPORT_FORMATS for e in ENCODINGS] + [
            {"format": "csv", "values": "1"}, {"format": "xlsx", "values": "1"}]
    return [{}]


def _paths(app, route, world) -> list[tuple[str, dict]]:
    worlds = [world]
    if any(name == "ext" for name, _ in route.arguments):
        worlds = [{**world, "ext": ext} for ext in ("csv", "xlsx")]
    return [(build_path(app, route, w), query) for w in worlds for query in _variants(route, w)]


def _cells(name: str, body: bytes):
    """(where, text) for every text cell of a CSV, an XLSX or the CSV/XLSX inside a ZIP."""
    if name.endswith(".xlsx") or body[:2] == b"PK" and b"xl/workbook.xml" in body[:4096 * 8]:
        book = openpyxl.load_workbook(io.BytesIO(body))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str):
                        yield f"{name}!{sheet.title}!{cell.coordinate}", cell.value
        return
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for member in archive.namelist():
                if member.endswith((".csv", ".xlsx")):
                    yield from _cells(f"{name}/{member}", archive.read(member))
        return
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    for r, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        for c, value in enumerate(row, start=1):
            try:
                float(value)
                continue  # a number is a number
            except ValueError:
                yield f"{name}:{r}:{c}", value


DOWNLOADS = [r for r in routes() if "GET" in r.methods and (r.staff or r.api)]


def test_every_download_neutralises_every_cell(site):
    client = site.client("alice")
    fetched, offenders = [], []
    for route in DOWNLOADS:
        for path, query in _paths(site.app, route, site.world):
            response = client.get(path, query_string=query)
            kind = response.headers.get("Content-Type", "")
            if response.status_code != 200 or not any(t in kind for t in DOWNLOAD_TYPES):
                continue
            name = f"{path}?{query}" if query else path
            fetched.append(name)
            offenders.extend((where, value) for where, value in _cells(
                name + (".xlsx" if "spreadsheetml" in kind else ""), response.get_data())
                if value.startswith(FORMULA_PREFIXES))
    endpoints = {p.split("?")[0].rsplit("/", 1)[-1] for p in fetched}
    assert any("export" in e for e in endpoints) and any("template" in e for e in endpoints)
    assert any(e.endswith(".xlsx") and "report" in e for e in endpoints), fetched
    assert {"export.csv", "export.xlsx"} <= endpoints, fetched  # the case export
    assert not offenders, offenders[:20]
