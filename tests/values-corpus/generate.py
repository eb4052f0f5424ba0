#!/usr/bin/env python3
"""Writes the values corpus: filled Appendix I workbooks whose numbers carry the number
formats agencies' spreadsheets give them (percent, thousands-scaled, dates), from several
writers, each beside the exact values the consolidation store must hold for it.

The layout and data come from the forms corpus (tests/forms-corpus/generate.py); only the
cells and their formats differ. LibreOffice's own .xls and .ods are made by converting an
openpyxl workbook with `soffice --headless --convert-to`.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "forms-corpus"))

import generate as forms  # noqa: E402  (the forms corpus: layout, data, roster)

FORM = "742-2018-pl1"
SHEET = "pl1"


@dataclass
class Fmt(forms.Cell):
    """A numeric ("n") or date ("d") cell with a number format."""
    fmt: str = "General"


PERCENT_FORMATS = ["0.00%", "0.0%", "0%", "#,##0.00%"]


def is_percent(row: dict) -> bool:
    return row.get("kind") == "percent"


def rows_of(agency: str):
    form = forms.FORMS[FORM]
    spec = forms.sheet_of(form, SHEET)
    cols = [c["id"] for c in spec["column"]]
    fill = forms.rows_to_fill(form, agency)
    for row in spec["row"]:
        if row.get("kind", "heading") == "heading" or (SHEET, row["id"]) not in fill:
            continue
        for ci, cid in enumerate(cols):
            yield row, cid, forms.DATA[FORM][(SHEET, row["id"])][ci]


def percent_cells(agency: str, ods: bool = False) -> tuple[dict, dict]:
    """Every percent cell as its fraction with a percent format; the store keeps the percent."""
    values, expected = {}, {}
    for i, (row, cid, raw) in enumerate(rows_of(agency)):
        key = (SHEET, row["id"], cid)
        if is_percent(row):
            fraction = float(Decimal(raw) / 100)
            values[key] = Fmt("n", fraction, "0.00%" if ods else PERCENT_FORMATS[i % 4])
        expected[key] = float(raw)
    return values, expected


def store_values(expected: dict, layout) -> list:
    return [
        {"sheet": s, "indicator": r, "column": c, "cell": layout.cells[(s, r, c)], "value": v}
        for (s, r, c), v in sorted(expected.items())
    ]


# ---- writers ---------------------------------------------------------------------------------

def write_openpyxl(book, path: Path) -> None:
    import openpyxl
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for s in book.sheets:
        ws = wb.create_sheet(s.name)
        for (r, c), cell in sorted(s.cells.items()):
            target = ws.cell(row=r + 1, column=c + 1, value=cell.value)
            if isinstance(cell, Fmt):
                target.number_format = cell.fmt
        for r0, c0, r1, c1 in s.merges:
            ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
        if s.hidden:
            ws.sheet_state = "hidden"
    if book.marker:
        wb.defined_names[forms.MARKER_NAME] = DefinedName(
            forms.MARKER_NAME, attr_text=f'"{book.marker}"')
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(forms.normalise_zip(buf.getvalue()))


def write_xlsxwriter(book, path: Path) -> None:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": datetime.datetime(2018, 7, 5, 8, 30)})
    formats = {}

    def fmt(code: str):
        if code not in formats:
            formats[code] = wb.add_format({"num_format": code})
        return formats[code]

    for s in book.sheets:
        ws = wb.add_worksheet(s.name)
        merged = {}
        for r0, c0, r1, c1 in s.merges:
            merged[(r0, c0)] = (r1, c1)
        for (r, c), cell in sorted(s.cells.items()):
            if (r, c) in merged:
                r1, c1 = merged.pop((r, c))
                ws.merge_range(r, c, r1, c1, cell.value)
            elif isinstance(cell, Fmt) and cell.kind == "d":
                ws.write_datetime(r, c, cell.value, fmt(cell.fmt))
            elif isinstance(cell, Fmt):
                ws.write_number(r, c, cell.value, fmt(cell.fmt))
            elif cell.kind == "n":
                ws.write_number(r, c, cell.value)
            else:
                ws.write_string(r, c, cell.value)
        if s.hidden:
            ws.hide()
    if book.marker:
        wb.define_name(forms.MARKER_NAME, f'="{book.marker}"')
    wb.close()
    path.write_bytes(forms.normalise_zip(buf.getvalue()))


def write_xlwt(book, path: Path) -> None:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    styles = {}

    def style(code: str):
        if code not in styles:
            styles[code] = xlwt.easyxf(num_format_str=code)
        return styles[code]

    for s in book.sheets:
        ws = wb.add_sheet(s.name)
        inner = set()
        for r0, c0, r1, c1 in s.merges:
            cell = s.cells.get((r0, c0))
            ws.write_merge(r0, r1, c0, c1, "" if cell is None else cell.value)
            inner |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
        for (r, c), cell in sorted(s.cells.items()):
            if (r, c) in inner:
                continue
            if isinstance(cell, Fmt):
                ws.write(r, c, cell.value, style(cell.fmt))
            else:
                ws.write(r, c, cell.value)
        if s.hidden:
            ws.visibility = 1
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def write_odfpy(book, path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for s in book.sheets:
        table = Table(name=s.name)
        nrows = max(r for r, _ in s.cells) + 1
        ncols = max(c for _, c in s.cells) + 1
        for r in range(nrows):
            tr = TableRow()
            for c in range(ncols):
                cell = s.cells.get((r, c))
                if cell is None:
                    tc = TableCell()
                elif isinstance(cell, Fmt) and cell.kind == "d":
                    tc = TableCell(valuetype="date", datevalue=cell.value.isoformat())
                    tc.addElement(P(text=cell.value.strftime("%d/%m/%Y")))
                elif isinstance(cell, Fmt) and "%" in cell.fmt:
                    tc = TableCell(valuetype="percentage", value=repr(cell.value))
                    tc.addElement(P(text=f"{cell.value * 100:.2f}%"))
                elif cell.kind == "n":
                    tc = TableCell(valuetype="float", value=repr(float(cell.value)))
                    tc.addElement(P(text=repr(cell.value)))
                else:
                    tc = TableCell(valuetype="string")
                    tc.addElement(P(text=cell.value))
                tr.addElement(tc)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    path.write_bytes(forms.normalise_zip(buf.getvalue()))


def libreoffice(book, path: Path) -> None:
    """openpyxl's workbook converted by LibreOffice to its own .xls or .ods."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is needed: apt-get install libreoffice-calc-nogui")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / f"{path.stem}.xlsx"
        write_openpyxl(book, source)
        target = {".xls": "xls:MS Excel 97", ".ods": "ods"}[path.suffix]
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
             "--convert-to", target, "--outdir", str(tmp / "out"), str(source)],
            check=True, capture_output=True, timeout=180)
        shutil.copyfile(tmp / "out" / path.name, path)


# ---- cases -----------------------------------------------------------------------------------

CASES = []


def case(name: str, ext: str, writer, agency: str, about: str):
    def register(fn):
        CASES.append((name, ext, writer, agency, about, fn))
        return fn
    return register


def at(layout, row: str, col: str) -> str:
    return layout.cells[(SHEET, row, col)]


@case("pl1-openpyxl-percent-scaled", "xlsx", write_openpyxl, "ubnd-cao-loc",
      "Percent cells as fractions in four percent formats; an amount in a thousands-scaled "
      "format; an amount with a thousands-grouping format.")
def _(agency):
    values, expected = percent_cells(agency)
    values[(SHEET, "ban-le", "th2016")] = Fmt(
        "n", float(Decimal(forms.DATA[FORM][(SHEET, "ban-le")][0]) * 1000), "#,##0.0,")
    values[(SHEET, "luong-thuc", "th2016")] = Fmt(
        "n", float(forms.DATA[FORM][(SHEET, "luong-thuc")][0]), "#,##0.00")
    book, layout = forms.build_form(FORM, agency, values=values)
    findings = [{"rule": "dinh-dang-chia-nghin", "severity": "warning",
                 "cell": at(layout, "ban-le", "th2016")}]
    return book, layout, expected, findings


@case("pl1-xlsxwriter-percent-doubts", "xlsx", write_xlsxwriter, "ubnd-loc-binh",
      "Percent formats; one fraction without the format in a percent row (kept as written, "
      "named); a percent-formatted cell in a count row (taken as shown, named).")
def _(agency):
    values, expected = percent_cells(agency)
    raw = forms.DATA[FORM][(SHEET, "nha-van-hoa")][0]
    values[(SHEET, "nha-van-hoa", "th2016")] = forms.num(float(Decimal(raw) / 100))
    expected[(SHEET, "nha-van-hoa", "th2016")] = float(Decimal(raw) / 100)
    raw = forms.DATA[FORM][(SHEET, "dn-moi")][0]
    values[(SHEET, "dn-moi", "th2016")] = Fmt("n", float(Decimal(raw) / 100), "0%")
    book, layout = forms.build_form(FORM, agency, values=values)
    findings = [
        {"rule": "ty-le-hay-phan-so", "severity": "warning",
         "cell": at(layout, "nha-van-hoa", "th2016")},
        {"rule": "phan-tram-sai-dong", "severity": "warning",
         "cell": at(layout, "dn-moi", "th2016")},
    ]
    return book, layout, expected, findings


@case("pl1-xlwt-percent-scaled", "xls", write_xlwt, "ubnd-van-lang",
      "BIFF8 FORMAT and XF records: percent formats and a thousands-scaled amount.")
def _(agency):
    values, expected = percent_cells(agency)
    values[(SHEET, "ban-le", "th2017")] = Fmt(
        "n", float(Decimal(forms.DATA[FORM][(SHEET, "ban-le")][1]) * 1000), "#,##0.0,")
    book, layout = forms.build_form(FORM, agency, values=values)
    findings = [{"rule": "dinh-dang-chia-nghin", "severity": "warning",
                 "cell": at(layout, "ban-le", "th2017")}]
    return book, layout, expected, findings


@case("pl1-odfpy-percentage", "ods", write_odfpy, "ubnd-trang-dinh",
      "OpenDocument percentage cells (office:value-type=\"percentage\").")
def _(agency):
    values, expected = percent_cells(agency, ods=True)
    book, layout = forms.build_form(FORM, agency, values=values)
    return book, layout, expected, []


@case("pl1-libreoffice-percent", "xls", libreoffice, "ubnd-binh-gia",
      "LibreOffice's own .xls of a workbook with percent formats and a scaled amount.")
def _(agency):
    values, expected = percent_cells(agency)
    values[(SHEET, "ban-le", "th2016")] = Fmt(
        "n", float(Decimal(forms.DATA[FORM][(SHEET, "ban-le")][0]) * 1000), "#,##0.0,")
    book, layout = forms.build_form(FORM, agency, values=values)
    findings = [{"rule": "dinh-dang-chia-nghin", "severity": "warning",
                 "cell": at(layout, "ban-le", "th2016")}]
    return book, layout, expected, findings


@case("pl1-libreoffice-percent", "ods", libreoffice, "ubnd-bac-son",
      "LibreOffice's own .ods of a workbook with percent formats.")
def _(agency):
    values, expected = percent_cells(agency)
    book, layout = forms.build_form(FORM, agency, values=values)
    return book, layout, expected, []


@case("pl1-date-in-number", "xlsx", write_openpyxl, "ubnd-chi-lang",
      "An amount cell Excel turned into a date: an error naming the cell, no number taken.")
def _(agency):
    values, expected = percent_cells(agency)
    key = (SHEET, "grdp-dau-nguoi", "th2016")
    values[key] = Fmt("d", datetime.datetime(2018, 7, 6), "dd/mm/yyyy")
    del expected[key]
    book, layout = forms.build_form(FORM, agency, values=values)
    findings = [{"rule": "ngay-thay-so", "severity": "error",
                 "cell": at(layout, "grdp-dau-nguoi", "th2016")}]
    return book, layout, expected, findings


def generate(out: Path) -> list[str]:
    written = []
    for name, ext, writer, agency, about, fn in CASES:
        book, layout, expected, findings = fn(agency)
        file = f"{name}.{ext}"
        writer(book, out / file)
        doc = {
            "case": about,
            "file": file,
            "agency": agency,
            "form": FORM,
            "valid": not any(f["severity"] == "error" for f in findings),
            "findings": [{**f, "sheet": "PL1"} for f in findings],
            "values": store_values(expected, layout),
        }
        (out / f"{file}.expected.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(file)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    for p in args.out.iterdir():
        if p.suffix in (".xlsx", ".xls", ".ods") or p.name.endswith(".expected.json"):
            p.unlink()
    written = generate(args.out)
    print(f"wrote {len(written)} workbooks and their expectations to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
