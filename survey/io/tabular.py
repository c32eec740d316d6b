"""Every spreadsheet and CSV the product writes goes through here: one cell-neutralising
function, and a streaming XLSX writer.

`neutralise` is the one rule against spreadsheet formula injection: a text cell that starts
with =, +, -, @, a tab or a carriage return gets a leading apostrophe, so Excel, WPS and
LibreOffice show it as the text it is instead of running it. Numbers stay numbers.

`write_xlsx` writes an XLSX workbook straight to a zip stream (inline strings, one small styles
part), row by row: memory does not grow with the rows, and a million rows take a fraction of
what openpyxl's write-only mode takes (it builds an object per cell and serialises it through
an XML library): measured 237 s -> see bench/export_memory.py.
"""
import zipfile
from collections.abc import Iterable
from fractions import Fraction
from xml.sax.saxutils import escape, quoteattr  # nosec B406 - escape() writes XML, nothing parses it

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # not in XML 1.0
_ILLEGAL_CHARS = frozenset(chr(c) for c in _ILLEGAL)
STYLE_BOLD, STYLE_PERCENT = 1, 2
MAX_SHEET_TITLE = 31


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_row(row: Iterable) -> list:
    return [("'" + v) if type(v) is str and v.startswith(FORMULA_PREFIXES) else v for v in row]


def neutralised_back(text: str) -> str:
    """What `neutralise` was given, from what it wrote: for reading our own files back (a
    paper-import template's drop-down puts the neutralised option label in the cell)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def xml_safe(value):
    """Control characters cannot be stored in XLSX (XML); answers never need them."""
    if isinstance(value, str) and not _ILLEGAL_CHARS.isdisjoint(value):
        return value.translate(_ILLEGAL)
    return value


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- the XLSX writer -----------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
               'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets>{sheets}</sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '{sheets}<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/styles" Target="styles.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles></styleSheet>')
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"
_BATCH = 256  # rows joined per write


def _sheet_titles(titles: list[str]) -> list[str]:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique (case-insensitive)."""
    seen, out = set(), []
    for n, title in enumerate(titles, start=1):
        clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in xml_safe(title or "")).strip()
        clean = (clean or f"Sheet{n}")[:MAX_SHEET_TITLE]
        candidate, k = clean, 2
        while candidate.lower() in seen:
            suffix = f" ({k})"
            candidate, k = clean[:MAX_SHEET_TITLE - len(suffix)] + suffix, k + 1
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def _text_cell(ref: str, text: str, style: str = "") -> str:
    text = xml_safe(text)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


_FRAGMENTS: dict = {}  # short text -> its escaped <is> element: labels repeat a million times
_FRAGMENTS_MAX = 4096


def _inline(text: str) -> str:
    found = _FRAGMENTS.get(text)
    if found is None:
        clean = xml_safe(text)
        space = ' xml:space="preserve"' if clean[:1].isspace() or clean[-1:].isspace() else ""
        found = f' t="inlineStr"><is><t{space}>{escape(clean)}</t></is></c>'
        if len(text) <= 16:  # labels, not times or suggestions: the memo stays small
            if len(_FRAGMENTS) >= _FRAGMENTS_MAX:
                _FRAGMENTS.clear()
            _FRAGMENTS[text] = found
    return found


def _row_xml(number: int, cells: list, letters: list[str], percent: frozenset) -> str:
    parts = [f'<row r="{number}">']
    for i, value in enumerate(cells):
        if value is None or value == "":
            continue
        if i >= len(letters):
            letters.extend(column_letter(j) for j in range(len(letters), i + 1))
        ref = f"{letters[i]}{number}"
        kind = type(value)
        if kind is Fraction:  # an exact rate (figures.exact_value): the spreadsheet rounds it once
            value, kind = float(value), float
        if kind is str:
            if value.startswith(FORMULA_PREFIXES):
                value = "'" + value
            parts.append(f'<c r="{ref}"{_inline(value)}')
        elif kind is bool:
            parts.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
        elif kind is int or kind is float:
            style = ' s="2"' if i in percent and kind is float else ""
            if value != value or value in (float("inf"), float("-inf")):  # NaN, ±inf: as text
                parts.append(_text_cell(ref, str(value)))
            else:
                parts.append(f'<c r="{ref}"{style}><v>{value!r}</v></c>')
        else:
            parts.append(_text_cell(ref, neutralise(str(value))))
    parts.append("</row>")
    return "".join(parts)


def write_xlsx(sheets: list[tuple[str, list, Iterable[list], list[int], frozenset]], out,
               on_row=None) -> None:
    """Write sheets (title, header, rows, column widths, percent columns) as an XLSX workbook
    to the binary file object `out`. Every text cell is neutralised here; the header is bold
    and frozen (text cells neutralised as they are written). `on_row()` is called after each
    data row (progress)."""
    titles = _sheet_titles([s[0] for s in sheets])
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for n, sheet in enumerate(sheets, start=1):
            _write_sheet(archive, n, sheet, on_row)
        count = len(sheets)
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, count + 1))))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(sheets="".join(
            f'<sheet name={quoteattr(t)} sheetId="{n}" r:id="rId{n}"/>'
            for n, t in enumerate(titles, start=1))))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(sheets="".join(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, count + 1))))
        archive.writestr("xl/styles.xml", _STYLES)


def _write_sheet(archive, n: int, sheet, on_row) -> None:
    _title, header, rows, widths, percent = sheet
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(widths, start=1))
    letters = [column_letter(i) for i in range(max(len(header), len(widths), 1))]
    with archive.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as stream:
        stream.write(_SHEET_HEAD.format(cols=f"<cols>{cols}</cols>" if cols else "").encode())
        head = ['<row r="1">'] + [_text_cell(f"{letters[i]}1", str(neutralise(h)), ' s="1"')
                                   for i, h in enumerate(header) if h not in (None, "")]
        stream.write(("".join(head) + "</row>").encode())
        batch, number = [], 1
        for row in rows:
            number += 1
            batch.append(_row_xml(number, row, letters, percent))
            if on_row:
                on_row()
            if len(batch) >= _BATCH:
                stream.write("".join(batch).encode())
                batch.clear()
        if batch:
            stream.write("".join(batch).encode())
        stream.write(_SHEET_TAIL.encode())
