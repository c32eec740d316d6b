"""Paper questionnaires from a CSV or XLSX file: the template to fill in, reading the file, and
validating every row before anything is stored.

The whole file is checked first; a single bad row means nothing is imported, and staff get
every problem at once, by row and column, in Chinese.
"""
import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass

from ..core.conditions import applicable_answers, applies, hints
from ..core.errors import DomainError
from ..core.questionnaire import TEXT_MAX, clean_text
from ..store.imports import PaperRow, import_rows

MAX_ROWS = 50_000
MAX_COLUMNS = 256  # a questionnaire has a few dozen questions; a cell beyond this is refused
XLSX_MAX_UNPACKED = 200 * 1024 * 1024  # a small file that unpacks to gigabytes is refused
XLSX_MAX_SHARED_STRINGS = 32 * 1024 * 1024  # read whole by openpyxl: kept small
MULTI_SEPARATORS = re.compile(r"[；;]")
_SPACES = re.compile(r"\s+")


class ImportFileError(DomainError):
    """The file as a whole cannot be read (empty, too large, wrong type or encoding)."""


@dataclass(frozen=True)
class ImportProblem:
    row: int | None  # spreadsheet row number (the header is row 1)
    column: str | None  # e.g. 'C 列“3. 您对……是否满意？”'
    message: str

    def __str__(self) -> str:
        where = "，".join(p for p in (f"第 {self.row} 行" if self.row else "", self.column) if p)
        return f"{where}：{self.message}" if where else self.message


class ImportValidationError(DomainError):
    def __init__(self, problems: list[ImportProblem]):
        super().__init__(f"文件中有 {len(problems)} 处问题，未导入任何答卷，请修改后重新上传")
        self.problems = problems


@dataclass(frozen=True)
class ImportPlan:
    sha256: str
    filename: str
    rows: tuple[PaperRow, ...]


def column_header(q: dict) -> str:
    return f"{q['position']}. {q['text']}"


def allowed_answers(q: dict) -> list[str]:
    """The answers a question accepts, as listed in the template and on the import page."""
    return [o["label"] for o in q["options"]]


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text or "").strip()


# --- the template ------------------------------------------------------------------------------

INSTRUCTIONS = (
    "每一行录入一份纸质问卷，第 1 行表头不要修改。",
    "单选题和量表题填写选项文字（如“非常满意”），也可填写选项分值（如 100）。",
    "多选题填写多个选项，用中文分号“；”隔开。",
    "必答题必须填写；意见建议可留空。",
    "带显示条件的题目（如“您不满意的原因”）只在条件满足时需要填写；条件不满足时，该列填写的内容不导入"
    "（与网上答卷一致：答卷人没有被问到这道题）。",
    "整份文件先全部检查，有任何一处问题都不会导入，并会列出所有问题所在的行和列。",
    "同一文件只能导入一次。",
)


def template_csv(questions: list[dict]) -> bytes:
    """The header row only, UTF-8 with BOM (the allowed answers are listed on the page)."""
    from .tabular import neutralise
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [neutralise(column_header(q)) for q in questions])
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(title: str, questions: list[dict]) -> bytes:
    """Entry sheet with drop-down lists, a sheet of allowed answers and the instructions. Every
    text cell through the one neutralising rule (survey.tabular): a drop-down then enters the
    neutralised label, which the import reads back as the option (see _labels)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = Workbook()
    entry, answers = wb.active, wb.create_sheet("可选答案")
    entry.title = "答卷录入"
    from .tabular import neutralise
    entry.append([neutralise(column_header(q)) for q in questions])
    answers.append([neutralise(column_header(q)) for q in questions])
    entry.freeze_panes = "A2"
    for i, q in enumerate(questions, start=1):
        letter = get_column_letter(i)
        entry.column_dimensions[letter].width = answers.column_dimensions[letter].width = 24
        entry.cell(1, i).font = Font(bold=True)
        for row, label in enumerate(allowed_answers(q), start=2):
            answers.cell(row, i, neutralise(label))
        if q["kind"] in ("scale", "single") and q["options"]:
            last = len(q["options"]) + 1
            check = DataValidation(type="list", allow_blank=True, showErrorMessage=True,
                                   errorStyle="warning",
                                   formula1=f"'可选答案'!${letter}$2:${letter}${last}",
                                   errorTitle="请核对选项",
                                   error="请从下拉列表中选择；填写分值可忽略本提示")
            check.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            entry.add_data_validation(check)
    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 90
    for line in (title, *INSTRUCTIONS):
        notes.append([neutralise(line)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading the file -------------------------------------------------------------------------

def read_rows(filename: str, data: bytes, max_bytes: int) -> list[list[str]]:
    """The file's rows as lists of strings (row 1 is the header)."""
    if len(data) > max_bytes:
        raise ImportFileError(f"文件过大（{len(data) / 1048576:.1f} MB），上限为 "
                              f"{max_bytes / 1048576:.0f} MB，请分成几个文件导入")
    if not data.strip():
        raise ImportFileError("文件是空的，请使用下载的模板填写后再上传")
    name = filename.lower()
    if name.endswith(".xls"):
        raise ImportFileError("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV")
    if name.endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    return _csv_rows(data)


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise ImportFileError("文件不是文本格式的 CSV，请使用下载的模板（CSV 或 Excel）")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别文件编码，请将 CSV 保存为 UTF-8 或 GB18030（GBK）编码")


def _csv_rows(data: bytes) -> list[list[str]]:
    """Rows as read, streamed: reading stops one row past the limit (MAX_ROWS and the header),
    which plan_import then refuses, so a file of millions of empty lines costs what 50,001
    rows cost."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    rows = []
    try:
        for row in reader:
            if len(row) > MAX_COLUMNS and any(cell.strip() for cell in row[MAX_COLUMNS:]):
                raise ImportFileError(_too_many_columns(reader.line_num))
            rows.append(row[:MAX_COLUMNS])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except csv.Error:  # an unclosed quote, or one cell longer than csv allows
        raise ImportFileError(f"CSV 格式错误，第 {reader.line_num} 行无法读取："
                              "请检查引号是否成对，或改用 Excel 模板") from None


def _too_many_columns(row: int) -> str:
    return (f"第 {row} 行超过 {MAX_COLUMNS} 列：文件的列数远多于问卷的题目数，"
            "请使用下载的模板，只保留各题对应的列")


def _xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet's rows, streamed from its XML. What the sheet declares about its size
    (<dimension ref="A1:XFD12000"/>) is ignored: openpyxl would pad every row to it, 196
    million empty cells for a 1.6 KB file. Rows are counted as they come and reading stops
    one past the limit; a non-empty cell beyond MAX_COLUMNS is refused."""
    from openpyxl import load_workbook
    from openpyxl.worksheet._reader import WorkSheetParser
    not_xlsx = ImportFileError("文件内容不是有效的 Excel（.xlsx）文件，请使用下载的模板")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if sum(i.file_size for i in parts) > XLSX_MAX_UNPACKED:
                raise ImportFileError("Excel 文件解压后过大，请分成几个文件导入")
            if any(i.filename.lower().endswith("sharedstrings.xml")
                   and i.file_size > XLSX_MAX_SHARED_STRINGS for i in parts):
                raise ImportFileError("Excel 文件中的文字内容过多，请分成几个文件导入")
        # Formulas are read as written, never evaluated: '=1+2' is the text staff typed.
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        ws = wb.worksheets[0]
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged or foreign file
        raise not_xlsx from None
    rows: list[list[str]] = []
    try:
        with ws._get_source() as source:
            parser = WorkSheetParser(source, ws._shared_strings, data_only=False,
                                     epoch=wb.epoch, date_formats=wb._date_formats,
                                     timedelta_formats=wb._timedelta_formats)
            for number, cells in parser.parse():
                if number > MAX_ROWS + 1:  # also a first row numbered 1,048,576
                    rows.extend([] for _ in range(MAX_ROWS + 2 - len(rows)))
                    break
                rows.extend([] for _ in range(number - 1 - len(rows)))  # rows left out
                row: list[str] = []
                for cell in cells:
                    column, value = cell["column"], cell["value"]
                    if value is None or value == "":
                        continue
                    if column > MAX_COLUMNS:
                        raise ImportFileError(_too_many_columns(number))
                    if column > len(row):
                        row.extend([""] * (column - len(row)))
                    row[column - 1] = _cell_text(value)
                rows.append(row)
        return rows
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - a damaged sheet part
        raise not_xlsx from None
    finally:
        wb.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- validating -------------------------------------------------------------------------------

def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(index + 1)


def _column_name(index: int, header: str) -> str:
    return f"{_letter(index)} 列“{header}”" if header else f"{_letter(index)} 列"


def _blank_columns(rows: list[list[str]], index: int) -> bool:
    return all(index >= len(r) or not r[index].strip() for r in rows[1:])


def match_columns(questions: list[dict], rows: list[list[str]]) -> dict[int, dict]:
    """column index -> question; every header problem at once."""
    by_name = {}
    for q in questions:
        by_name[_normal(column_header(q))] = q
        by_name.setdefault(_normal(q["text"]), q)
    header = [_normal(h) for h in rows[0]]
    width = max(len(r) for r in rows)
    columns, problems = {}, []
    for index in range(width):
        name = header[index] if index < len(header) else ""
        q = by_name.get(name)
        if q is None:
            if name or not _blank_columns(rows, index):
                problems.append(ImportProblem(1, _column_name(index, name),
                                              "不是本问卷的题目（多余或写错的列）" if name
                                              else "该列没有表头"))
        elif q in columns.values():
            problems.append(ImportProblem(1, _column_name(index, name), "与前面的列重复"))
        else:
            columns[index] = q
    for q in questions:
        if q not in columns.values():
            problems.append(ImportProblem(1, None, f"缺少列“{column_header(q)}”"))
    if problems:
        raise ImportValidationError(problems)
    return columns


def _option(q: dict, text: str) -> dict | None:
    found = _labels(q).get(text)
    if found is not None:
        return found
    try:
        number = float(text)
    except ValueError:
        return None
    return next((o for o in q["options"] if o["value"] is not None and o["value"] == number),
                None)


_LABELS: dict = {}


def _labels(q: dict) -> dict:
    """Normalised option label -> option (the first of equal ones, as a scan would find),
    also under the label as our own template writes it (neutralised, see survey.tabular)."""
    key = (id(q), tuple((o["id"], o["label"]) for o in q["options"]))
    found = _LABELS.get(key)
    if found is None:
        from .tabular import neutralise
        found = {}
        for o in q["options"]:
            found.setdefault(_normal(o["label"]), o)
        for o in q["options"]:
            found.setdefault(_normal(neutralise(o["label"])), o)
        if len(_LABELS) > 1000:
            _LABELS.clear()
        _LABELS[key] = found
    return found


def _choice_message(q: dict, text: str) -> str:
    values = [f"{o['value']:g}" for o in q["options"] if o["value"] is not None]
    hint = "、".join(allowed_answers(q)) + (f"，或分值 {'、'.join(values)}" if values else "")
    return f"“{text}”不是该题的选项（可填：{hint}）"


def parse_answer(q: dict, cell: str) -> tuple[object, list[str]]:
    """(answer or None, problems) for one cell. A conditional question's blank cell is judged
    with the whole row (see _settle_conditions)."""
    required = q["required"] and not q.get("show_if")
    if q["kind"] == "text":
        text = clean_text(cell)
        if len(text) > TEXT_MAX:
            return None, [f"意见建议最多 {TEXT_MAX} 字，本格有 {len(text)} 字"]
        return (text or None), ([] if text or not required else ["必答题未作答"])
    parts = [p for p in (_normal(p) for p in MULTI_SEPARATORS.split(cell)) if p]
    if not parts:
        return None, (["必答题未作答"] if required else [])
    if q["kind"] != "multiple" and len(parts) > 1:
        return None, ["该题为单选题，只能填一个选项"]
    chosen = [(_option(q, p), p) for p in parts]
    problems = [_choice_message(q, p) for o, p in chosen if o is None]
    ids = list(dict.fromkeys(o["id"] for o, _ in chosen if o is not None))
    return (None if problems else ids), problems


def _settle_conditions(questions: list[dict], answers: dict) -> tuple[dict, list[dict]]:
    """The row's answers without those to conditional questions that did not apply (on paper
    nobody can stop a citizen from answering one; the web form ignores such answers too, so
    a questionnaire counts the same however it arrived), and the required conditional
    questions that applied but were left blank."""
    if not any(q.get("show_if") for q in questions):
        return answers, []
    kept = applicable_answers(questions, answers)
    missing = [q for q in questions if q.get("show_if") and q["required"]
               and applies(q, kept) and not kept.get(q["id"])]
    return kept, missing


def parse_rows(questions: list[dict], rows: list[list[str]]) -> list[PaperRow]:
    columns = match_columns(questions, rows)
    header = rows[0]
    names = {index: _column_name(index, _normal(header[index])) for index in columns}
    parsed, problems = [], []
    columns_of = {q["id"]: index for index, q in columns.items()}
    condition_hints = hints(questions)
    # A column holds a handful of distinct answers ("非常满意"...): each is parsed once. The
    # parsed answers are shared between rows and must not be changed.
    seen: dict = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines left in a spreadsheet are not questionnaires
        answers = {}
        for index, q in columns.items():
            cell = row[index] if index < len(row) else ""
            key = (index, cell)
            result = seen.get(key)
            if result is None:
                result = parse_answer(q, cell)
                if len(seen) < 100_000:
                    seen[key] = result
            answer, found = result
            if found:
                problems.extend(ImportProblem(number, names[index], message) for message in found)
            if answer:
                answers[q["id"]] = answer
        answers, missing = _settle_conditions(questions, answers)
        problems.extend(ImportProblem(number, names[columns_of[q["id"]]],
                                      f"必答题未作答{condition_hints[q['id']]}")
                        for q in missing if q["id"] in columns_of)
        parsed.append(PaperRow(number, answers))
    if problems:
        raise ImportValidationError(problems)
    return parsed


def plan_import(questions: list[dict], filename: str, data: bytes, max_bytes: int
                ) -> ImportPlan:
    """Read and validate the whole file; raises ImportFileError or ImportValidationError."""
    rows = read_rows(filename, data, max_bytes)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ImportFileError("文件第 1 行应为表头（各题题目），请使用下载的模板")
    if len(rows) > MAX_ROWS + 1:
        raise ImportFileError(f"一次最多导入 {MAX_ROWS} 份问卷，请分成几个文件导入")
    paper_rows = parse_rows(questions, rows)
    if not paper_rows:
        raise ImportFileError("文件中只有表头，没有答卷数据")
    return ImportPlan(hashlib.sha256(data).hexdigest(), filename, tuple(paper_rows))


def import_file(db, survey: dict, questions: list[dict], filename: str, data: bytes, *,
                max_bytes: int, channel: str = "", user_id: int | None = None):
    """Validate the file, then store all of its rows in one transaction."""
    plan = plan_import(questions, filename, data, max_bytes)
    return import_rows(db, survey, questions, list(plan.rows), sha256=plan.sha256,
                       filename=plan.filename, channel=channel, user_id=user_id)
