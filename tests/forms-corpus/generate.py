#!/usr/bin/env python3
"""Writes the forms corpus: filled appendix workbooks as agencies send them, each with the
complete set of findings intake must report.

Usage:  pip install openpyxl xlwt odfpy XlsxWriter
        apt-get install libreoffice-calc-nogui          (soffice, for the LibreOffice cases)
        python3 tests/forms-corpus/generate.py          (writes beside this file)
        python3 tests/forms-corpus/generate.py --check  (regenerates in a temporary folder and
                                                         fails if anything differs)

Five writers, as the agencies' spreadsheets would: openpyxl (.xlsx), XlsxWriter (.xlsx), xlwt
(.xls, BIFF8), odfpy (.ods) and LibreOffice Calc (.xls and .ods, converted from openpyxl's).
Most workbooks reproduce the blank form's layout (src/core/forms/blank.rs, `Layout::of`: agency
line on row 1, the heading lines, the sheet title, the column headers on row 7, the column
numbers on row 8, the indicators from row 9, the hidden `_intake` sheet whose A1 holds
`intake-form:<id>@<version>`); an agency's own table (`build_own_table`) holds only the rows
it must fill, under the form's title and column headers. Sheets, columns, rows, labels, units
and who must fill which row are read from config/forms/*.toml and config/rosters/langson.toml,
never copied.

Beside each NAME.xlsx|xls|ods, NAME.expected.json lists the findings intake must report,
derived from the errors each case injects (by design, not from intake's output):

    {"agency": ..., "form": ... | null, "valid": bool, "recognised_by": "marker"|"content"|null,
     "case": "what the case is about",
     "findings": [{"rule": ..., "severity": ..., "sheet": ..., "cell": "G40" | null}, ...],
     "values": [{"sheet": ..., "indicator": ..., "column": ..., "cell": "D13"}, ...]}
                                                  (own tables: every value and its cell)

Output is deterministic: zip entry times and document dates are fixed.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import sys
import tempfile
import tomllib
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FORMS_DIR = ROOT / "config" / "forms"
ROSTER = ROOT / "config" / "rosters" / "langson.toml"

# The blank form's layout (src/core/forms/blank.rs): 0-based rows and columns.
HEADING_LINES = 3
MARKER_SHEET = "_intake"
MARKER_NAME = "intake_form"
NOTE_HEADER = "Ghi chú"
REQUIRED_NOTE = "bắt buộc"
LEGEND = 'Các dòng tô vàng, ghi "bắt buộc", là chỉ tiêu đơn vị phải báo cáo.'
FIXED_DATE = "2018-07-05T08:30:00Z"
ZIP_TIME = (2018, 7, 5, 8, 30, 0)


# --------------------------------------------------------------------------------------------
# Specs and roster
# --------------------------------------------------------------------------------------------

def load_forms() -> dict[str, dict]:
    forms = {}
    for path in sorted(FORMS_DIR.glob("*.toml")):
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        forms[spec["id"]] = spec
    return forms


def load_roster() -> dict[str, dict]:
    roster = tomllib.loads(ROSTER.read_text(encoding="utf-8"))
    return {a["code"]: a for a in roster["agency"]}


FORMS = load_forms()
AGENCIES = load_roster()

KIND_WORDS = {"districts": "district", "departments": "department", "office": "office"}


def must_fill(row: dict, agency: str) -> bool:
    """Who must fill a row (config/forms/README.md): absent = all, "optional" = nobody,
    otherwise agency kinds ("districts", "departments", "office") and agency codes."""
    if row.get("kind", "heading") == "heading":
        return False
    who = row.get("who", "all")
    items = [who] if isinstance(who, str) else list(who)
    if items == ["all"]:
        return True
    if items == ["optional"]:
        return False
    kind = AGENCIES[agency]["kind"]
    return any(KIND_WORDS.get(i) == kind or i == agency for i in items)


def sheet_of(form: dict, sheet_id: str) -> dict:
    return next(s for s in form["sheet"] if s["id"] == sheet_id)


def ref(form: dict, text: str) -> tuple[str, str]:
    """A rule's row reference "sheet!row" or "row" (first sheet)."""
    if "!" in text:
        s, r = text.split("!", 1)
        return s, r
    return form["sheet"][0]["id"], text


def rule_rows(form: dict, rule: dict) -> list[tuple[str, str]]:
    rows = []
    if rule["kind"] == "sum":
        rows += [ref(form, p) for p in rule["parts"]]
        if isinstance(rule["total"], str):
            rows.append(ref(form, rule["total"]))
    elif rule["kind"] == "equal":
        rows += [ref(form, rule["left"]), ref(form, rule["right"])]
    return rows


def rows_to_fill(form: dict, agency: str) -> set[tuple[str, str]]:
    """The rows an agency fills: those it must, plus every row of a sum or equality it takes
    part in (a district fills "Thu khác" so that its revenue adds up)."""
    fill = {(s["id"], r["id"]) for s in form["sheet"] for r in s["row"] if must_fill(r, agency)}
    for rule in form.get("rule", []):
        rows = rule_rows(form, rule)
        if any(r in fill for r in rows):
            fill.update(rows)
    return fill


def sum_rule_cell_row(form: dict, rule_id: str) -> tuple[str, str]:
    """The row a sum finding points at (src/core/forms/validate.rs, Check::Sum): the total's row
    when the total is a row, else the first part's row (a structure adding to 100)."""
    rule = next(r for r in form["rule"] if r["id"] == rule_id)
    if isinstance(rule["total"], str):
        return ref(form, rule["total"])
    return ref(form, rule["parts"][0])


def equal_rule_cell_row(form: dict, rule_id: str) -> tuple[str, str]:
    """An equality finding points at its left side."""
    rule = next(r for r in form["rule"] if r["id"] == rule_id)
    return ref(form, rule["left"])


# --------------------------------------------------------------------------------------------
# The data agencies report: one plausible value per row and column, as decimal text.
# Shares add up to 100, totals equal their parts, estimates stay within 30 % of plans.
# --------------------------------------------------------------------------------------------

PL1 = {  # th2016, th2017, kh2018, uth2018, mt2020
    "grdp-tang": ["7.43", "8.01", "8.5", "8.2", "8.0"],
    "grdp-tang-nlts": ["3.12", "3.5", "3.2", "3.3", "3.0"],
    "grdp-tang-cnxd": ["9.8", "10.2", "11.0", "10.5", "11.5"],
    "grdp-tang-dv": ["8.05", "8.6", "9.0", "8.9", "8.5"],
    "grdp-tang-thue": ["6.5", "7.1", "7.0", "7.2", "7.0"],
    "co-cau-nlts": ["22.5", "21.8", "21.0", "21.2", "20.0"],
    "co-cau-cnxd": ["19.1", "19.3", "19.8", "19.6", "21.0"],
    "co-cau-dv": ["49.0", "49.5", "49.7", "49.8", "50.0"],
    "co-cau-thue": ["9.4", "9.4", "9.5", "9.4", "9.0"],
    "grdp-dau-nguoi": ["33.5", "36.2", "39.5", "39.1", "48.0"],
    "grdp-dau-nguoi-usd": ["1480", "1590", "1720", "1705", "2100"],
    "luong-thuc": ["300.5", "305.2", "308.0", "306.4", "310.0"],
    "xuat-nhap-khau": ["3250.0", "4120.5", "4500.0", "4630.2", "5000.0"],
    "ban-le": ["15420.3", "17105.8", "19000.0", "18950.6", "25000.0"],
    "thu-ns": ["5326.1", "5560.8", "5730.0", "5901.1", "6640.0"],
    "thu-ns-noi-dia": ["1150.2", "1230.5", "1300.0", "1352.4", "1600.0"],
    "thu-ns-xnk": ["4150.6", "4300.1", "4400.0", "4520.3", "5000.0"],
    "thu-ns-khac": ["25.3", "30.2", "30.0", "28.4", "40.0"],
    "chi-ns": ["2050.3", "2180.6", "2300.0", "2350.2", "2800.0"],
    "von-dau-tu": ["5200.5", "6100.2", "6500.0", "6720.8", "9000.0"],
    "dn-moi": ["120", "145", "150", "160", "200"],
    "htx-moi": ["15", "22", "25", "28", "30"],
    "xa-ntm": ["12", "18", "24", "23", "40"],
    "duong-cung-hoa": ["85.2", "88.6", "92.0", "91.5", "100"],
    "truong-chuan": ["180", "205", "230", "228", "300"],
    "nha-van-hoa": ["80.5", "84.2", "88.0", "87.6", "95.0"],
    "bac-si": ["7.5", "7.9", "8.5", "8.3", "10.0"],
    "giuong-benh": ["28.2", "29.0", "30.0", "29.8", "32.0"],
    "bhyt": ["96.8", "97.5", "98.0", "97.9", "98.5"],
    "ld-dao-tao": ["45.2", "48.5", "51.0", "50.8", "60.0"],
    "viec-lam": ["9850", "10120", "10000", "10350", "11000"],
    "ho-ngheo": ["20.1", "17.9", "16.0", "15.8", "12.0"],
    "giam-ho-ngheo": ["2.8", "2.2", "2.0", "2.1", "2.5"],
    "co-cau-ld-nlts": ["68.5", "67.9", "66.5", "66.8", "60.0"],
    "co-cau-ld-cnxd": ["7.2", "7.5", "8.0", "7.8", "10.0"],
    "co-cau-ld-dv": ["24.3", "24.6", "25.5", "25.4", "30.0"],
    "trong-rung": ["10500.0", "11200.5", "11000.0", "11350.2", "12000.0"],
    "che-phu-rung": ["60.1", "61.4", "62.0", "62.1", "65.0"],
    "nuoc-nong-thon": ["90.5", "92.0", "93.0", "93.2", "95.0"],
    "nuoc-do-thi": ["95.1", "96.2", "97.0", "97.0", "99.0"],
    "rac-do-thi": ["88.0", "89.5", "90.0", "90.2", "95.0"],
    "rac-y-te": ["95.0", "97.0", "100", "100", "100"],
}

PL2 = {
    "tang-truong": ["7.43", "8.01", "8.5", "8.2", "8.0"],
    "ty-trong-nln": ["22.5", "21.8", "21.0", "21.2", "20.0"],
    "ty-trong-cnxd": ["19.1", "19.3", "19.8", "19.6", "21.0"],
    "ty-trong-dv": ["49.0", "49.5", "49.7", "49.8", "50.0"],
    "ty-trong-thue": ["9.4", "9.4", "9.5", "9.4", "9.0"],
    "grdp-dau-nguoi-usd": ["1480", "1590", "1720", "1705", "2100"],
    "von-dau-tu": ["5200.5", "6100.2", "6500.0", "6720.8", "9000.0"],
    "dn-moi": ["120", "145", "150", "160", "200"],
    "dn-hoat-dong": ["1450", "1580", "1700", "1720", "2200"],
    "htx-moi": ["15", "22", "25", "28", "30"],
    "htx-hoat-dong": ["180", "195", "215", "220", "260"],
    "viec-lam": ["9850", "10120", "10000", "10350", "11000"],
    "ld-dao-tao": ["45.2", "48.5", "51.0", "50.8", "60.0"],
    "nang-suat": ["6.5", "6.8", "7.0", "6.9", "7.5"],
}

PL3 = {  # uth2018, kh2019
    ("chi-tieu", "grdp-tang"): ["8.2", "8.5"],
    ("chi-tieu", "grdp-dau-nguoi"): ["39.1", "42.5"],
    ("chi-tieu", "luong-thuc"): ["306.4", "308.0"],
    ("chi-tieu", "xuat-nhap-khau"): ["4630.2", "5000.0"],
    ("chi-tieu", "ban-le"): ["18950.6", "21000.0"],
    ("chi-tieu", "thu-ns"): ["5901.1", "6300.0"],
    ("chi-tieu", "von-dau-tu"): ["6720.8", "7500.0"],
    ("chi-tieu", "xa-ntm"): ["23", "30"],
    ("chi-tieu", "viec-lam"): ["10350", "10500"],
    ("chi-tieu", "ho-ngheo"): ["15.8", "13.5"],
    ("chi-tieu", "bhyt"): ["97.9", "98.2"],
    ("chi-tieu", "che-phu-rung"): ["62.1", "62.5"],
    ("ngan-sach", "thu-ns"): ["5901.1", "6300.0"],
    ("ngan-sach", "thu-noi-dia"): ["1352.4", "1500.0"],
    ("ngan-sach", "thu-xnk"): ["4520.3", "4770.0"],
    ("ngan-sach", "thu-khac"): ["28.4", "30.0"],
    ("ngan-sach", "chi-ns"): ["2350.2", "2520.0"],
    ("ngan-sach", "chi-dtpt"): ["620.5", "700.0"],
    ("ngan-sach", "chi-thuong-xuyen"): ["1690.2", "1780.0"],
    ("ngan-sach", "chi-khac"): ["39.5", "40.0"],
}

DATA = {
    "742-2018-pl1": {("pl1", k): v for k, v in PL1.items()},
    "742-2018-pl2": {("pl2", k): v for k, v in PL2.items()},
    "742-2018-pl3": PL3,
}

# Ranges and bounds typed in the plan and target columns (columns with `ranges = true`),
# used by the cases written with Vietnamese text numbers.
RANGES = {
    "742-2018-pl1": {
        ("pl1", "grdp-tang", "kh2018"): "8 - 9",
        ("pl1", "grdp-tang", "mt2020"): "từ 8% trở lên",
        ("pl1", "grdp-tang-cnxd", "kh2018"): "10,5 - 11,5",
        ("pl1", "co-cau-cnxd", "mt2020"): "19 – 20%",
        ("pl1", "ho-ngheo", "mt2020"): "dưới 12%",
    },
    "742-2018-pl2": {
        ("pl2", "tang-truong", "kh2018"): "8 - 9",
        ("pl2", "tang-truong", "mt2020"): "từ 8% trở lên",
        ("pl2", "ty-trong-cnxd", "mt2020"): "19 – 20%",
        ("pl2", "ld-dao-tao", "mt2020"): "60 - 65%",
    },
    "742-2018-pl3": {
        ("chi-tieu", "grdp-tang", "kh2019"): "8 - 9",
        ("chi-tieu", "ho-ngheo", "kh2019"): "13 - 14%",
        ("chi-tieu", "che-phu-rung", "kh2019"): "62,5 – 63%",
        ("chi-tieu", "bhyt", "kh2019"): "từ 98% trở lên",
    },
}


def check_data() -> None:
    """The data obey the forms' rules, so that a clean case has no finding."""
    for form_id, form in FORMS.items():
        data = DATA[form_id]
        for s in form["sheet"]:
            for r in s["row"]:
                if r.get("kind", "heading") != "heading":
                    assert (s["id"], r["id"]) in data, f"{form_id}: no data for {r['id']}"
                    assert len(data[(s["id"], r["id"])]) == len(s["column"])
        for rule in form.get("rule", []):
            if rule["kind"] == "sum":
                cols = [c["id"] for c in sheet_of(form, rule_rows(form, rule)[0][0])["column"]]
                parts = [ref(form, p) for p in rule["parts"]]
                for ci, col in enumerate(cols):
                    if rule.get("columns") and col not in rule["columns"]:
                        continue
                    total = sum(Decimal(data[p][ci]) for p in parts)
                    want = (Decimal(str(rule["total"])) if not isinstance(rule["total"], str)
                            else Decimal(data[ref(form, rule["total"])][ci]))
                    assert total == want, f"{form_id} {rule['id']} {col}: {total} != {want}"
            elif rule["kind"] == "equal":
                assert data[ref(form, rule["left"])] == data[ref(form, rule["right"])]
            elif rule["kind"] == "deviation":
                sid = form["sheet"][0]["id"]
                cols = [c["id"] for c in sheet_of(form, sid)["column"]]
                vi, ri = cols.index(rule["value"]), cols.index(rule["reference"])
                for key, values in data.items():
                    v, ref_v = Decimal(values[vi]), Decimal(values[ri])
                    assert abs(v - ref_v) <= Decimal(str(rule["max_share"])) * ref_v, key


# --------------------------------------------------------------------------------------------
# Workbook model, written by three writers
# --------------------------------------------------------------------------------------------

@dataclass
class Cell:
    kind: str  # "n" number, "s" text, "f" formula (openpyxl only), "e" error value (openpyxl only)
    value: object


@dataclass
class Sheet:
    name: str
    hidden: bool = False
    cells: dict = field(default_factory=dict)  # (row, col) -> Cell, 0-based
    merges: list = field(default_factory=list)  # (r0, c0, r1, c1)
    font: str = "Times New Roman"

    def put(self, r: int, c: int, cell: Cell | None) -> None:
        if cell is not None:
            self.cells[(r, c)] = cell


@dataclass
class Book:
    sheets: list
    marker: str | None = None  # defined name intake_form (xlsx only; the sheet carries it too)


def num(x) -> Cell:
    return Cell("n", x)


def txt(s: str) -> Cell:
    return Cell("s", s)


def a1(r: int, c: int) -> str:
    letters = ""
    n = c + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return f"{letters}{r + 1}"


def normalise_zip(data: bytes, replace: dict[str, tuple[str, str]] | None = None) -> bytes:
    """Rewrites a zip package with fixed entry times (and document dates), entries in order,
    compression kept, so that the output does not depend on the clock."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if replace and info.filename in replace:
                pattern, repl = replace[info.filename]
                body = re.sub(pattern.encode(), repl.encode(), body)
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            zi.compress_type = info.compress_type
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            dst.writestr(zi, body)
    return out.getvalue()


def write_xlsx(book: Book, path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for s in book.sheets:
        ws = wb.create_sheet(s.name)
        font = Font(name=s.font, size=12)
        for (r, c), cell in sorted(s.cells.items()):
            target = ws.cell(row=r + 1, column=c + 1)
            if cell.kind == "e":
                target.value = cell.value
                target.data_type = "e"
            else:
                target.value = cell.value  # "=..." is a formula, written without a value
            target.font = font
            if cell.kind == "s":
                target.alignment = Alignment(wrap_text=True, vertical="center")
        for r0, c0, r1, c1 in s.merges:
            ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
        ws.column_dimensions["B"].width = 55
        if s.hidden:
            ws.sheet_state = "hidden"
    if book.marker:
        wb.defined_names[MARKER_NAME] = DefinedName(MARKER_NAME, attr_text=f'"{book.marker}"')
    wb.properties.creator = "openpyxl"
    buf = io.BytesIO()
    wb.save(buf)
    date = r"<dcterms:(created|modified) ([^>]*)>[^<]*</dcterms:(created|modified)>"
    data = normalise_zip(
        buf.getvalue(),
        {"docProps/core.xml": (date, rf"<dcterms:\1 \2>{FIXED_DATE}</dcterms:\3>")},
    )
    path.write_bytes(data)


def write_xls(book: Book, path: Path) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    styles = {}

    def style(font_name: str):
        if font_name not in styles:
            st = xlwt.XFStyle()
            f = xlwt.Font()
            f.name = font_name
            f.height = 12 * 20
            st.font = f
            styles[font_name] = st
        return styles[font_name]

    for s in book.sheets:
        ws = wb.add_sheet(s.name, cell_overwrite_ok=False)
        st = style(s.font)
        merged_inner = set()
        for r0, c0, r1, c1 in s.merges:
            cell = s.cells.get((r0, c0))
            label = "" if cell is None else cell.value
            ws.write_merge(r0, r1, c0, c1, label, st)
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    merged_inner.add((r, c))
        for (r, c), cell in sorted(s.cells.items()):
            if (r, c) in merged_inner:
                continue
            assert cell.kind in ("n", "s"), "xlwt writes numbers and text only here"
            ws.write(r, c, cell.value, st)
        ws.col(1).width = 256 * 55
        if s.hidden:
            ws.visibility = 1
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def write_ods(book: Book, path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    hidden = Style(name="taHidden", family="table")
    hidden.addElement(TableProperties(display="false"))
    shown = Style(name="taShown", family="table")
    shown.addElement(TableProperties(display="true"))
    doc.automaticstyles.addElement(hidden)
    doc.automaticstyles.addElement(shown)
    for s in book.sheets:
        table = Table(name=s.name, stylename=hidden if s.hidden else shown)
        nrows = max((r for r, _ in s.cells), default=0) + 1
        ncols = max((c for _, c in s.cells), default=0) + 1
        for r0, c0, r1, c1 in s.merges:
            nrows, ncols = max(nrows, r1 + 1), max(ncols, c1 + 1)
        starts = {(m[0], m[1]): m for m in s.merges}
        covered = {(r, c) for r0, c0, r1, c1 in s.merges
                   for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - set(starts)
        for r in range(nrows):
            tr = TableRow()
            for c in range(ncols):
                if (r, c) in covered:
                    tr.addElement(CoveredTableCell())
                    continue
                cell = s.cells.get((r, c))
                attrs = {}
                if (r, c) in starts:
                    r0, c0, r1, c1 = starts[(r, c)]
                    attrs = {"numberrowsspanned": r1 - r0 + 1, "numbercolumnsspanned": c1 - c0 + 1}
                if cell is None:
                    tc = TableCell(**attrs)
                elif cell.kind == "n":
                    tc = TableCell(valuetype="float", value=repr(float(cell.value)), **attrs)
                    tc.addElement(P(text=repr(cell.value)))
                else:
                    assert cell.kind == "s", "odfpy writes numbers and text only here"
                    tc = TableCell(valuetype="string", **attrs)
                    tc.addElement(P(text=cell.value))
                tr.addElement(tc)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    path.write_bytes(normalise_zip(buf.getvalue()))


def write_xlsxwriter(book: Book, path: Path) -> None:
    """XlsxWriter, another xlsx writer (shared strings, its own styles), as an agency's own
    script or export would write."""
    import datetime

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": datetime.datetime(2018, 7, 5, 8, 30, 0), "author": "XlsxWriter"})
    formats = {}
    for s in book.sheets:
        ws = wb.add_worksheet(s.name)
        if s.font not in formats:
            formats[s.font] = wb.add_format({"font_name": s.font, "font_size": 12,
                                             "text_wrap": True, "valign": "vcenter"})
        fmt = formats[s.font]
        starts = {(m[0], m[1]): m for m in s.merges}
        inner = {(r, c) for r0, c0, r1, c1 in s.merges
                 for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        for (r0, c0), (_, _, r1, c1) in sorted(starts.items()):
            cell = s.cells.get((r0, c0))
            ws.merge_range(r0, c0, r1, c1, "" if cell is None else cell.value, fmt)
        for (r, c), cell in sorted(s.cells.items()):
            if (r, c) in inner:
                continue
            assert cell.kind in ("n", "s"), "XlsxWriter writes numbers and text only here"
            if cell.kind == "n":
                ws.write_number(r, c, cell.value, fmt)
            else:
                ws.write_string(r, c, cell.value, fmt)
        ws.set_column(1, 1, 55)
        if s.hidden:
            ws.hide()
    wb.close()
    path.write_bytes(normalise_zip(buf.getvalue()))


def libreoffice(fmt: str):
    """A workbook opened in LibreOffice Calc and saved as `fmt` ("xls": Excel 97-2003, "ods"):
    written by openpyxl, converted by `soffice --headless --convert-to`. The .xls comes out
    the same every time from the same input; the .ods's zip entries get fixed times (its
    document dates are openpyxl's, already fixed)."""
    def write(book: Book, path: Path) -> None:
        import subprocess

        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if soffice is None:
            sys.exit("LibreOffice (soffice) is needed for the converted cases: "
                     "apt-get install libreoffice-calc-nogui")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            source = tmp / (path.stem + ".xlsx")
            write_xlsx(book, source)
            out = tmp / "out"
            subprocess.run(
                [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                 "--norestore", "--convert-to", fmt, "--outdir", str(out), str(source)],
                check=True, capture_output=True, timeout=300)
            data = (out / f"{path.stem}.{fmt}").read_bytes()
        path.write_bytes(normalise_zip(data) if fmt == "ods" else data)
    return write


# writer -> (file extension, function)
WRITERS = {
    "xlsx": ("xlsx", write_xlsx),
    "xls": ("xls", write_xls),
    "ods": ("ods", write_ods),
    "xlsxwriter": ("xlsx", write_xlsxwriter),
    "lo-xls": ("xls", libreoffice("xls")),
    "lo-ods": ("ods", libreoffice("ods")),
}


# --------------------------------------------------------------------------------------------
# Legacy fonts: Unicode -> TCVN3 (TCVN 5712:1993 VN3), the inverse of src/core/forms/legacy.rs's
# table (checked against glibc's TCVN5712-1 charmap, whose upper half agrees with VN3).
# Capitals with tones have no VN3 code: the ".VnTimeH" fonts drew them at the lower-case code.
# --------------------------------------------------------------------------------------------

TCVN3_BYTES = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}
TO_TCVN3 = {letter: chr(b) for b, letter in TCVN3_BYTES.items()}
assert len(TO_TCVN3) == 74


def to_tcvn3(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in TO_TCVN3:
            out.append(TO_TCVN3[ch])
        elif ch.lower() in TO_TCVN3:
            out.append(TO_TCVN3[ch.lower()])
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Vietnamese number writing
# --------------------------------------------------------------------------------------------

def vn_number(text: str, group: str = ".", percent: bool = False) -> str:
    """ "5901.1" -> "5.901,1" (or "5 901,1"); integers of 4+ digits group with a space, since
    a lone "10.350" is ambiguous (1,035 or 10,350) and intake rightly warns about it."""
    d = Decimal(text)
    sign = "-" if d < 0 else ""
    whole, _, frac = text.lstrip("-").partition(".")
    if not frac and len(whole) > 3:
        group = " "
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    s = sign + group.join(groups) + ("," + frac if frac else "")
    return s + "%" if percent else s


# --------------------------------------------------------------------------------------------
# Building a filled form
# --------------------------------------------------------------------------------------------

@dataclass
class Layout:
    """Where things are in the built workbook, for the expected findings."""
    sheet_names: dict = field(default_factory=dict)  # sheet id -> workbook sheet name
    cells: dict = field(default_factory=dict)  # (sheet id, row id, col id) -> "G40"
    # Every value the agency wrote and where, when the case checks how rows were mapped:
    # [{"sheet": sheet id, "indicator": row id, "column": col id, "cell": "G40"}]
    values: list | None = None


def build_form(
    form_id: str,
    agency: str,
    *,
    mode: str = "numeric",  # numeric | text
    values: dict | None = None,  # (sheet, row, col) -> Cell | None (None leaves it blank)
    na_rows: dict | None = None,  # (sheet, row) -> "x" / "-" / "–", rows the agency need not fill
    fill_rows: set | None = None,  # rows filled; default rows_to_fill()
    marker_version: int | None = -1,  # -1: the spec's version; None: no marker at all
    shift: int = 0,  # blank rows inserted above the table
    order: dict | None = None,  # sheet id -> list of row ids in the order written
    legacy: bool = False,  # every text typed in TCVN3 (".VnTime")
    drop_columns: tuple = (),  # (sheet id, col id) deleted by the agency
    drop_rows: tuple = (),  # (sheet id, row id) deleted by the agency
    drop_sheets: tuple = (),  # sheet ids deleted
    sheet_names: dict | None = None,  # sheet id -> name the agency gave it
    two_row_header: bool = False,
) -> tuple[Book, Layout]:
    form = FORMS[form_id]
    data = DATA[form_id]
    values = values or {}
    na_rows = na_rows or {}
    fill = rows_to_fill(form, agency) if fill_rows is None else fill_rows
    enc = to_tcvn3 if legacy else (lambda s: s)
    layout = Layout()
    sheets = []
    agency_name = AGENCIES[agency]["name"]
    for spec_sheet in form["sheet"]:
        sid = spec_sheet["id"]
        if sid in drop_sheets:
            continue
        name = (sheet_names or {}).get(sid, spec_sheet["name"])
        layout.sheet_names[sid] = name
        sh = Sheet(name=name, font=".VnTime" if legacy else "Times New Roman")
        columns = [c for c in spec_sheet["column"] if (sid, c["id"]) not in drop_columns]
        col_index = {c["id"]: i for i, c in enumerate(spec_sheet["column"])}
        heading = form["heading"]
        heading_lines = max(len(heading), HEADING_LINES)
        title_row = 1 + heading_lines
        header_row = title_row + 2 + shift
        header_rows = 2 if two_row_header else 1
        numbers_row = header_row + header_rows
        first_row = numbers_row + 1
        first_value_col = 3
        note_col = first_value_col + len(columns)
        sh.put(0, 0, txt(enc(f"ĐƠN VỊ: {agency_name.upper()}")))
        for i, line in enumerate(heading):
            sh.put(1 + i, 0, txt(enc(line)))
            sh.merges.append((1 + i, 0, 1 + i, note_col))
        if spec_sheet.get("title"):
            sh.put(title_row, 0, txt(enc(spec_sheet["title"])))
            sh.merges.append((title_row, 0, title_row, note_col))
        fixed = [spec_sheet.get("code_header", "STT"), spec_sheet.get("label_header", "Chỉ tiêu"),
                 spec_sheet.get("unit_header", "Đơn vị tính")]
        headers = fixed + [c["label"] for c in columns] + [NOTE_HEADER]
        years = {}
        for c, h in enumerate(headers):
            if two_row_header and first_value_col <= c < note_col:
                # "Năm 2018" above "KH" and "ƯTH": the year on the upper row, merged across
                # the columns of that year, the kind of figure below.
                words = h.split()
                year = next(w for w in words if w.isdigit())
                years.setdefault(year, []).append(c)
                sh.put(header_row + 1, c, txt(enc(" ".join(w for w in words if w != year))))
            else:
                sh.put(header_row, c, txt(enc(h)))
                if two_row_header:
                    sh.merges.append((header_row, c, header_row + 1, c))
            sh.put(numbers_row, c, txt(f"({c + 1})"))
        for year, cols in years.items():
            assert cols == list(range(cols[0], cols[-1] + 1))
            sh.put(header_row, cols[0], txt(enc(f"Năm {year}")))
            if len(cols) > 1:
                sh.merges.append((header_row, cols[0], header_row, cols[-1]))
        rows = [r for r in spec_sheet["row"] if (sid, r["id"]) not in drop_rows]
        if order and sid in order:
            by_id = {r["id"]: r for r in rows}
            rows = [by_id[i] for i in order[sid] if i in by_id]
            assert len(rows) == len([r for r in spec_sheet["row"] if (sid, r["id"]) not in drop_rows])
        for i, row in enumerate(rows):
            r = first_row + i
            rid = row["id"]
            sh.put(r, 0, txt(row["code"]))
            sh.put(r, 1, txt(enc(row["label"])))
            sh.put(r, 2, txt(enc(row.get("unit", ""))))
            required = must_fill(row, agency)
            if required:
                sh.put(r, note_col, txt(enc(REQUIRED_NOTE)))
            if row.get("kind", "heading") == "heading":
                continue
            for j, col in enumerate(columns):
                cid = col["id"]
                c = first_value_col + j
                layout.cells[(sid, rid, cid)] = a1(r, c)
                key = (sid, rid, cid)
                if key in values:
                    sh.put(r, c, values[key])
                elif (sid, rid) in na_rows:
                    sh.put(r, c, txt(na_rows[(sid, rid)]))
                elif (sid, rid) in fill:
                    raw = data[(sid, rid)][col_index[cid]]
                    sh.put(r, c, cell_for(form_id, row, col, raw, mode, key))
        if marker_version is not None:
            sh.put(first_row + len(rows) + 1, 1, txt(enc(LEGEND)))
        sheets.append(sh)
    marker = None
    if marker_version is not None:
        version = form["version"] if marker_version == -1 else marker_version
        marker = f"intake-form:{form_id}@{version}"
        m = Sheet(name=MARKER_SHEET, hidden=True)
        m.put(0, 0, txt(marker))
        m.put(1, 0, txt("Trang đánh dấu biểu mẫu của hệ thống tiếp nhận: xin đừng xóa hay sửa."))
        sheets.append(m)
    return Book(sheets=sheets, marker=marker), layout


def cell_for(form_id: str, row: dict, col: dict, raw: str, mode: str, key) -> Cell:
    kind = row["kind"]
    if mode == "numeric":
        if kind == "count":
            return num(int(raw))
        return num(float(raw))
    if col.get("ranges") and key in RANGES[form_id]:
        return txt(RANGES[form_id][key])
    # Text numbers, written the Vietnamese way, in a few styles.
    if kind == "percent":
        return txt(vn_number(raw, percent=(len(row["id"]) % 2 == 0)))
    group = "." if len(row["id"]) % 2 == 0 else " "
    return txt(vn_number(raw, group=group))


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

DISTRICT = "ubnd-cao-loc"

CASES = []


def case(name: str, writer: str, form_id: str | None, agency: str, about: str):
    def register(fn):
        CASES.append((name, writer, form_id, agency, about, fn))
        return fn
    return register


def at(layout: Layout, sheet: str, row: str, col: str) -> dict:
    return {"sheet": layout.sheet_names[sheet], "cell": layout.cells[(sheet, row, col)]}


def finding(rule: str, severity: str, where: dict) -> dict:
    return {"rule": rule, "severity": severity, **where}


def sum_finding(form_id: str, rule_id: str, severity: str, layout: Layout, col: str) -> dict:
    sheet, row = sum_rule_cell_row(FORMS[form_id], rule_id)
    return finding(rule_id, severity, at(layout, sheet, row, col))


# ---- clean ----------------------------------------------------------------------------------

@case("pl1-district-clean-numeric", "xlsx", "742-2018-pl1", DISTRICT,
      "District, every row it must fill (and the parts of its sums) as numeric cells.")
def _(name, agency):
    return build_form("742-2018-pl1", agency), []


@case("pl2-department-clean-numeric", "xls", "742-2018-pl2", "cuc-thong-ke",
      "Department (Cục Thống kê), numeric cells.")
def _(name, agency):
    return build_form("742-2018-pl2", agency), []


@case("pl3-department-clean-numeric", "ods", "742-2018-pl3", "so-tai-chinh",
      "Department (Sở Tài chính), both sheets, numeric cells; the two revenue totals agree.")
def _(name, agency):
    return build_form("742-2018-pl3", agency), []


@case("pl1-department-clean-text", "ods", "742-2018-pl1", "cuc-thong-ke",
      "Vietnamese text numbers (\"5.326,1\", \"7,43%\", \"1 480\") and ranges in the plan and "
      "target columns (\"8 - 9\", \"19 – 20%\", \"từ 8% trở lên\").")
def _(name, agency):
    return build_form("742-2018-pl1", agency, mode="text"), []


@case("pl2-district-clean-text", "xlsx", "742-2018-pl2", DISTRICT,
      "District, Vietnamese text numbers and ranges in plan/target columns.")
def _(name, agency):
    return build_form("742-2018-pl2", agency, mode="text"), []


@case("pl3-district-clean-text", "xls", "742-2018-pl3", DISTRICT,
      "District, Vietnamese text numbers (\"12 345,6\" style), ranges in KH 2019.")
def _(name, agency):
    return build_form("742-2018-pl3", agency, mode="text"), []


@case("pl1-few-rows-clean-na", "xls", "742-2018-pl1", "so-y-te",
      "Sở Y tế fills its four rows; \"x\", \"-\" and \"–\" in rows it need not fill.")
def _(name, agency):
    na = {("pl1", "grdp-tang"): "x", ("pl1", "luong-thuc"): "-", ("pl1", "thu-ns"): "x",
          ("pl1", "thu-ns-noi-dia"): "X", ("pl1", "nuoc-do-thi"): "–", ("pl1", "ho-ngheo"): "-"}
    return build_form("742-2018-pl1", agency, na_rows=na), []


@case("pl2-few-rows-clean-na", "ods", "742-2018-pl2", "so-ld-tbxh",
      "Sở LĐ-TB&XH fills its three rows; \"x\" and \"-\" elsewhere.")
def _(name, agency):
    na = {("pl2", "tang-truong"): "x", ("pl2", "ty-trong-nln"): "-", ("pl2", "ty-trong-dv"): "-",
          ("pl2", "dn-moi"): "x"}
    return build_form("742-2018-pl2", agency, na_rows=na), []


@case("pl3-few-rows-clean-na", "xlsx", "742-2018-pl3", "bhxh",
      "BHXH fills one row (health insurance coverage); \"x\" and \"-\" in others, on both sheets.")
def _(name, agency):
    na = {("chi-tieu", "grdp-tang"): "x", ("chi-tieu", "thu-ns"): "-",
          ("ngan-sach", "thu-ns"): "-", ("ngan-sach", "chi-khac"): "x"}
    return build_form("742-2018-pl3", agency, na_rows=na), []


# ---- one rule broken at a known cell --------------------------------------------------------

@case("pl1-district-required-blank", "xlsx", "742-2018-pl1", DISTRICT,
      "GRDP per head, ƯTH 2018, left blank: bat-buoc.")
def _(name, agency):
    key = ("pl1", "grdp-dau-nguoi", "uth2018")
    book, lay = build_form("742-2018-pl1", agency, values={key: None})
    return (book, lay), [finding("bat-buoc", "error", at(lay, *key))]


@case("pl2-department-text-in-number", "xls", "742-2018-pl2", "cuc-thong-ke",
      "\"chưa có số liệu\" in a number cell: kieu-so.")
def _(name, agency):
    key = ("pl2", "grdp-dau-nguoi-usd", "th2016")
    book, lay = build_form("742-2018-pl2", agency, values={key: txt("chưa có số liệu")})
    return (book, lay), [finding("kieu-so", "error", at(lay, *key))]


@case("pl3-district-ambiguous-separator", "ods", "742-2018-pl3", DISTRICT,
      "Text \"1.644\" (1644 or 1.644?): a dau-phan-cach warning, not a guess.")
def _(name, agency):
    key = ("chi-tieu", "luong-thuc", "uth2018")
    book, lay = build_form("742-2018-pl3", agency, values={key: txt("1.644")})
    return (book, lay), [finding("dau-phan-cach", "warning", at(lay, *key))]


@case("pl1-district-range-in-actual", "xls", "742-2018-pl1", DISTRICT,
      "A range \"8 - 9\" in TH 2017, an actual column: khoang-gia-tri.")
def _(name, agency):
    key = ("pl1", "grdp-tang", "th2017")
    book, lay = build_form("742-2018-pl1", agency, values={key: txt("8 - 9")})
    return (book, lay), [finding("khoang-gia-tri", "error", at(lay, *key))]


@case("pl1-few-rows-percent-105", "xlsx", "742-2018-pl1", "so-y-te",
      "Health insurance coverage 105 % in ƯTH 2018: ty-le-0-100.")
def _(name, agency):
    key = ("pl1", "bhyt", "uth2018")
    book, lay = build_form("742-2018-pl1", agency, values={key: num(105.0)})
    return (book, lay), [finding("ty-le-0-100", "error", at(lay, *key))]


@case("pl2-district-growth-180", "ods", "742-2018-pl2", DISTRICT,
      "GRDP growth 180 % in TH 2016: tang-truong-bat-thuong (warning).")
def _(name, agency):
    key = ("pl2", "tang-truong", "th2016")
    book, lay = build_form("742-2018-pl2", agency, values={key: num(180.0)})
    return (book, lay), [finding("tang-truong-bat-thuong", "warning", at(lay, *key))]


@case("pl3-department-negative-amount", "xlsx", "742-2018-pl3", "so-tai-chinh",
      "Total social investment -150 (tỷ đồng): so-am.")
def _(name, agency):
    key = ("chi-tieu", "von-dau-tu", "uth2018")
    book, lay = build_form("742-2018-pl3", agency, values={key: num(-150.0)})
    return (book, lay), [finding("so-am", "error", at(lay, *key))]


@case("pl1-district-count-decimal", "ods", "742-2018-pl1", DISTRICT,
      "New enterprises \"12,5\": so-nguyen (warning).")
def _(name, agency):
    key = ("pl1", "dn-moi", "th2016")
    book, lay = build_form("742-2018-pl1", agency, values={key: txt("12,5")})
    return (book, lay), [finding("so-nguyen", "warning", at(lay, *key))]


@case("pl1-department-structure-error", "xls", "742-2018-pl1", "cuc-thong-ke",
      "Economic structure 21.61 + 19.5 + 49.42 + 7.00 = 97.53 in TH 2017: co-cau-kinh-te-100 "
      "at the first share's cell.")
def _(name, agency):
    col = "th2017"
    shares = {"co-cau-nlts": 21.61, "co-cau-cnxd": 19.5, "co-cau-dv": 49.42, "co-cau-thue": 7.00}
    values = {("pl1", k, col): num(v) for k, v in shares.items()}
    book, lay = build_form("742-2018-pl1", agency, values=values)
    return (book, lay), [sum_finding("742-2018-pl1", "co-cau-kinh-te-100", "error", lay, col)]


@case("pl1-district-total-not-parts", "xlsx", "742-2018-pl1", DISTRICT,
      "Budget revenue 5.362,1 while its parts add to 5.326,1 (TH 2016): thu-ns-tong at the total.")
def _(name, agency):
    col = "th2016"
    book, lay = build_form("742-2018-pl1", agency, values={("pl1", "thu-ns", col): num(5362.1)})
    return (book, lay), [sum_finding("742-2018-pl1", "thu-ns-tong", "error", lay, col)]


@case("pl3-district-spending-total", "xls", "742-2018-pl3", DISTRICT,
      "Local spending KH 2019 2.600 while its parts add to 2.520: chi-ns-tong at the total, "
      "on the second sheet.")
def _(name, agency):
    col = "kh2019"
    book, lay = build_form("742-2018-pl3", agency, values={("ngan-sach", "chi-ns", col): num(2600.0)})
    return (book, lay), [sum_finding("742-2018-pl3", "chi-ns-tong", "error", lay, col)]


@case("pl2-district-estimate-off-plan", "xlsx", "742-2018-pl2", DISTRICT,
      "Investment estimate 2.600 against a plan of 6.500 (60 % below): uoc-th-so-voi-kh (warning).")
def _(name, agency):
    key = ("pl2", "von-dau-tu", "uth2018")
    book, lay = build_form("742-2018-pl2", agency, values={key: num(2600.0)})
    return (book, lay), [finding("uoc-th-so-voi-kh", "warning", at(lay, *key))]


@case("pl3-department-cross-sheet", "ods", "742-2018-pl3", "so-tai-chinh",
      "Revenue 5.910,1 on the indicators sheet, 5.901,1 on the budget sheet: thu-ns-hai-bieu "
      "at the indicators sheet's cell.")
def _(name, agency):
    col = "uth2018"
    book, lay = build_form("742-2018-pl3", agency, values={("chi-tieu", "thu-ns", col): num(5910.1)})
    sheet, row = equal_rule_cell_row(FORMS["742-2018-pl3"], "thu-ns-hai-bieu")
    return (book, lay), [finding("thu-ns-hai-bieu", "error", at(lay, sheet, row, col))]


@case("pl1-district-float-noise", "xls", "742-2018-pl1", DISTRICT,
      "Floating-point noise: a share 7.0000000000000009 (the shares add to 100), a rate "
      "100.00000000000001, a count 12.000000000000002: no finding.")
def _(name, agency):
    col = "th2016"
    values = {
        ("pl1", "co-cau-nlts", col): num(23.5),
        ("pl1", "co-cau-cnxd", col): num(20.0),
        ("pl1", "co-cau-dv", col): num(49.5),
        ("pl1", "co-cau-thue", col): num(7.0000000000000009),
        ("pl1", "nha-van-hoa", "uth2018"): num(100.00000000000001),
        ("pl1", "dn-moi", "th2017"): num(12.000000000000002),
    }
    assert values[("pl1", "co-cau-thue", col)].value != 7.0
    assert values[("pl1", "nha-van-hoa", "uth2018")].value > 100.0
    assert values[("pl1", "dn-moi", "th2017")].value != 12
    return build_form("742-2018-pl1", agency, values=values), []


@case("pl2-department-dispatch-9999", "ods", "742-2018-pl2", "cuc-thong-ke",
      "The dispatch's own structure 21.61 + 19.5 + 49.42 + 9.46 = 99.99: within tolerance, "
      "no finding.")
def _(name, agency):
    col = "th2017"
    shares = {"ty-trong-nln": 21.61, "ty-trong-cnxd": 19.5, "ty-trong-dv": 49.42,
              "ty-trong-thue": 9.46}
    values = {("pl2", k, col): num(v) for k, v in shares.items()}
    return build_form("742-2018-pl2", agency, values=values), []


@case("pl1-department-labour-10049", "ods", "742-2018-pl1", "so-ld-tbxh",
      "The dispatch's labour structure 67.93 + 7.72 + 24.84 = 100.49 in ƯTH 2018: "
      "co-cau-lao-dong-100 (warning) at the first share's cell.")
def _(name, agency):
    col = "uth2018"
    shares = {"co-cau-ld-nlts": 67.93, "co-cau-ld-cnxd": 7.72, "co-cau-ld-dv": 24.84}
    values = {("pl1", k, col): num(v) for k, v in shares.items()}
    book, lay = build_form("742-2018-pl1", agency, values=values)
    return (book, lay), [sum_finding("742-2018-pl1", "co-cau-lao-dong-100", "warning", lay, col)]


@case("pl1-district-formula-no-value", "xlsx", "742-2018-pl1", DISTRICT,
      "A formula written without its value (openpyxl computes nothing): cong-thuc-chua-tinh.")
def _(name, agency):
    col = "uth2018"
    _, probe = build_form("742-2018-pl1", agency)
    parts = [probe.cells[("pl1", r, col)] for r in ("thu-ns-noi-dia", "thu-ns-xnk", "thu-ns-khac")]
    key = ("pl1", "thu-ns", col)
    book, lay = build_form("742-2018-pl1", agency, values={key: Cell("f", "=" + "+".join(parts))})
    return (book, lay), [finding("cong-thuc-chua-tinh", "error", at(lay, *key))]


@case("pl1-district-error-value", "xlsx", "742-2018-pl1", DISTRICT,
      "An error value #DIV/0! in a rate cell: loi-cong-thuc.")
def _(name, agency):
    key = ("pl1", "duong-cung-hoa", "th2017")
    book, lay = build_form("742-2018-pl1", agency, values={key: Cell("e", "#DIV/0!")})
    return (book, lay), [finding("loi-cong-thuc", "error", at(lay, *key))]


# ---- layout and recognition -----------------------------------------------------------------

def shifted_order(form_id: str) -> dict:
    """The agency's own copy: section III (environment) moved before section II, and two
    economic rows swapped."""
    rows = [r["id"] for r in FORMS[form_id]["sheet"][0]["row"]]
    i2, i3 = rows.index("xa-hoi"), rows.index("moi-truong")
    new = rows[:i2] + rows[i3:] + rows[i2:i3]
    a, b = new.index("luong-thuc"), new.index("ban-le")
    new[a], new[b] = new[b], new[a]
    return {"pl1": new}


@case("pl1-district-shifted-copy", "ods", "742-2018-pl1", DISTRICT,
      "The agency's own copy, no marker: two blank rows above the table, rows reordered, sheet "
      "named \"Phụ lục I\"; hardened roads 105 % and a blank required cell, reported at the real "
      "(shifted) cells.")
def _(name, agency):
    k1 = ("pl1", "duong-cung-hoa", "uth2018")  # 105 against a plan of 92: within 30 %
    k2 = ("pl1", "ban-le", "th2017")
    book, lay = build_form("742-2018-pl1", agency, marker_version=None, shift=2,
                           order=shifted_order("742-2018-pl1"),
                           sheet_names={"pl1": "Phụ lục I"},
                           values={k1: num(105.0), k2: None})
    assert lay.cells[k1] != build_form("742-2018-pl1", agency)[1].cells[k1]
    return (book, lay), [finding("ty-le-0-100", "error", at(lay, *k1)),
                         finding("bat-buoc", "error", at(lay, *k2))]


@case("pl3-district-own-copy", "xlsx", "742-2018-pl3", DISTRICT,
      "The agency's own copy of PL3, no marker, sheets left as \"Sheet1\" and \"Sheet2\", one "
      "blank row more above each table; revenue on the two sheets differs in KH 2019: "
      "thu-ns-hai-bieu on Sheet1.")
def _(name, agency):
    col = "kh2019"
    book, lay = build_form("742-2018-pl3", agency, marker_version=None, shift=1,
                           sheet_names={"chi-tieu": "Sheet1", "ngan-sach": "Sheet2"},
                           values={("chi-tieu", "thu-ns", col): num(6350.0)})
    sheet, row = equal_rule_cell_row(FORMS["742-2018-pl3"], "thu-ns-hai-bieu")
    return (book, lay), [finding("thu-ns-hai-bieu", "error", at(lay, sheet, row, col))]


@case("pl2-district-old-version", "xls", "742-2018-pl2", DISTRICT,
      "Last year's form (marker @0): phien-ban-bieu-mau (warning, no cell).")
def _(name, agency):
    book, lay = build_form("742-2018-pl2", agency, marker_version=0)
    return (book, lay), [{"rule": "phien-ban-bieu-mau", "severity": "warning",
                          "sheet": lay.sheet_names["pl2"], "cell": None}]


@case("pl1-district-legacy-tcvn3", "xls", "742-2018-pl1", DISTRICT,
      "An old district workbook typed in TCVN3 (\".VnTime\"): every label, header and heading "
      "(\"Tû lÖ hé nghÌo\"), no marker; recognised by content, nothing to report.")
def _(name, agency):
    book, lay = build_form("742-2018-pl1", agency, legacy=True, marker_version=None)
    labels = [c.value for c in book.sheets[0].cells.values() if c.kind == "s"]
    assert "Tû lÖ hé nghÌo" in labels
    return (book, lay), []


@case("pl1-district-two-row-header", "xls", "742-2018-pl1", DISTRICT,
      "The agency's own copy, no marker, with a two-row header: \"Năm 2018\" merged above "
      "\"KH\" and \"ƯTH\", STT/Chỉ tiêu/Đơn vị tính merged down; clean, nothing to report.")
def _(name, agency):
    return build_form("742-2018-pl1", agency, marker_version=None, two_row_header=True), []


@case("not-a-form-budget-list", "xlsx", None, DISTRICT,
      "A budget list for a conference, not a form: khong-nhan-ra-bieu-mau, exit 2.")
def _(name, agency):
    sh = Sheet(name="Dự toán")
    sh.put(0, 0, txt("UBND HUYỆN CAO LỘC"))
    sh.put(1, 0, txt("DỰ TOÁN KINH PHÍ TỔ CHỨC HỘI NGHỊ TỔNG KẾT CÔNG TÁC NĂM 2018"))
    sh.merges.append((1, 0, 1, 5))
    for c, h in enumerate(["STT", "Nội dung", "Đơn vị", "Số lượng", "Đơn giá (đồng)",
                           "Thành tiền (đồng)"]):
        sh.put(3, c, txt(h))
    items = [("Thuê hội trường", "ngày", 1, 3000000), ("In ấn tài liệu", "bộ", 150, 25000),
             ("Nước uống đại biểu", "người", 150, 20000), ("Hoa, khẩu hiệu trang trí", "gói", 1, 1500000),
             ("Văn phòng phẩm", "gói", 1, 750000)]
    total = 0
    for i, (what, unit, qty, price) in enumerate(items):
        r = 4 + i
        sh.put(r, 0, num(i + 1))
        sh.put(r, 1, txt(what))
        sh.put(r, 2, txt(unit))
        sh.put(r, 3, num(qty))
        sh.put(r, 4, num(price))
        sh.put(r, 5, num(qty * price))
        total += qty * price
    sh.put(4 + len(items), 1, txt("Cộng"))
    sh.put(4 + len(items), 5, num(total))
    return (Book(sheets=[sh]), Layout(sheet_names={"x": "Dự toán"})), [
        {"rule": "khong-nhan-ra-bieu-mau", "severity": "error", "sheet": "Dự toán", "cell": None}]


@case("pl3-district-missing-sheet", "ods", "742-2018-pl3", DISTRICT,
      "The budget sheet deleted from the blank form (marker kept): thieu-bieu, no cell.")
def _(name, agency):
    book, lay = build_form("742-2018-pl3", agency, drop_sheets=("ngan-sach",))
    name_ = sheet_of(FORMS["742-2018-pl3"], "ngan-sach")["name"]
    return (book, lay), [{"rule": "thieu-bieu", "severity": "error", "sheet": name_, "cell": None}]


@case("pl2-district-missing-column", "ods", "742-2018-pl2", DISTRICT,
      "The MT 2020 column deleted from the blank form (marker kept): thieu-cot, no cell.")
def _(name, agency):
    book, lay = build_form("742-2018-pl2", agency, drop_columns=(("pl2", "mt2020"),))
    return (book, lay), [{"rule": "thieu-cot", "severity": "error",
                          "sheet": lay.sheet_names["pl2"], "cell": None}]


@case("pl2-district-deleted-row", "xlsx", "742-2018-pl2", DISTRICT,
      "A required row (cooperatives in operation) deleted from the blank form, the rows below "
      "moved up (marker kept): thieu-chi-tieu, no cell; the moved rows read at their new cells.")
def _(name, agency):
    book, lay = build_form("742-2018-pl2", agency, drop_rows=(("pl2", "htx-hoat-dong"),))
    return (book, lay), [{"rule": "thieu-chi-tieu", "severity": "error",
                          "sheet": lay.sheet_names["pl2"], "cell": None}]


# ---- an agency's own table: only the rows it must fill (issue 11) ---------------------------

def own_rows(form_id: str, sheet_id: str, agency: str) -> list[str]:
    """The rows of a sheet the agency must fill, in the form's order."""
    return [r["id"] for r in sheet_of(FORMS[form_id], sheet_id)["row"] if must_fill(r, agency)]


def build_own_table(
    form_id: str,
    agency: str,
    rows: dict,  # sheet id -> row ids in the order written (heading rows allowed)
    *,
    renumber: bool,  # codes 1, 2, 3 … in the written order (sections I, II …) instead of the form's
    sheet_names: dict,  # sheet id -> the agency's sheet name
    values: dict | None = None,  # (sheet, row, col) -> Cell | None (None leaves it blank)
    title: bool = True,  # the form's heading lines above the table
) -> tuple[Book, Layout]:
    """A table the agency made itself: its own heading, the form's title and column headers,
    only its rows, no marker, no column numbers, no "Ghi chú" column, the table lower than
    the blank form's (row 9 for the header)."""
    form = FORMS[form_id]
    data = DATA[form_id]
    values = values or {}
    layout = Layout(values=[])
    sheets = []
    agency_name = AGENCIES[agency]["name"]
    for sid, order in rows.items():
        spec_sheet = sheet_of(form, sid)
        by_id = {r["id"]: r for r in spec_sheet["row"]}
        name = sheet_names[sid]
        layout.sheet_names[sid] = name
        sh = Sheet(name=name)
        columns = spec_sheet["column"]
        last_col = 2 + len(columns)
        sh.put(0, 0, txt(f"UBND TỈNH LẠNG SƠN - {agency_name.upper()}"))
        sh.merges.append((0, 0, 0, 2))
        heading = form["heading"] if title else []
        for i, line in enumerate(heading):
            sh.put(2 + i, 0, txt(line))
            sh.merges.append((2 + i, 0, 2 + i, last_col))
        sh.put(6, 0, txt(f"(Số liệu do {agency_name} cung cấp)"))
        sh.merges.append((6, 0, 6, last_col))
        header_row = 8
        for c, h in enumerate(["STT", "Chỉ tiêu", "Đơn vị tính"] + [c["label"] for c in columns]):
            sh.put(header_row, c, txt(h))
        number, section = 0, 0
        for i, rid in enumerate(order):
            row = by_id[rid]
            r = header_row + 1 + i
            heading_row = row.get("kind", "heading") == "heading"
            if renumber and heading_row:
                section += 1
                code = ["I", "II", "III", "IV", "V"][section - 1]
            elif renumber:
                number += 1
                code = str(number)
            else:
                code = row["code"]
            sh.put(r, 0, txt(code))
            sh.put(r, 1, txt(row["label"]))
            sh.put(r, 2, txt(row.get("unit", "")))
            if heading_row:
                continue
            for j, col in enumerate(columns):
                key = (sid, rid, col["id"])
                a = a1(r, 3 + j)
                layout.cells[key] = a
                cell = values[key] if key in values else num(
                    int(data[(sid, rid)][j]) if row["kind"] == "count"
                    else float(data[(sid, rid)][j]))
                if cell is None:
                    continue
                sh.put(r, 3 + j, cell)
                layout.values.append({"sheet": sid, "indicator": rid, "column": col["id"],
                                      "cell": a})
        sheets.append(sh)
    return Book(sheets=sheets, marker=None), layout


def missing_row(sheet_name: str) -> dict:
    """A row the agency must fill, not found: no cell to point at."""
    return {"rule": "thieu-chi-tieu", "severity": "error", "sheet": sheet_name, "cell": None}


LABOUR = "so-ld-tbxh"


@case("pl1-own-labour-renumbered", "xlsxwriter", "742-2018-pl1", LABOUR,
      "Sở LĐ-TB&XH's own Phụ lục I: the form's title and headers, only its 7 rows, the labour "
      "structure first, numbered 1..7 (the form's codes are 20..24.3); no marker. Recognised "
      "by its own rows, every value read at its cell, nothing to report.")
def _(name, agency):
    mine = own_rows("742-2018-pl1", "pl1", agency)
    assert len(mine) == 7, mine
    labour = [r for r in mine if r.startswith("co-cau-ld")]
    order = ["co-cau-ld"] + labour + [r for r in reversed(mine) if r not in labour]
    return build_own_table("742-2018-pl1", agency, {"pl1": order}, renumber=True,
                           sheet_names={"pl1": "LĐTBXH"}), []


@case("pl1-own-labour-missing-rows", "lo-xls", "742-2018-pl1", LABOUR,
      "Sở LĐ-TB&XH's own table (saved by LibreOffice as .xls), the form's codes, rows "
      "reordered, two of its rows left out (trained labour, the fall in poverty): thieu-chi-tieu "
      "for each, no cell; the others' 32 rows being absent is no finding.")
def _(name, agency):
    order = ["ho-ngheo", "viec-lam", "co-cau-ld", "co-cau-ld-dv", "co-cau-ld-cnxd",
             "co-cau-ld-nlts"]
    book, lay = build_own_table("742-2018-pl1", agency, {"pl1": order}, renumber=False,
                                sheet_names={"pl1": "Sheet1"})
    return (book, lay), [missing_row("Sheet1")] * 2


@case("pl1-own-agriculture-renumbered", "lo-ods", "742-2018-pl1", "so-nn-ptnt",
      "Sở NN&PTNT's own table (saved by LibreOffice as .ods): its 5 rows in reverse order, "
      "numbered 1..5; forest cover 105 % in TH 2017: ty-le-0-100 at its (moved) cell.")
def _(name, agency):
    mine = own_rows("742-2018-pl1", "pl1", agency)
    assert len(mine) == 5, mine
    key = ("pl1", "che-phu-rung", "th2017")
    book, lay = build_own_table("742-2018-pl1", agency, {"pl1": list(reversed(mine))},
                                renumber=True, sheet_names={"pl1": "Nông nghiệp"},
                                values={key: num(105.0)})
    return (book, lay), [finding("ty-le-0-100", "error", at(lay, *key))]


def district_sections(form_id: str, agency: str) -> list[str]:
    """A district's rows under their section headings, the environment section moved before
    the social one."""
    sheet = FORMS[form_id]["sheet"][0]
    sections, current = [], None
    for r in sheet["row"]:
        if r.get("kind", "heading") == "heading" and r["code"] in ("I", "II", "III"):
            current = [r["id"]]
            sections.append(current)
        elif must_fill(r, agency):
            current.append(r["id"])
    economic, social, environment = sections
    return economic + environment + social


@case("pl1-own-district-renumbered", "xls", "742-2018-pl1", DISTRICT,
      "A district's own table (xlwt): its 28 rows only, the environment section before the "
      "social one, numbered 1..28 with sections I..III; one of its cells left blank: bat-buoc "
      "at that cell; the rows the district need not fill (taxes, USD, doctors…) absent, no "
      "finding.")
def _(name, agency):
    order = district_sections("742-2018-pl1", agency)
    valued = [r for r in order if r not in ("kinh-te", "xa-hoi", "moi-truong")]
    assert len(valued) == 28 and len(order) == 31, order
    key = ("pl1", "viec-lam", "uth2018")
    book, lay = build_own_table("742-2018-pl1", agency, {"pl1": order}, renumber=True,
                                sheet_names={"pl1": "Cao Lộc"}, values={key: None})
    return (book, lay), [finding("bat-buoc", "error", at(lay, *key))]


@case("pl1-own-district-missing-row", "ods", "742-2018-pl1", "ubnd-trang-dinh",
      "A district's own table (odfpy) with the form's codes, sections reordered, the row of "
      "new-countryside communes left out: thieu-chi-tieu, no cell.")
def _(name, agency):
    order = [r for r in district_sections("742-2018-pl1", agency) if r != "xa-ntm"]
    book, lay = build_own_table("742-2018-pl1", agency, {"pl1": order}, renumber=False,
                                sheet_names={"pl1": "Biểu số liệu"})
    return (book, lay), [missing_row("Biểu số liệu")]


@case("pl3-own-labour-one-sheet", "xlsx", "742-2018-pl3", LABOUR,
      "Sở LĐ-TB&XH's own Phụ lục III: one sheet with its two indicators swapped and numbered "
      "1, 2; the budget sheet, where it has no row, left out: no thieu-bieu, nothing to report.")
def _(name, agency):
    mine = own_rows("742-2018-pl3", "chi-tieu", agency)
    assert len(mine) == 2 and not own_rows("742-2018-pl3", "ngan-sach", agency), mine
    return build_own_table("742-2018-pl3", agency, {"chi-tieu": list(reversed(mine))},
                           renumber=True, sheet_names={"chi-tieu": "Sheet1"}), []


def unrelated_table(title: bool, rows: list[tuple[str, str, str, list]]) -> Book:
    """A labour department's sector report laid out like the form (STT, Chỉ tiêu, Đơn vị
    tính and the form's five columns), with or without Phụ lục I's heading."""
    form = FORMS["742-2018-pl1"]
    sh = Sheet(name="Sheet1")
    sh.put(0, 0, txt("SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI TỈNH LẠNG SƠN"))
    if title:
        for i, line in enumerate(form["heading"]):
            sh.put(2 + i, 0, txt(line))
    else:
        sh.put(2, 0, txt("BÁO CÁO KẾT QUẢ CÔNG TÁC LAO ĐỘNG, NGƯỜI CÓ CÔNG VÀ XÃ HỘI"))
        sh.put(3, 0, txt("6 tháng đầu năm 2018"))
    columns = sheet_of(form, "pl1")["column"]
    for c, h in enumerate(["STT", "Chỉ tiêu", "Đơn vị tính"] + [c["label"] for c in columns]):
        sh.put(8, c, txt(h))
    for i, (code, label, unit, nums) in enumerate(rows):
        r = 9 + i
        sh.put(r, 0, txt(code))
        sh.put(r, 1, txt(label))
        sh.put(r, 2, txt(unit))
        for j, n in enumerate(nums):
            sh.put(r, 3 + j, num(n))
    return Book(sheets=[sh])


SECTOR_ROWS = [
    ("1", "Số đối tượng bảo trợ xã hội được trợ cấp hàng tháng", "người", [21500, 22100, 22500, 22800, 24000]),
    ("2", "Số người có công được hỗ trợ cải thiện nhà ở", "hộ", [310, 285, 250, 262, 200]),
    ("3", "Số trẻ em có hoàn cảnh đặc biệt được chăm sóc", "trẻ em", [1250, 1310, 1400, 1380, 1500]),
    ("4", "Số vụ tai nạn lao động", "vụ", [12, 9, 8, 7, 5]),
    ("5", "Số người đi làm việc ở nước ngoài theo hợp đồng", "người", [150, 180, 200, 210, 300]),
]


@case("not-a-form-title-unrelated-rows", "xlsxwriter", None, LABOUR,
      "Phụ lục I's heading and column headers over the department's own sector rows, of which "
      "only one (the poverty rate) is one of its rows in the form: not the form "
      "(khong-nhan-ra-bieu-mau, exit 2).")
def _(name, agency):
    rows = SECTOR_ROWS + [("6", "Tỷ lệ hộ nghèo", "%", [20.1, 17.9, 16.0, 15.8, 12.0])]
    return (unrelated_table(True, rows), Layout(sheet_names={"x": "Sheet1"})), [
        {"rule": "khong-nhan-ra-bieu-mau", "severity": "error", "sheet": "Sheet1", "cell": None}]


@case("not-a-form-labels-no-title", "lo-xls", None, LABOUR,
      "A six-month sector report (saved by LibreOffice as .xls) with the form's columns and "
      "four of the department's labels from the form, but not the form's title: not the form "
      "(khong-nhan-ra-bieu-mau, exit 2).")
def _(name, agency):
    d = DATA["742-2018-pl1"]
    mine = [("pl1", r) for r in ("ld-dao-tao", "viec-lam", "ho-ngheo", "giam-ho-ngheo")]
    labels = {r["id"]: r for r in sheet_of(FORMS["742-2018-pl1"], "pl1")["row"]}
    rows = SECTOR_ROWS + [
        (str(len(SECTOR_ROWS) + 1 + i), labels[r]["label"], labels[r]["unit"],
         [float(x) for x in d[(s, r)]])
        for i, (s, r) in enumerate(mine)]
    return (unrelated_table(False, rows), Layout(sheet_names={"x": "Sheet1"})), [
        {"rule": "khong-nhan-ra-bieu-mau", "severity": "error", "sheet": "Sheet1", "cell": None}]


# --------------------------------------------------------------------------------------------

def generate(out: Path) -> list[str]:
    check_data()
    written = []
    names = set()
    for name, writer, form_id, agency, about, fn in CASES:
        assert name not in names, name
        names.add(name)
        assert agency in AGENCIES, agency
        (book, layout), findings = fn(name, agency)
        ext, write = WRITERS[writer]
        path = out / f"{name}.{ext}"
        write(book, path)
        valid = not any(f["severity"] == "error" for f in findings)
        if form_id is None:
            recognised_by = None
        elif book.marker is None:
            recognised_by = "content"
        else:
            recognised_by = "marker"
        expected = {
            "case": about,
            "agency": agency,
            "form": form_id,
            "valid": valid if form_id is not None else False,
            "recognised_by": recognised_by,
            "findings": findings,
        }
        if layout.values is not None:
            expected["values"] = layout.values
        (out / f"{name}.expected.json").write_text(
            json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path.name)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate in a temporary folder and compare with the corpus")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            generate(tmp)
            differ = []
            for p in sorted(tmp.iterdir()):
                mine = args.out / p.name
                if not mine.exists() or mine.read_bytes() != p.read_bytes():
                    differ.append(p.name)
            if differ:
                print("differs from a fresh generation:", *differ, sep="\n  ")
                return 1
            print(f"{len(list(tmp.iterdir()))} files match a fresh generation")
            return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for p in args.out.iterdir():
        if p.suffix in (".xlsx", ".xls", ".ods") or p.name.endswith(".expected.json"):
            p.unlink()
    written = generate(args.out)
    print(f"wrote {len(written)} workbooks and their expectations to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
