"""Exports: raw responses and the summary figures, as CSV and XLSX, streamed.

Raw responses are read from one SQL cursor in id order and written row by row, so a survey of a
million responses never sits in memory. Every text cell is neutralised against spreadsheet
formula injection; numbers stay numbers.
"""
import codecs
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from ..core import labels
from ..core.conditions import applies
from ..core.errors import DomainError
from ..core.screening import REASON_TEXT, Verdict
from ..store.evidence import has_transactions, response_count, response_cursor
from ..store.tallies import survey_figures
from .summary_export import summary_tables
from .tables import FORMULA_PREFIXES, Table, cell_number, neutralise  # noqa: F401  (the one rule)

EXPORT_FORMATS = {"csv": "原始答卷（CSV）", "xlsx": "原始答卷（Excel）",
                  "summary-xlsx": "统计汇总（Excel）", "summary-csv": "统计汇总（CSV）"}
ENCODINGS = {"utf-8-sig": "UTF-8（带 BOM，新版 Excel）", "gb18030": "GB18030（旧版 Excel）"}
MULTI_JOINER = "；"
PROGRESS_EVERY = 1000

Progress = Callable[[int], None] | None


class ExportError(DomainError):
    """An export that cannot be produced as asked (unknown format or encoding)."""


def validity_text(valid: bool, reasons_json: str, manual: bool, manual_reason) -> str:
    """Why a response is (in)valid, in Chinese; empty for an automatically valid one."""
    if manual:
        return Verdict(bool(valid), ("manual",), manual_reason or "").describe()
    if valid:
        return ""
    return MULTI_JOINER.join(REASON_TEXT.get(c, c) for c in json.loads(reasons_json or "[]"))


@dataclass(frozen=True)
class RawLayout:
    """The columns of the raw export, built once from the questionnaire."""
    questions: tuple
    values: bool = False
    # 一事一评: two more columns after 渠道 (the window), for surveys with such answers only.
    transactions: bool = False

    def header(self) -> list[str]:
        header = ["答卷编号", "提交时间（北京时间）", "来源", "渠道",
                  *(("办件编号", "工号") if self.transactions else ()), "答题用时（秒）",
                  "是否有效", "无效原因或人工判定"]
        for q in self.questions:
            header.append(f"{q['position']}. {q['text']}")
            if self.values and q["kind"] != "text":
                header.append(f"{q['position']}. 分值")
        return header

    def widths(self) -> list[int]:
        return [10, 20, 10, 12, *((16, 10) if self.transactions else ()), 10, 8, 24] + [
            w for q in self.questions
            for w in ([30 if q["kind"] == "text" else 14] +
                      ([8] if self.values and q["kind"] != "text" else []))]

    def cells(self, row) -> list:
        rid, received_at, source, channel, duration, valid, reasons, manual, manual_reason, \
            answers = row[:10]
        # Blank cells are None: CSV writes them empty and XLSX leaves them out entirely.
        cells = [rid, labels.china_time(received_at, seconds=True), labels.source_name(source),
                 channel or None, *((row[10], row[11] or None) if self.transactions else ()),
                 cell_number(duration), "有效" if valid else "无效",
                 validity_text(valid, reasons, manual, manual_reason) or None]
        given = _group_answers(answers)
        memo = self._memo()
        for q in self.questions:
            if q.get("show_if") and not applies(q, given):
                cells.extend(self._not_asked(q))
                continue
            chosen = given.get(q["id"], [])
            key = (q["id"], *chosen)
            found = memo.get(key)
            if found is None:
                found = self._answer_cells(q, chosen)
                if len(memo) < 10_000 and q["kind"] != "text":
                    memo[key] = found
            cells.extend(found)
        return cells

    def _memo(self) -> dict:
        """Cells per (question, choice): the same few answers make up a million rows."""
        memo = self.__dict__.get("_cells_memo")
        if memo is None:
            memo = {}
            object.__setattr__(self, "_cells_memo", memo)
        return memo

    def _not_asked(self, q: dict) -> list:
        """Not asked (its condition did not hold) reads apart from asked and left blank."""
        return [labels.NOT_APPLICABLE] + ([None] if self.values and q["kind"] != "text" else [])

    def _answer_cells(self, q: dict, given: list) -> list:
        if q["kind"] == "text":
            return [given[0] if given else None]
        if not given:
            return [None, None] if self.values else [None]
        chosen = [o for o in q["options"] if o["id"] in given]
        text = MULTI_JOINER.join(o["label"] for o in chosen) or None
        if not self.values:
            return [text]
        values = [cell_number(o["value"]) for o in chosen if o["value"] is not None]
        if q["kind"] == "multiple":
            return [text, MULTI_JOINER.join(str(v) for v in values) or None]
        return [text, values[0] if values else None]


def _group_answers(answers_json: str) -> dict:
    """question_id -> option ids, or [text] for a text question."""
    grouped: dict = {}
    for question_id, option_id, text in json.loads(answers_json or "[]"):
        grouped.setdefault(question_id, []).append(option_id if option_id is not None else text)
    return grouped


def raw_table(db, survey: dict, questions: list[dict], *, values: bool = False) -> Table:
    layout = RawLayout(tuple(questions), values, has_transactions(db, survey["id"]))
    rows = (layout.cells(r) for r in response_cursor(db, survey["id"],
                                                     transactions=layout.transactions))
    return Table("答卷", layout.header(), rows, total=response_count(db, survey["id"]),
                 widths=layout.widths())


def _safe_rows(rows: Iterable[list], progress: Progress) -> Iterator[list]:
    """Rows with every cell neutralised, reporting progress every PROGRESS_EVERY rows."""
    done = 0
    prefixes = FORMULA_PREFIXES
    for done, row in enumerate(rows, start=1):
        # neutralise(), inlined: this runs for every cell of a million rows.
        yield [("'" + v) if type(v) is str and v.startswith(prefixes) else v for v in row]
        if progress and done % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress and done % PROGRESS_EVERY:
        progress(done % PROGRESS_EVERY)


def _csv_cell(value, percent: bool):
    # A percent column holds exact fractions (figures.exact_value): rounded once, here.
    if percent and isinstance(value, (float, Fraction)):
        return labels.percent(value)
    return "" if value is None else value


def csv_chunks(tables: list[Table], encoding: str = "utf-8-sig", progress: Progress = None,
               rows_per_chunk: int = 500) -> Iterator[bytes]:
    """Encoded CSV in chunks (the BOM once, at the start); several tables one after another."""
    if encoding not in ENCODINGS:
        raise ExportError(f"不支持的编码：{encoding}")
    encoder = codecs.getincrementalencoder(encoding)(errors="replace")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for index, table in enumerate(tables):
        if len(tables) > 1:
            writer.writerows(([], [table.title]) if index else ([table.title],))
        writer.writerow([neutralise(h) for h in table.header])
        percent = table.percent_columns
        for n, row in enumerate(_safe_rows(table.rows, progress), start=1):
            # csv writes None as an empty cell; only percent columns need formatting.
            writer.writerow([_csv_cell(v, i in percent) for i, v in enumerate(row)]
                            if percent else row)
            if n % rows_per_chunk == 0:
                yield encoder.encode(_drain(buffer))
    yield encoder.encode(_drain(buffer), final=True)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def write_xlsx(tables: list[Table], out, progress: Progress = None) -> None:
    """An XLSX workbook streamed row by row (survey.tabular: every text cell neutralised)."""
    from . import tabular
    tabular.write_xlsx([(t.title, list(t.header), _counted(t.rows, progress),
                         t.widths or [_width(h) for h in t.header], t.percent_columns)
                        for t in tables], out)


def _counted(rows: Iterable[list], progress: Progress) -> Iterator[list]:
    done = 0
    for done, row in enumerate(rows, start=1):
        yield row
        if progress and done % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress and done % PROGRESS_EVERY:
        progress(done % PROGRESS_EVERY)


def _width(text: str) -> int:
    """Column width in characters: a Chinese character is about two Latin ones wide."""
    wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))
    return max(8, min(50, wide + 2))


def export_tables(db, survey: dict, questions: list[dict], fmt: str, *, values: bool = False
                  ) -> list[Table]:
    if fmt in ("csv", "xlsx"):
        return [raw_table(db, survey, questions, values=values)]
    if fmt in ("summary-csv", "summary-xlsx"):
        return summary_tables(survey_figures(db, survey))
    raise ExportError(f"不支持的导出格式：{fmt}")


def write_export(tables: list[Table], fmt: str, out, *, encoding: str = "utf-8-sig",
                 progress: Progress = None) -> None:
    """Write `tables` to the binary file object `out` as CSV or XLSX (by `fmt`)."""
    if fmt.endswith("xlsx"):
        write_xlsx(tables, out, progress)
        return
    for chunk in csv_chunks(tables, encoding, progress):
        out.write(chunk)


def export_filename(survey: dict, fmt: str) -> str:
    kind = "答卷" if fmt in ("csv", "xlsx") else "统计汇总"
    return f"问卷{survey['id']}-{kind}.{fmt.rsplit('-', 1)[-1]}"
