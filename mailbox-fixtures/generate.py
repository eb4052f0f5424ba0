#!/usr/bin/env python3
"""Regenerate the golden mailbox corpus of intake (campaign 742-2018, Lạng Sơn).

Needs Python 3.11+ (tomllib: the form specifications are read from config/forms/) and:

    pip install openpyxl XlsxWriter xlwt odfpy msoffcrypto-tool

Run from the repository root:

    python3 mailbox-fixtures/generate.py

It writes, beside this script:
  * NN-name.eml             one raw message each, CRLF line endings, shaped like the
                            mail client it imitates;
  * NN-name.expected.json   what intake must decide for that message when the .eml files
                            are fed in lexical order into ONE fresh store;
  * workbooks/              every workbook and document attached anywhere, as the bytes
                            that the messages carry, plus workbooks/MANIFEST.json.

Everything is deterministic: fixed dates, boundaries, Message-IDs, zip timestamps and
document properties, and the salts of the encrypted workbook come from a fixed seed, so
rerunning gives byte-identical files. Each filled form is checked against its form's rules
(a small reading of config/forms/ in Python) before it is written: it must give exactly the
findings it is designed to give (none, but for the two invalid by design). The script ends
with a self-check that parses every message with Python's email package and compares each
attachment with the bytes it wrote.
"""

import base64
import datetime as dt
import email
import email.policy
import hashlib
import html
import io
import json
import quopri
import re
import sys
import time
import tomllib
import unicodedata
import urllib.parse
import uuid
import zipfile
from pathlib import Path

import msoffcrypto
import msoffcrypto.format.ooxml
import msoffcrypto.method.container.ecma376_encrypted as ecma376_encrypted
import msoffcrypto.method.ecma376_agile as ecma376_agile
import odf.opendocument
import openpyxl
import xlsxwriter
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TableColumnProperties, TableProperties, TextProperties
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import P
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

HERE = Path(__file__).resolve().parent
OUT_WB = HERE / "workbooks"
CRLF = "\r\n"
ICT = dt.timezone(dt.timedelta(hours=7))
DEPT = "skhdt@langson.example"
DEPT_INTAKE = "intake@skhdt.langson.example"
DEADLINE = dt.datetime(2018, 7, 10, 0, 0, 0, tzinfo=ICT)
# Document properties of every generated workbook (the day the blank forms went out).
DOC_CREATED = dt.datetime(2018, 6, 29, 8, 0, 0)
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "pdf": "application/pdf",
    "zip": "application/x-zip-compressed",
}


def h(seed, n=16):
    """Deterministic hex digest of a seed string."""
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:n]


def duuid(seed):
    return uuid.uuid5(uuid.NAMESPACE_URL, "intake-fixture:" + seed)


# ---------------------------------------------------------------------------------------
# Forms, roster and the figures agencies report
# ---------------------------------------------------------------------------------------
#
# Every workbook is the blank form of config/forms/742-2018-plN.toml (the layout of
# `intake template export`: "ĐƠN VỊ: …" in row 1, the form's heading lines from row 2, the
# sheet's title in row 5, column headers in row 7, column numbers "(1)", "(2)"… in row 8,
# indicators from row 9; columns A code, B label, C unit, D… values, then "Ghi chú"), filled
# the way the sending agency fills it: every row the agency must fill (the row's `who`), in
# every column, plus the rows it reports besides, completed so that every rule of the form
# can be checked (all parts of a sum, both sides of an equality).

CONFIG = HERE.parent / "config"


def _load_toml(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


FORMS = {pl: _load_toml(CONFIG / "forms" / f"742-2018-{pl}.toml") for pl in ("pl1", "pl2", "pl3")}
KINDS = {a["code"]: a["kind"] for a in _load_toml(CONFIG / "rosters" / "langson.toml")["agency"]}
WHO_KINDS = {"districts": "district", "departments": "department", "office": "office"}
MARKER_NOTE = "Trang đánh dấu biểu mẫu của hệ thống tiếp nhận: xin đừng xóa hay sửa."
NOTE_HEADER = "Ghi chú"
REQUIRED_NOTE = "bắt buộc"


def must_fill(row, code, kind):
    """Whether the agency (code, kind) must fill the row; None: nobody known, nothing required."""
    if row.get("kind", "heading") == "heading" or code is None and kind is None:
        return False
    who = row.get("who", "all")
    if who == "all":
        return True
    if who == "optional":
        return False
    return code in who or any(WHO_KINDS.get(w) == kind for w in who)


def ref(form, text):
    """'sheet!row' or 'row' (first sheet) -> (sheet id, row id)."""
    sheet, _, row = text.rpartition("!")
    return (sheet or form["sheet"][0]["id"], row)


def rule_groups(form):
    """Rows that go together: each sum rule's parts and total row, each equality's two sides."""
    groups = []
    for rule in form.get("rule", []):
        if rule["kind"] == "sum":
            g = [ref(form, p) for p in rule["parts"]]
            if isinstance(rule["total"], str):
                g.append(ref(form, rule["total"]))
            groups.append(g)
        elif rule["kind"] == "equal":
            groups.append([ref(form, rule["left"]), ref(form, rule["right"])])
    return groups


# Province-wide figures (what Cục Thống kê, Sở Tài chính and the departments copying the
# general indicators report). Appendices I and II: TH 2016, TH 2017, KH 2018, ƯTH 2018,
# MT 2020; plan and target columns may hold ranges and bounds as typed ("7,5 - 8",
# "trên 98"); ("vn", x) is a number typed as Vietnamese text ("1.644,1"). Shares add up to
# 100 and totals to their parts in every column the rules check; every ƯTH 2018 is within
# 30 % of its KH 2018.
MID = ["th2016", "th2017", "kh2018", "uth2018", "mt2020"]
PROVINCE_MID = {
    "grdp-tang": [7.08, 7.21, 7.5, 7.3, "7,5 - 8"],
    "grdp-tang-nlts": [2.91, 3.12, 3.0, 3.2, "3 - 3,5"],
    "grdp-tang-cnxd": [9.62, 10.35, 11.5, 10.8, "11 - 12"],
    "grdp-tang-dv": [7.93, 7.61, 7.8, 7.7, "8 - 9"],
    "grdp-tang-thue": [5.2, 6.1, 5.5, 5.9, "5 - 6"],
    "co-cau-nlts": [22.48, 21.95, "21 - 22", 21.61, "19 - 20"],
    "co-cau-cnxd": [18.9, 19.21, "19 - 20", 19.51, "21 - 22"],
    "co-cau-dv": [49.31, 49.41, "49 - 50", 49.42, "49 - 50"],
    "co-cau-thue": [9.31, 9.43, "9 - 10", 9.46, "9 - 10"],
    "grdp-dau-nguoi": [35.6, 38.2, 41.5, 41.2, 50],
    "grdp-dau-nguoi-usd": [1590, 1690, 1820, 1800, 2200],
    "luong-thuc": [300.5, 305.8, 306, 307.1, 310],
    "xuat-nhap-khau": [3850, 4620, 4900, 5010, 5500],
    "ban-le": [14520, 15980, 17500, 17650, 22000],
    "thu-ns": [6245.3, 6948.2, 6530, 7020, 7800],
    "thu-ns-noi-dia": [1510.2, ("vn", 1644.1), 1700, 1810.5, 2200],
    "thu-ns-xnk": [4610.2, 5182.4, 4700, 5050, 5500],
    "thu-ns-khac": [124.9, 121.7, 130, 159.5, 100],
    "chi-ns": [8950.5, 9420.3, 9500, 9870, "10500 - 11000"],
    "von-dau-tu": [12850, 14120, 15500, 15600, "18000 - 20000"],
    "dn-moi": [252, 310, 350, 362, 400],
    "dn-hoat-dong": [1352, 1518, 1700, 1724, 2200],
    "htx-moi": [25, 31, 35, 38, 40],
    "htx-hoat-dong": [145, 168, 190, 196, 250],
    "xa-ntm": [14, 20, 26, 26, 45],
    "duong-cung-hoa": [92.5, 95.2, 97, 97.4, 100],
    "truong-chuan": [185, 203, 220, 224, 260],
    "nha-van-hoa": [85.2, 88.6, 90, 90.4, 95],
    "bac-si": [8.9, 9.2, 9.5, 9.5, 10],
    "giuong-benh": [30.5, 31, 31.5, 31.6, 32],
    "bhyt": [95.1, 96.8, 97, 97.5, "trên 98"],
    "ld-dao-tao": [45.2, 48.5, 51, 51.3, 55],
    "viec-lam": [9850, 10120, 10000, 10250, 10000],
    "ho-ngheo": [19.34, 16.31, 13.8, 13.9, "dưới 10"],
    "giam-ho-ngheo": [2.95, 3.03, "2 - 3", 2.4, "2 - 3"],
    "co-cau-ld-nlts": [74.2, 72.8, 71, 71.3, 68],
    "co-cau-ld-cnxd": [6.5, 6.9, 7.2, 7.1, 8],
    "co-cau-ld-dv": [19.3, 20.3, 21.8, 21.6, 24],
    "trong-rung": [10250, 11530, 10000, 10820, 10000],
    "che-phu-rung": [60.01, 60.93, 61.5, 61.5, 63],
    "nuoc-nong-thon": [89.5, 91.2, 92, 92.3, 95],
    "nuoc-do-thi": [96.1, 97.4, 98, 98.2, 99],
    "rac-do-thi": [88.7, 90.5, 92, 92.1, 95],
    "rac-y-te": [92.1, 95, 98, 98.3, 100],
    # Appendix II's own rows.
    "nang-suat": [5.1, 5.4, 5.5, 5.6, "5,5 - 6"],
}
for _a, _b in [("tang-truong", "grdp-tang"), ("ty-trong-nln", "co-cau-nlts"), ("ty-trong-cnxd", "co-cau-cnxd"),
               ("ty-trong-dv", "co-cau-dv"), ("ty-trong-thue", "co-cau-thue")]:
    PROVINCE_MID[_a] = PROVINCE_MID[_b]

# Appendix III: ƯTH 2018, KH 2019 (both sheets; "thu-ns" is on both and must agree).
Y2019 = ["uth2018", "kh2019"]
PROVINCE_2019 = {
    "grdp-tang": [7.3, "7,3 - 7,5"],
    "grdp-dau-nguoi": [41.2, 44.8],
    "luong-thuc": [307.1, 308],
    "xuat-nhap-khau": [5010, 5300],
    "ban-le": [17650, 19400],
    "thu-ns": [7020, 7300],
    "von-dau-tu": [15600, "16500 - 17000"],
    "xa-ntm": [26, 33],
    "viec-lam": [10250, 10200],
    "ho-ngheo": [13.9, "dưới 12"],
    "bhyt": [97.5, 98],
    "che-phu-rung": [61.5, 62],
    "thu-noi-dia": [("vn", 1810.5), 1950],
    "thu-xnk": [5050, 5200],
    "thu-khac": [159.5, 150],
    "chi-ns": [9870, 10350],
    "chi-dtpt": [2870.4, 3050],
    "chi-thuong-xuyen": [6850.6, 7150],
    "chi-khac": [149, 150],
}

# The general indicators a department copies into an appendix besides its own rows.
PROVINCE_ROWS = {
    "pl1": ["grdp-tang", "grdp-tang-nlts", "grdp-tang-cnxd", "grdp-tang-dv", "grdp-tang-thue", "co-cau-nlts",
            "grdp-dau-nguoi", "grdp-dau-nguoi-usd", "xuat-nhap-khau", "thu-ns"],
    "pl2": ["tang-truong", "ty-trong-nln", "grdp-dau-nguoi-usd", "von-dau-tu", "dn-moi", "dn-hoat-dong", "nang-suat"],
    "pl3": ["grdp-tang", "grdp-dau-nguoi", "ban-le", "thu-ns", "von-dau-tu"],
}

# A district's economic structure, in hundredths of a percent (TH 2016, TH 2017, ƯTH 2018)
# and as typed ranges (KH 2018, MT 2020): more farming than the province. Each district
# shifts it by its own nudge, keeping every column at exactly 100.
DISTRICT_SHARES = {
    "nlts": [4235, 4120, (39, 41), 4010, (36, 38)],
    "cnxd": [1680, 1755, (18, 19), 1830, (20, 22)],
    "dv": [3315, 3355, (33, 35), 3390, (34, 36)],
    "thue": [770, 770, (7, 8), 770, (7, 8)],
}
SHARE_ROWS = {"co-cau-nlts": "nlts", "co-cau-cnxd": "cnxd", "co-cau-dv": "dv", "co-cau-thue": "thue",
              "ty-trong-nln": "nlts", "ty-trong-cnxd": "cnxd", "ty-trong-dv": "dv", "ty-trong-thue": "thue"}
# Revenue a district does not collect (border-gate duties are the province's).
DISTRICT_ZERO = {"thu-ns-xnk", "thu-xnk"}


def vn_number(x):
    """1644.1 -> '1.644,1' (Vietnamese grouping, always one decimal so never ambiguous)."""
    neg = x < 0
    ip, fp = f"{abs(x):.1f}".split(".")
    groups = []
    while len(ip) > 3:
        groups.insert(0, ip[-3:])
        ip = ip[:-3]
    groups.insert(0, ip)
    return ("-" if neg else "") + ".".join(groups) + "," + fp


def tidy(x, places):
    """Round, and give an integral value as an int (so 7020.0 is written 7020)."""
    r = round(x, places)
    return int(r) if r == int(r) else r


def district_value(row, v, factor, nudge):
    """A district's figure derived from the province's."""
    kind, additive = row.get("kind"), row.get("additive", False)
    if v is None:
        return None
    if isinstance(v, tuple):
        return ("vn", round(v[1] * factor, 1)) if additive else v
    if isinstance(v, str):
        m = re.fullmatch(r"(\d+) - (\d+)", v)
        if additive and m:
            return f"{round(int(m.group(1)) * factor)} - {round(int(m.group(2)) * factor)}"
        return v
    if additive:
        return int(round(v * factor)) if kind == "count" else tidy(v * factor, 1)
    if kind == "percent" and not row.get("growth"):
        return min(100, tidy(v * (1 + nudge), 2))
    return tidy(v * (1 + nudge), 2)


def district_share(part, col_index, nudge):
    d = int(round(nudge * 5000))  # hundredths of a point
    shift = {"nlts": d, "cnxd": -(d // 2), "dv": -(d - d // 2), "thue": 0}[part]
    v = DISTRICT_SHARES[part][col_index]
    if isinstance(v, tuple):
        s = int(round(shift / 100))
        return f"{v[0] + s} - {v[1] + s}"
    return tidy((v + shift) / 100, 2)


def as_number(v):
    if isinstance(v, tuple):
        return v[1]
    if isinstance(v, (int, float)):
        return v
    return None


# ---------------------------------------------------------------------------------------
# Reading a cell the way the forms are checked (the generator's own check of its design)
# ---------------------------------------------------------------------------------------


def decimals_of(x):
    s = repr(float(x))
    return 0 if s.endswith(".0") else len(s.split(".")[1])


def parse_vn_text(s):
    """(value, decimals) of a number typed the Vietnamese way; refuses what could be read two ways."""
    s = s.strip().rstrip("%").strip()
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*(,\d+)?|\d+(,\d+)?", s), f"not a plain Vietnamese number: {s!r}"
    if s.count(".") == 1 and "," not in s:
        raise AssertionError(f"ambiguous separator in {s!r}")
    ip, _, fp = s.partition(",")
    return float(ip.replace(".", "") + "." + (fp or "0")), len(fp)


def read_cell(v):
    """('blank',) ('na',) ('num', x, d) or ('span', lo, hi, d) — what the checks see."""
    if v is None or v == "":
        return ("blank",)
    if isinstance(v, tuple):
        x, d = parse_vn_text(vn_number(v[1]))
        return ("num", x, d)
    if isinstance(v, (int, float)):
        return ("num", float(v), decimals_of(v))
    s = v.strip()
    if s.lower() in ("x", "-", "–"):
        return ("na",)
    for word in ("trên ", "dưới "):
        if s.startswith(word):
            x, d = parse_vn_text(s[len(word):])
            return ("span", x, x, d)
    if " - " in s:
        a, b = s.split(" - ")
        (lo, d1), (hi, d2) = parse_vn_text(a), parse_vn_text(b)
        assert lo <= hi, s
        return ("span", lo, hi, max(d1, d2))
    x, d = parse_vn_text(s)
    return ("num", x, d)


def design_check(form, values, cell_of, code, kind):
    """The findings the form's checks give on these values, in the order they are reported:
    the cells row by row (required, type, bounds), then each rule. [(rule, severity, cell)]."""
    out = []
    reads = {}
    for sheet in form["sheet"]:
        cols = sheet["column"]
        for row in sheet["row"]:
            if row.get("kind", "heading") == "heading":
                continue
            must = must_fill(row, code, kind)
            for col in cols:
                key = (sheet["id"], row["id"], col["id"])
                cell = cell_of[key]
                got = read_cell(values.get(key))
                if got[0] == "na" and must:
                    out.append(("kieu-so", "error", cell))
                    got = None
                elif got[0] == "span" and not col.get("ranges"):
                    out.append(("khoang-gia-tri", "error", cell))
                    got = None
                if got and got[0] == "blank" and must:
                    out.append(("bat-buoc", "error", cell))
                if got and got[0] in ("num", "span"):
                    lo, hi = (got[1], got[1]) if got[0] == "num" else (got[1], got[2])
                    k = row["kind"]
                    if k == "percent" and row.get("growth"):
                        if lo < -50 or hi > 100:
                            out.append(("tang-truong-bat-thuong", "warning", cell))
                    elif k == "percent":
                        if lo < 0 or hi > 100:
                            out.append(("ty-le-0-100", "error", cell))
                    elif k in ("count", "amount") and lo < 0:
                        out.append(("so-am", "error", cell))
                    if k == "count" and got[0] == "num" and got[1] != int(got[1]):
                        out.append(("so-nguyen", "warning", cell))
                reads[key] = got
    order = list(reads)

    def num(key):
        g = reads.get(key)
        return (g[1], g[2]) if g and g[0] == "num" else None

    for rule in form.get("rule", []):
        sev = rule.get("severity", "error")
        if rule["kind"] == "sum":
            parts = [ref(form, p) for p in rule["parts"]]
            sheet = next(s for s in form["sheet"] if s["id"] == parts[0][0])
            cols = [c["id"] for c in sheet["column"] if not rule.get("columns") or c["id"] in rule["columns"]]
            for c in cols:
                vals = [num(p + (c,)) for p in parts]
                if any(v is None for v in vals):
                    continue
                total, tol = sum(v[0] for v in vals), sum(0.5 * 10 ** -v[1] for v in vals)
                if isinstance(rule["total"], str):
                    t = num(ref(form, rule["total"]) + (c,))
                    if t is None:
                        continue
                    expected, tol, at = t[0], tol + 0.5 * 10 ** -t[1], ref(form, rule["total"]) + (c,)
                else:
                    expected, at = float(rule["total"]), parts[0] + (c,)
                if abs(total - expected) > tol + 1e-9:
                    out.append((rule["id"], sev, cell_of[at]))
        elif rule["kind"] == "deviation":
            for key in order:
                if key[2] != rule["value"]:
                    continue
                v = num(key)
                r = reads.get((key[0], key[1], rule["reference"]))
                if v is None or not r or r[0] not in ("num", "span"):
                    continue
                lo, hi = (r[1], r[1]) if r[0] == "num" else (r[1], r[2])
                nearest = lo if v[0] < lo else hi if v[0] > hi else None
                if nearest is None or abs(nearest) < 1e-9 or abs((v[0] - nearest) / nearest) <= rule["max_share"]:
                    continue
                out.append((rule["id"], sev, cell_of[key]))
        elif rule["kind"] == "equal":
            left, right = ref(form, rule["left"]), ref(form, rule["right"])
            sheet = next(s for s in form["sheet"] if s["id"] == left[0])
            for c in [c["id"] for c in sheet["column"]]:
                a, b = num(left + (c,)), num(right + (c,))
                if a is None or b is None:
                    continue
                if abs(a[0] - b[0]) > 0.5 * 10 ** -a[1] + 0.5 * 10 ** -b[1] + 1e-9:
                    out.append((rule["id"], sev, cell_of[left + (c,)]))
    return out


# ---------------------------------------------------------------------------------------
# Filled forms
# ---------------------------------------------------------------------------------------


def a1(r, c):
    """0-based row and column -> 'G28'."""
    return f"{get_column_letter(c + 1)}{r + 1}"


class VisibleSheet:
    """One sheet as written: cells (0-based), merged row spans, and the style of each row."""

    def __init__(self, name, ncol):
        self.name = name
        self.ncol = ncol
        self.cells = {}
        self.merges = []  # (row, first col, last col)
        self.style = {}  # row -> agency / heading / title / header / numbers / table
        self.widths = {}


class Book:
    """A filled form: its visible sheets, the marker, and what the checks must find in it."""

    def __init__(self, pl, heading, *, agency=None, probable=False, fill="own", factor=1.0, nudge=0.0,
                 overrides=None, errors=None, marker=True, sheet_names=None, label=None, title=None,
                 sheet_titles=True, own_copy=False, omit=()):
        """pl: the appendix; heading: the unit named on row 1; agency: the roster code the
        checks take it to be from (the sender, or the guessed agency of a probable sender;
        None for an unknown sender: nothing is required); fill: "own" (the rows the agency
        must fill), "province" (those and the general provincial indicators) or "district"
        (a district's rows, scaled from the province's by `factor`, rates moved by `nudge`);
        overrides: {(row ref, column): value} typed over the figures; errors: like overrides,
        but each a deliberate mistake, given as (value, [(rule, row ref, column)...]) with the
        findings it must cause; own_copy: the agency's own table, without the column numbers
        row, the "Ghi chú" column and the marker; omit: rows left blank."""
        form = FORMS[pl]
        self.pl, self.form_id = pl, form["id"]
        self.marker = f"intake-form:{form['id']}@{form['version']}" if marker and not own_copy else None
        code = agency
        kind = KINDS[agency] if agency else ("district" if fill == "district" else None)
        filler = (code, kind)
        # Which rows are filled: required ones, the general ones, then completed by rule groups.
        rows = {(s["id"], r["id"]) for s in form["sheet"] for r in s["row"] if must_fill(r, *filler)}
        if fill == "province":
            rows |= {ref(form, x) for x in PROVINCE_ROWS[pl]}
        changed = True
        while changed:
            changed = False
            for g in rule_groups(form):
                if any(x in rows for x in g) and not all(x in rows for x in g):
                    rows |= set(g)
                    changed = True
        rows -= {ref(form, x) for x in omit}
        # The figures.
        cols_of = {s["id"]: [c["id"] for c in s["column"]] for s in form["sheet"]}
        master, master_cols = (PROVINCE_2019, Y2019) if pl == "pl3" else (PROVINCE_MID, MID)
        values = {}
        for s in form["sheet"]:
            for r in s["row"]:
                if (s["id"], r["id"]) not in rows:
                    continue
                for c in cols_of[s["id"]]:
                    v = master[r["id"]][master_cols.index(c)]
                    if fill == "district":
                        if r["id"] in SHARE_ROWS:
                            v = district_share(SHARE_ROWS[r["id"]], master_cols.index(c), nudge)
                        elif r["id"] in DISTRICT_ZERO:
                            v = 0
                        else:
                            v = district_value(r, v, factor, nudge)
                    values[(s["id"], r["id"], c)] = v
        # A district's handful (2 cooperatives planned, 3 founded) is not a 30 % miss: its
        # plan for 2018 is what it now expects.
        if fill == "district" and pl != "pl3":
            for (sid, rid, c), v in list(values.items()):
                kh = values.get((sid, rid, "kh2018"))
                if c == "uth2018" and isinstance(v, int) and isinstance(kh, int) and abs(v - kh) > 0.3 * kh:
                    values[(sid, rid, "kh2018")] = v
        # Totals are their parts' sum, and an equality's left side its right side.
        for rule in form.get("rule", []):
            if rule["kind"] == "sum" and isinstance(rule["total"], str):
                t = ref(form, rule["total"])
                for c in cols_of[t[0]]:
                    parts = [values.get(ref(form, p) + (c,)) for p in rule["parts"]]
                    if t + (c,) in values and all(as_number(p) is not None for p in parts):
                        values[t + (c,)] = tidy(sum(as_number(p) for p in parts), 1)
        for rule in form.get("rule", []):
            if rule["kind"] == "equal":
                left, right = ref(form, rule["left"]), ref(form, rule["right"])
                for c in cols_of[left[0]]:
                    if right + (c,) in values:
                        values[left + (c,)] = values[right + (c,)]
        for (rref, c), v in (overrides or {}).items():
            values[ref(form, rref) + (c,)] = v
        designed = []
        for (rref, c), (v, found) in (errors or {}).items():
            values[ref(form, rref) + (c,)] = v
            designed += found
        self.values = values

        # The layout of the blank form (src/core/forms/blank.rs, Layout::of).
        heading_lines = list(form["heading"])
        if label is not None:
            heading_lines[0] = label
        if title is not None:
            heading_lines[1] = title
        title_row = 1 + max(3, len(heading_lines))
        header_row = title_row + 2
        first_row = header_row + (1 if own_copy else 2)
        self.sheets, cell_of = [], {}
        names = sheet_names or [s["name"] for s in form["sheet"]]
        unit = heading if heading.upper().startswith("ĐƠN VỊ") else f"ĐƠN VỊ: {heading}"
        for s, name in zip(form["sheet"], names):
            columns = s["column"]
            headers = ["STT", "Chỉ tiêu", "Đơn vị tính"] + [c["label"] for c in columns]
            if not own_copy:
                headers.append(NOTE_HEADER)
            vs = VisibleSheet(name, len(headers))
            last = len(headers) - 1
            vs.cells[(0, 0)] = unit
            vs.style[0] = "agency"
            for i, line in enumerate(heading_lines):
                vs.cells[(1 + i, 0)] = line or None
                vs.merges.append((1 + i, 0, last))
                vs.style[1 + i] = "heading"
            if sheet_titles and s.get("title"):
                vs.cells[(title_row, 0)] = s["title"]
                vs.merges.append((title_row, 0, last))
                vs.style[title_row] = "title"
            for c, text in enumerate(headers):
                vs.cells[(header_row, c)] = text
                if not own_copy:
                    vs.cells[(header_row + 1, c)] = f"({c + 1})"
            vs.style[header_row] = "header"
            if not own_copy:
                vs.style[header_row + 1] = "numbers"
            for i, r in enumerate(s["row"]):
                at = first_row + i
                vs.style[at] = "table"
                vs.cells[(at, 0)] = r["code"]
                vs.cells[(at, 1)] = r["label"]
                vs.cells[(at, 2)] = r.get("unit") or None
                for j, c in enumerate(columns):
                    key = (s["id"], r["id"], c["id"])
                    cell_of[key] = a1(at, 3 + j)
                    v = values.get(key)
                    vs.cells[(at, 3 + j)] = vn_number(v[1]) if isinstance(v, tuple) else v
                if not own_copy:
                    note = REQUIRED_NOTE if agency and must_fill(r, code, kind) else None
                    vs.cells[(at, last)] = note
            vs.widths = {0: 7, 1: 55, 2: 13, **{c: 12 for c in range(3, last)}, last: 13}
            self.sheets.append(vs)

        # What the checks must find: the deliberate mistakes, and nothing else.
        self.findings = []
        for rule, rref, c in designed:
            self.findings.append(f"{rule}@{cell_of[ref(form, rref) + (c,)]}" if rref else rule)
        found = design_check(form, values, cell_of, code if agency else None, KINDS.get(agency))
        got = [f"{r}@{cell}" for r, _, cell in found]
        assert got == self.findings, (self.form_id, heading, got, self.findings)
        self.valid = not any(sev == "error" for _, sev, _ in found)


# ---------------------------------------------------------------------------------------
# Workbook writers
# ---------------------------------------------------------------------------------------

ZIP_DT = (2018, 7, 1, 0, 0, 0)


class FixedTimeZipFile(zipfile.ZipFile):
    """A ZipFile whose entries written by name all carry one fixed timestamp."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            zi = zipfile.ZipInfo(zinfo_or_arcname, ZIP_DT)
            zi.compress_type = self.compression
            zi.external_attr = 0o600 << 16
            zinfo_or_arcname = zi
        return super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as f:
            data = f.read()
        return self.writestr(arcname or Path(filename).name, data)


def xlsx_openpyxl(book, empty=False):
    wb = openpyxl.Workbook()
    if not empty:
        fonts = {
            "agency": Font(name="Times New Roman", bold=True, size=12),
            "heading": Font(name="Times New Roman", bold=True, size=12),
            "title": Font(name="Times New Roman", italic=True, size=12),
            "header": Font(name="Times New Roman", bold=True, size=12),
            "numbers": Font(name="Times New Roman", italic=True, size=12),
        }
        centred = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for i, vs in enumerate(book.sheets):
            ws = wb.active if i == 0 else wb.create_sheet()
            ws.title = vs.name
            for (r, c), v in sorted(vs.cells.items()):
                if v is not None:
                    ws.cell(row=r + 1, column=c + 1, value=v)
            for r, c1, c2 in vs.merges:
                ws.merge_cells(start_row=r + 1, start_column=c1 + 1, end_row=r + 1, end_column=c2 + 1)
            for r, style in vs.style.items():
                if style in fonts:
                    for c in range(vs.ncol if style in ("header", "numbers") else 1):
                        cell = ws.cell(row=r + 1, column=c + 1)
                        cell.font = fonts[style]
                        if style != "agency":
                            cell.alignment = centred
            for c, w in vs.widths.items():
                ws.column_dimensions[get_column_letter(c + 1)].width = w
        if book.marker:
            m = wb.create_sheet("_intake")
            m["A1"] = book.marker
            m["A2"] = MARKER_NOTE
            m.sheet_state = "hidden"
    wb.properties.created = DOC_CREATED
    wb.properties.modified = DOC_CREATED
    wb.properties.creator = "SKHDT Lang Son"
    buf = io.BytesIO()
    archive = FixedTimeZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return buf.getvalue()


def xlsx_xlsxwriter(book):
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": DOC_CREATED, "author": "SKHDT Lang Son"})
    base = {"font_name": "Times New Roman", "font_size": 12}
    fmt = {
        "agency": wb.add_format({**base, "bold": True}),
        "heading": wb.add_format({**base, "bold": True, "align": "center", "valign": "vcenter", "text_wrap": True}),
        "title": wb.add_format({**base, "italic": True, "align": "center"}),
        "header": wb.add_format({**base, "bold": True, "align": "center", "valign": "vcenter", "text_wrap": True,
                                 "border": 1}),
        "numbers": wb.add_format({**base, "italic": True, "align": "center", "border": 1}),
        "table": wb.add_format({**base, "border": 1}),
    }
    f_num = wb.add_format({**base, "border": 1, "num_format": "#,##0.00"})
    for vs in book.sheets:
        ws = wb.add_worksheet(vs.name)
        merged = set()
        for r, c1, c2 in vs.merges:
            ws.merge_range(r, c1, r, c2, vs.cells.get((r, c1)) or "", fmt[vs.style[r]])
            merged |= {(r, c) for c in range(c1, c2 + 1)}
        for (r, c), v in sorted(vs.cells.items()):
            if (r, c) in merged:
                continue
            f = fmt[vs.style.get(r, "table")]
            if v is None:
                ws.write_blank(r, c, None, f)
            elif isinstance(v, (int, float)):
                ws.write_number(r, c, v, f_num)
            else:
                ws.write_string(r, c, v, f)
        for c, w in vs.widths.items():
            ws.set_column(c, c, w)
    if book.marker:
        m = wb.add_worksheet("_intake")
        m.write_string(0, 0, book.marker)
        m.write_string(1, 0, MARKER_NOTE)
        m.hide()
    wb.close()
    return buf.getvalue()


def xls_xlwt(book):
    wb = xlwt.Workbook(encoding="utf-8")
    styles = {
        "agency": xlwt.easyxf("font: name Times New Roman, bold on, height 240"),
        "heading": xlwt.easyxf("font: name Times New Roman, bold on, height 240; align: horiz center, wrap on"),
        "title": xlwt.easyxf("font: name Times New Roman, italic on; align: horiz center"),
        "header": xlwt.easyxf("font: name Times New Roman, bold on; align: horiz center, vert center, wrap on;"
                              " borders: left thin, right thin, top thin, bottom thin"),
        "numbers": xlwt.easyxf("font: name Times New Roman, italic on; align: horiz center;"
                               " borders: left thin, right thin, top thin, bottom thin"),
        "table": xlwt.easyxf("font: name Times New Roman; borders: left thin, right thin, top thin, bottom thin"),
    }
    for vs in book.sheets:
        ws = wb.add_sheet(vs.name)
        merged = set()
        for r, c1, c2 in vs.merges:
            ws.write_merge(r, r, c1, c2, vs.cells.get((r, c1)), styles[vs.style[r]])
            merged |= {(r, c) for c in range(c1, c2 + 1)}
        for (r, c), v in sorted(vs.cells.items()):
            if (r, c) not in merged:
                ws.write(r, c, v, styles[vs.style.get(r, "table")])
        for c, w in vs.widths.items():
            ws.col(c).width = w * 256
    if book.marker:
        m = wb.add_sheet("_intake")
        m.write(0, 0, book.marker)
        m.write(1, 0, MARKER_NOTE)
        m.visibility = 1  # hidden
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class _FixedTime:
    """Stands in for the time module inside odfpy while it saves (fixed zip timestamps)."""

    @staticmethod
    def localtime(*_):
        return time.struct_time(ZIP_DT + (0, 182, 0))

    def __getattr__(self, name):
        return getattr(time, name)


def ods_odfpy(book):
    doc = OpenDocumentSpreadsheet()
    ta_vis = Style(name="ta1", family="table")
    ta_vis.addElement(TableProperties(display="true"))
    ta_hid = Style(name="ta2", family="table")
    ta_hid.addElement(TableProperties(display="false"))
    co_b = Style(name="co1", family="table-column")
    co_b.addElement(TableColumnProperties(columnwidth="9cm"))
    bold = Style(name="ce1", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    for s in (ta_vis, ta_hid, co_b, bold):
        doc.automaticstyles.addElement(s)
    for vs in book.sheets:
        t = Table(name=vs.name, stylename=ta_vis)
        t.addElement(TableColumn())
        t.addElement(TableColumn(stylename=co_b))
        t.addElement(TableColumn(numbercolumnsrepeated=vs.ncol - 2))
        last_row = max(r for r, _ in vs.cells)
        for r in range(last_row + 1):
            tr = TableRow()
            kw = {"stylename": bold} if vs.style.get(r) in ("agency", "heading", "header") else {}
            cols = [c for (rr, c) in vs.cells if rr == r and vs.cells[(rr, c)] is not None]
            for c in range(max(cols) + 1 if cols else 1):
                v = vs.cells.get((r, c))
                if v is None:
                    tc = TableCell()
                elif isinstance(v, (int, float)):
                    tc = TableCell(valuetype="float", value=v, **kw)
                    tc.addElement(P(text=str(v)))
                else:
                    tc = TableCell(valuetype="string", **kw)
                    tc.addElement(P(text=v))
                tr.addElement(tc)
            t.addElement(tr)
        doc.spreadsheet.addElement(t)
    if book.marker:
        m = Table(name="_intake", stylename=ta_hid)
        for text in (book.marker, MARKER_NOTE):
            tr = TableRow()
            tc = TableCell(valuetype="string")
            tc.addElement(P(text=text))
            tr.addElement(tc)
            m.addElement(tr)
        doc.spreadsheet.addElement(m)
    buf = io.BytesIO()
    saved = odf.opendocument.time
    odf.opendocument.time = _FixedTime()
    try:
        doc.write(buf)
    finally:
        odf.opendocument.time = saved
    return buf.getvalue()


def encrypt_xlsx(plain, password="123456"):
    """Agile-encrypt an xlsx the way Office does; salts from a fixed seed."""
    counter = [0]

    def fixed_random(size):
        out = b""
        while len(out) < size:
            counter[0] += 1
            out += hashlib.sha256(b"intake-fixture-salt-%d" % counter[0]).digest()
        return out[:size]

    class FixedNow(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2018, 7, 9, 8, 0, 0)

    saved = ecma376_agile._random_buffer, ecma376_encrypted.datetime
    ecma376_agile._random_buffer = fixed_random
    ecma376_encrypted.datetime = FixedNow  # the compound file's directory timestamps
    try:
        out = io.BytesIO()
        msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    finally:
        ecma376_agile._random_buffer, ecma376_encrypted.datetime = saved
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------


def make_zip(entries, when=ZIP_DT):
    """entries: (name, bytes, deflate?) in order; fixed timestamps, UTF-8 names flagged."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, deflate in entries:
            zi = zipfile.ZipInfo(name, when)
            zi.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            zi.external_attr = 0o644 << 16
            zi.create_system = 0
            z.writestr(zi, data)
    return buf.getvalue()


def docx(title, paragraphs):
    """A minimal valid WordprocessingML package."""
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
          '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
          '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '</Relationships>')
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{html.escape(title)}</dc:title>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2018-07-02T08:00:00Z</dcterms:created>'
            '<dcterms:modified xsi:type="dcterms:W3CDTF">2018-07-02T08:00:00Z</dcterms:modified>'
            '</cp:coreProperties>')

    def para(text, bold=False, center=False):
        ppr = '<w:pPr><w:jc w:val="center"/></w:pPr>' if center else ""
        rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
        return f'<w:p>{ppr}<w:r>{rpr}<w:t xml:space="preserve">{html.escape(text)}</w:t></w:r></w:p>'

    body = [para("BÁO CÁO", True, True), para(title, True, True)]
    body += [para(p) for p in paragraphs]
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                '<w:body>' + "".join(body) +
                '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
                '<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1701" w:header="720" w:footer="720" w:gutter="0"/>'
                '</w:sectPr></w:body></w:document>')
    return make_zip([
        ("[Content_Types].xml", ct.encode(), True),
        ("_rels/.rels", rels.encode(), True),
        ("docProps/core.xml", core.encode(), True),
        ("word/document.xml", document.encode(), True),
    ], (2018, 7, 2, 8, 0, 0))


def odt(title, paragraphs):
    """A minimal valid ODF text package, mimetype stored first."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    styles = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {ns} office:version="1.2">'
              '<office:styles><style:style style:name="Standard" style:family="paragraph"/></office:styles>'
              '</office:document-styles>')
    meta = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta {ns} office:version="1.2">'
            f'<office:meta><dc:title>{html.escape(title)}</dc:title>'
            '<meta:creation-date>2018-07-08T15:00:00</meta:creation-date>'
            '<dc:date>2018-07-08T15:00:00</dc:date></office:meta></office:document-meta>')
    paras = [f'<text:p text:style-name="P1">BÁO CÁO</text:p>',
             f'<text:p text:style-name="P1">{html.escape(title)}</text:p>']
    paras += [f'<text:p text:style-name="Standard">{html.escape(p)}</text:p>' for p in paragraphs]
    content = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ns} office:version="1.2">'
               '<office:automatic-styles><style:style style:name="P1" style:family="paragraph">'
               '<style:paragraph-properties fo:text-align="center"/><style:text-properties fo:font-weight="bold"/>'
               '</style:style></office:automatic-styles>'
               '<office:body><office:text>' + "".join(paras) + '</office:text></office:body></office:document-content>')
    return make_zip([
        ("mimetype", b"application/vnd.oasis.opendocument.text", False),
        ("META-INF/manifest.xml", manifest.encode(), True),
        ("styles.xml", styles.encode(), True),
        ("meta.xml", meta.encode(), True),
        ("content.xml", content.encode(), True),
    ], (2018, 7, 8, 15, 0, 0))


def pdf(title, lines):
    """A small valid PDF 1.4 with one page of text (the Info title in UTF-16)."""
    def esc(s):
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    ops = ["BT", "/F1 13 Tf", "72 770 Td", "16 TL"]
    for i, line in enumerate(lines):
        ops.append(f"({esc(line)}) {'Tj' if i == 0 else chr(39)}")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    title_hex = (b"\xfe\xff" + title.encode("utf-16-be")).hex().upper()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title <" + title_hex.encode() + b"> /CreationDate (D:20180703140000+07'00') >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


DOC_TEXT = {
    "pl1": ("Đánh giá giữa kỳ thực hiện kế hoạch phát triển kinh tế - xã hội giai đoạn 2016 - 2020",
            ["Thực hiện Công văn số 742/SKHĐT-THQH ngày 29/6/2018 của Sở Kế hoạch và Đầu tư, đơn vị báo cáo "
             "đánh giá giữa kỳ tình hình thực hiện kế hoạch phát triển kinh tế - xã hội 5 năm 2016 - 2020 như sau:",
             "I. Kết quả thực hiện các chỉ tiêu chủ yếu giai đoạn 2016 - 2018: phần lớn các chỉ tiêu đạt và "
             "vượt kế hoạch; chi tiết tại biểu Phụ lục I kèm theo.",
             "II. Khó khăn, hạn chế và nguyên nhân.",
             "III. Giải pháp thực hiện kế hoạch những năm còn lại của giai đoạn."]),
    "pl2": ("Đánh giá giữa kỳ thực hiện kế hoạch cơ cấu lại nền kinh tế giai đoạn 2016 - 2020",
            ["Thực hiện Công văn số 742/SKHĐT-THQH ngày 29/6/2018 của Sở Kế hoạch và Đầu tư, đơn vị báo cáo "
             "kết quả thực hiện cơ cấu lại nền kinh tế gắn với đổi mới mô hình tăng trưởng giai đoạn 2016 - 2018.",
             "Năng suất lao động tiếp tục tăng; cơ cấu lao động chuyển dịch đúng hướng; chi tiết tại Phụ lục II.",
             "Đề xuất, kiến nghị."]),
    "pl3": ("Kế hoạch phát triển kinh tế - xã hội năm 2019",
            ["Thực hiện Công văn số 742/SKHĐT-THQH ngày 29/6/2018 của Sở Kế hoạch và Đầu tư, đơn vị báo cáo "
             "ước thực hiện năm 2018 và dự kiến kế hoạch phát triển kinh tế - xã hội năm 2019.",
             "Mục tiêu, chỉ tiêu chủ yếu năm 2019: chi tiết tại biểu Phụ lục III kèm theo.",
             "Các nhiệm vụ, giải pháp chủ yếu."]),
}

PDF_TEXT = {
    "pl1": ["BAO CAO", "Danh gia giua ky thuc hien ke hoach phat trien kinh te - xa hoi",
            "giai doan 2016 - 2020", "(Kem theo bieu Phu luc I)"],
    "pl3": ["BAO CAO", "Ke hoach phat trien kinh te - xa hoi nam 2019",
            "Uoc thuc hien nam 2018 va du kien ke hoach nam 2019", "(Kem theo bieu Phu luc III)"],
}


def report_docx(pl, unit):
    title, paras = DOC_TEXT[pl]
    return docx(title, [f"Đơn vị: {unit}."] + paras)


def report_odt(pl, unit):
    title, paras = DOC_TEXT[pl]
    return odt(title, [f"Đơn vị: {unit}."] + paras)


def report_pdf(pl):
    return pdf(DOC_TEXT[pl][0], PDF_TEXT[pl])


# ---------------------------------------------------------------------------------------
# MIME assembly
# ---------------------------------------------------------------------------------------


class Leaf:
    def __init__(self, headers, body):
        self.headers, self.body = headers, body


class Multi:
    def __init__(self, headers, boundary, parts, preamble="", epilogue=""):
        self.headers, self.boundary, self.parts = headers, boundary, parts
        self.preamble, self.epilogue = preamble, epilogue


def render(node):
    out = CRLF.join(node.headers).encode("utf-8") + b"\r\n\r\n"
    if isinstance(node, Leaf):
        return out + node.body
    b = node.boundary.encode()
    if node.preamble:
        out += node.preamble.encode() + b"\r\n"
    for p in node.parts:
        out += b"\r\n--" + b + b"\r\n" + render(p)
    out += b"\r\n--" + b + b"--\r\n"
    if node.epilogue:
        out += node.epilogue.encode() + b"\r\n"
    return out


def b64_body(data, width=76):
    s = base64.b64encode(data).decode()
    return (CRLF.join(s[i:i + width] for i in range(0, len(s), width)) + CRLF).encode()


def qp_body(text):
    raw = text.replace("\r\n", "\n").encode("utf-8")
    enc = quopri.encodestring(raw).decode("ascii")
    return enc.replace("\n", CRLF).encode()


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", CRLF).encode("utf-8")


def flowed(text, width=72):
    """format=flowed (RFC 3676): long lines broken after a space, the space kept."""
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        while len(line) > width:
            cut = line.rfind(" ", 0, width)
            if cut <= 0:
                break
            out.append(line[:cut + 1])
            line = line[cut + 1:]
        out.append(line)
    return crlf("\n".join(out))


def is_ascii(s):
    return all(ord(c) < 128 for c in s)


def _chunks(text, max_bytes):
    out, cur = [], ""
    for ch in text:
        if len((cur + ch).encode("utf-8")) > max_bytes:
            out.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def ew_b(text, charset="utf-8", max_bytes=45):
    """RFC 2047 B encoded words (never splitting a character)."""
    if max_bytes is None:
        return [f"=?{charset}?B?{base64.b64encode(text.encode()).decode()}?="]
    return [f"=?{charset}?B?{base64.b64encode(c.encode()).decode()}?=" for c in _chunks(text, max_bytes)]


def ew_q(text, charset="UTF-8", max_bytes=20):
    def q(c):
        out = ""
        for byte in c.encode("utf-8"):
            ch = chr(byte)
            if ch == " ":
                out += "_"
            elif ch.isalnum() and byte < 128 or ch in "!*+-/":
                out += ch
            else:
                out += f"={byte:02X}"
        return out
    return [f"=?{charset}?Q?{q(c)}?=" for c in _chunks(text, max_bytes)]


def pct(text):
    return urllib.parse.quote(text.encode("utf-8"), safe="-_.~!")


def rfc2231(text, charset="utf-8"):
    return f"{charset}''{pct(text)}"


def rfc2231_continuations(param, text, charset="utf-8", width=48):
    """['filename*0*=utf-8''...', 'filename*1*=...'] with no %XX split."""
    parts, cur = [], ""
    for ch in text:  # segments end on character boundaries, as the clients write them
        e = pct(ch)
        if cur and len(cur) + len(e) > width:
            parts.append(cur)
            cur = ""
        cur += e
    if cur:
        parts.append(cur)
    if len(parts) == 1:
        return [f"{param}*={charset}''{parts[0]}"]
    return [f"{param}*{n}*={charset + chr(39) * 2 if n == 0 else ''}{p}" for n, p in enumerate(parts)]


def enc_subject(text, style):
    if is_ascii(text):
        return text
    if style == "q":
        words = ew_q(text)
    elif style == "B":
        words = ew_b(text, "UTF-8")
    else:
        words = ew_b(text, "utf-8")
    return "\r\n ".join(words)


def addr(name, address, style="b"):
    if not name:
        return f"<{address}>" if style == "angle" else address
    if is_ascii(name):
        return f'"{name}" <{address}>' if re.search(r"[(),.:;<>@\[\]\\\"]", name) else f"{name} <{address}>"
    words = ew_b(name, "UTF-8" if style == "B" else "utf-8") if style in ("b", "B") else ew_q(name)
    return " ".join(words) + f" <{address}>"


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def rfc_date(d):
    """'Mon, 2 Jul 2018 08:47:09 +0700', independent of the locale."""
    off = d.utcoffset()
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    mins = abs(mins)
    return (f"{DAYS[d.weekday()]}, {d.day} {MONTHS[d.month - 1]} {d.year} "
            f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} {sign}{mins // 60:02d}{mins % 60:02d}")


def html_paragraphs(text, wrap):
    paras = text.strip("\n").split("\n")
    return "".join(wrap.format(html.escape(p) if p else "&nbsp;") for p in paras)


def mx_received(name, when, helo="mail.langson.example", ip="192.0.2.10"):
    return (f"Received: from {helo} ({helo} [{ip}])\r\n"
            f"\tby mx.skhdt.langson.example with ESMTPS id {h('mx' + name, 10).upper()};\r\n"
            f"\t{rfc_date(when)}")


class Att:
    """An attachment: file name as the sender's client shows it, bytes, MIME type."""

    def __init__(self, name, data, ctype=None, nfd=False):
        self.name = unicodedata.normalize("NFD", name) if nfd else name
        self.data = data
        ext = name.rsplit(".", 1)[-1].lower()
        self.ctype = ctype or MIME.get(ext, "application/octet-stream")


# Client shapes -------------------------------------------------------------------------


def outlook_att(a, mode="normal"):
    hs = []
    if mode == "octet":
        hs.append(f'Content-Type: application/octet-stream;\r\n\tname="{a.name}"')
        hs.append("Content-Transfer-Encoding: base64")
        hs.append("Content-Disposition: attachment")
        return Leaf(hs, b64_body(a.data))
    if mode == "rfc2231-only":
        hs.append(f"Content-Type: {a.ctype}")
        hs.append("Content-Transfer-Encoding: base64")
        hs.append(f"Content-Disposition: attachment;\r\n\tfilename*={rfc2231(a.name)}")
        return Leaf(hs, b64_body(a.data))
    if is_ascii(a.name):
        hs.append(f'Content-Type: {a.ctype};\r\n\tname="{a.name}"')
        hs.append("Content-Transfer-Encoding: base64")
        hs.append(f'Content-Disposition: attachment;\r\n\tfilename="{a.name}"')
    else:
        ew = ew_b(a.name, max_bytes=None)[0]
        hs.append(f'Content-Type: {a.ctype};\r\n\tname="{ew}"')
        hs.append("Content-Transfer-Encoding: base64")
        hs.append(f'Content-Disposition: attachment;\r\n\tfilename="{ew}";\r\n\tfilename*={rfc2231(a.name)}')
    return Leaf(hs, b64_body(a.data))


def outlook_message(m):
    """Outlook 16: multipart/mixed > multipart/alternative (text, html) + attachments."""
    seed = m["name"]
    t = m["date"]
    filetime = h(seed + "ft", 8).upper()
    b0 = f"----=_NextPart_000_{h(seed + 'b0', 4).upper()}_01D4{filetime[:4]}.{filetime}"
    b1 = f"----=_NextPart_001_{h(seed + 'b1', 4).upper()}_01D4{filetime[:4]}.{filetime}"
    msgid = m.get("message_id") or f"<000{h(seed + 'id', 1)}01d4{h(seed, 4)}${h(seed + 'a', 8)}${h(seed + 'b', 8)}$@langson.example>"
    text = m["body"]
    html_doc = ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
                'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns="http://www.w3.org/TR/REC-html40">'
                '<head><meta http-equiv=Content-Type content="text/html; charset=utf-8">'
                '<style><!-- p.MsoNormal {margin:0cm; font-size:12.0pt; font-family:"Times New Roman",serif;} --></style>'
                '</head><body lang=EN-US link="#0563C1" vlink="#954F72"><div class=WordSection1>'
                + html_paragraphs(text, "<p class=MsoNormal>{}<o:p></o:p></p>") + "</div></body></html>\n")
    alt = Multi([f'Content-Type: multipart/alternative;\r\n\tboundary="{b1}"'], b1, [
        Leaf(['Content-Type: text/plain;\r\n\tcharset="utf-8"', "Content-Transfer-Encoding: quoted-printable"],
             qp_body(text)),
        Leaf(['Content-Type: text/html;\r\n\tcharset="utf-8"', "Content-Transfer-Encoding: quoted-printable"],
             qp_body(html_doc)),
    ])
    hs = m.get("received", [])[:]
    hs.append(f"Received: from {m.get('pc', 'PC-KHTC')} (unknown [{m.get('client_ip', '192.0.2.77')}])\r\n"
              f"\tby mail.langson.example with ESMTPSA id {h(seed + 'r2', 8).upper()};\r\n"
              f"\t{rfc_date(t)}")
    hs.append(f"From: {m['from']}")
    for k, key in (("Sender", "sender"), ("Reply-To", "reply_to")):
        if m.get(key):
            hs.append(f"{k}: {m[key]}")
    hs.append(f"To: {m.get('to', '<' + DEPT + '>')}")
    if m.get("cc"):
        hs.append(f"Cc: {m['cc']}")
    hs += m.get("extra_top", [])
    hs.append(f"Subject: {enc_subject(m['subject'], 'b')}")
    hs.append(f"Date: {rfc_date(t)}")
    hs.append(f"Message-ID: {msgid}")
    hs += m.get("extra", [])
    hs.append("MIME-Version: 1.0")
    if not m.get("atts"):
        hs.append(f'Content-Type: multipart/alternative;\r\n\tboundary="{b1}"')
    else:
        hs.append(f'Content-Type: multipart/mixed;\r\n\tboundary="{b0}"')
    hs.append("X-Mailer: Microsoft Outlook 16.0")
    hs.append(f"Thread-Index: {base64.b64encode(bytes.fromhex(h(seed + 'ti', 44))).decode()}")
    hs.append("Content-Language: vi")
    preamble = "This is a multi-part message in MIME format."
    if not m.get("atts"):
        alt.headers = hs
        alt.preamble = preamble
        return alt
    parts = [alt] + [outlook_att(a, m.get("att_mode", "normal")) for a in m["atts"]]
    return Multi(hs, b0, parts, preamble)


def gmail_att(a, seed, i):
    aid = f"f_j{h(seed + str(i), 7)}{i}"
    if is_ascii(a.name):
        n = f'"{a.name}"'
    else:
        n = '"' + ew_b(a.name, "UTF-8", None)[0] + '"'
    return Leaf([f"Content-Type: {a.ctype}; \r\n\tname={n}",
                 f"Content-Disposition: attachment; \r\n\tfilename={n}",
                 "Content-Transfer-Encoding: base64",
                 f"Content-ID: <{aid}>",
                 f"X-Attachment-Id: {aid}"], b64_body(a.data))


def gmail_message(m):
    seed = m["name"]
    t = m["date"]
    b_mixed = "000000000000" + h(seed + "m", 16)
    b_alt = "000000000000" + h(seed + "a", 16)
    gid = base64.b64encode(bytes.fromhex(h(seed + "g", 48))).decode().replace("/", "_").replace("+", "-")
    msgid = m.get("message_id") or f"<CA{gid}@mail.gmail.example>"
    text = m["body"]
    html_doc = '<div dir="ltr">' + html_paragraphs(text, "<div>{}</div>") + "</div>\r\n"
    alt = Multi([f'Content-Type: multipart/alternative; boundary="{b_alt}"'], b_alt, [
        Leaf(['Content-Type: text/plain; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable"],
             qp_body(text)),
        Leaf(['Content-Type: text/html; charset="UTF-8"', "Content-Transfer-Encoding: quoted-printable"],
             qp_body(html_doc)),
    ])
    hs = m.get("received", [])[:]
    hs.append(f"Received: by mail-sor-f{41 + len(seed) % 20}.gmail.example with SMTP id "
              f"{h(seed + 'r', 12)}sor{h(seed + 'r3', 6)};\r\n        {rfc_date(t)}")
    hs.append("MIME-Version: 1.0")
    if m.get("reply_to"):
        hs.append(f"Reply-To: {m['reply_to']}")
    if m.get("sender"):
        hs.append(f"Sender: {m['sender']}")
    hs.append(f"From: {m['from']}")
    hs.append(f"Date: {rfc_date(t)}")
    hs.append(f"Message-ID: {msgid}")
    hs.append(f"Subject: {enc_subject(m['subject'], 'B')}")
    hs.append(f"To: {m.get('to', DEPT)}")
    if m.get("cc"):
        hs.append(f"Cc: {m['cc']}")
    hs += m.get("extra", [])
    if not m.get("atts"):
        alt.headers = hs + [f'Content-Type: multipart/alternative; boundary="{b_alt}"']
        return alt
    hs.append(f'Content-Type: multipart/mixed; boundary="{b_mixed}"')
    parts = [alt] + [gmail_att(a, seed, i) for i, a in enumerate(m["atts"])]
    return Multi(hs, b_mixed, parts)


def thunderbird_att(a):
    if is_ascii(a.name):
        return Leaf([f'Content-Type: {a.ctype};\r\n name="{a.name}"',
                     "Content-Transfer-Encoding: base64",
                     f'Content-Disposition: attachment;\r\n filename="{a.name}"'], b64_body(a.data, 72))
    name_q = "\r\n ".join(ew_q(a.name))
    conts = ";\r\n ".join(rfc2231_continuations("filename", a.name))
    return Leaf([f'Content-Type: {a.ctype};\r\n name="{name_q}"',
                 "Content-Transfer-Encoding: base64",
                 f"Content-Disposition: attachment;\r\n {conts}"], b64_body(a.data, 72))


def thunderbird_message(m, inner=None):
    seed = m["name"]
    t = m["date"]
    boundary = "------------" + h(seed + "tb", 24).upper()
    msgid = m.get("message_id") or f"<{duuid(seed)}@langson.example>"
    hs = m.get("received", [])[:]
    hs.append(f"Received: from [192.0.2.{60 + len(seed) % 50}] (unknown [192.0.2.{60 + len(seed) % 50}])\r\n"
              f"\tby mail.langson.example with ESMTPSA id {h(seed + 'r2', 8).upper()};\r\n\t{rfc_date(t)}")
    hs.append(f"To: {m.get('to', DEPT)}")
    if m.get("cc"):
        hs.append(f"Cc: {m['cc']}")
    hs.append(f"From: {m['from']}")
    hs.append(f"Subject: {enc_subject(m['subject'], 'q')}")
    hs.append(f"Message-ID: {msgid}")
    hs.append(f"Date: {rfc_date(t)}")
    hs += m.get("extra", [])
    hs.append("User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:52.0) Gecko/20100101\r\n"
              " Thunderbird/52.9.1")
    hs.append("MIME-Version: 1.0")
    text_leaf = Leaf(["Content-Type: text/plain; charset=utf-8; format=flowed",
                      "Content-Transfer-Encoding: 8bit"], flowed(m["body"]))
    parts = [text_leaf]
    if inner is not None:
        fname = m["inner_filename"]
        parts.append(Leaf([f'Content-Type: message/rfc822;\r\n name="{(chr(13) + chr(10) + " ").join(ew_q(fname))}"',
                           "Content-Transfer-Encoding: 8bit",
                           f"Content-Disposition: attachment;\r\n " +
                           ";\r\n ".join(rfc2231_continuations("filename", fname))], inner))
    parts += [thunderbird_att(a) for a in m.get("atts", [])]
    if len(parts) == 1:
        text_leaf.headers = hs + text_leaf.headers + ["Content-Language: vi"]
        return text_leaf
    hs.append(f'Content-Type: multipart/mixed;\r\n boundary="{boundary}"')
    hs.append("Content-Language: vi")
    return Multi(hs, boundary, parts, "This is a multi-part message in MIME format.")


def apple_message(m):
    """Apple Mail: multipart/mixed, text parts around inline attachments, NFD names."""
    seed = m["name"]
    t = m["date"]
    boundary = f"Apple-Mail={'_'}{str(duuid(seed + 'b')).upper()}"
    msgid = m.get("message_id") or f"<{str(duuid(seed)).upper()}@langson.example>"
    hs = m.get("received", [])[:]
    hs.append(f"Received: from [192.0.2.{120 + len(seed) % 50}] (unknown [192.0.2.{120 + len(seed) % 50}])\r\n"
              f"\tby mail.langson.example with ESMTPSA id {h(seed + 'r2', 8).upper()};\r\n\t{rfc_date(t)}")
    hs.append(f"From: {m['from']}")
    hs.append(f'Content-Type: multipart/mixed;\r\n\tboundary="{boundary}"')
    hs.append("Mime-Version: 1.0 (Mac OS X Mail 11.4 \\(3445.8.2\\))")
    hs.append(f"Subject: {enc_subject(m['subject'], 'q')}")
    hs.append(f"Date: {rfc_date(t)}")
    hs.append(f"Message-Id: {msgid}")
    hs.append(f"To: {m.get('to', DEPT)}")
    hs.append("X-Mailer: Apple Mail (2.3445.8.2)")

    def text(s):
        return Leaf(["Content-Transfer-Encoding: quoted-printable",
                     "Content-Type: text/plain;\r\n\tcharset=utf-8"], qp_body(s))

    parts = [text(m["body"])]
    for a in m["atts"]:
        nm = a.name
        if is_ascii(nm):
            q = nm if re.fullmatch(r"[A-Za-z0-9._-]+", nm) else f'"{nm}"'
            disp = f"Content-Disposition: {m.get('disposition', 'inline')};\r\n\tfilename={q}"
            ctn = f"\tname={q}"
        else:
            disp = (f"Content-Disposition: {m.get('disposition', 'inline')};\r\n\t"
                    + ";\r\n\t".join(rfc2231_continuations("filename", nm, width=60)))
            ctn = '\tname="' + " ".join(ew_q(nm, "utf-8", 40)) + '"'
        parts.append(Leaf([disp, f"Content-Type: {a.ctype};\r\n\tx-unix-mode=0644;\r\n{ctn}",
                           "Content-Transfer-Encoding: base64"], b64_body(a.data)))
        parts.append(text("\n"))
    parts[-1] = text(m.get("signature", "\n"))
    return Multi(hs, boundary, parts)


def zimbra_att(a):
    if is_ascii(a.name):
        n = a.name if " " not in a.name else f'"{a.name}"'
    else:
        n = '"' + ew_b(a.name, "utf-8", None)[0] + '"'
    return Leaf([f"Content-Type: {a.ctype}; name={n}",
                 f"Content-Disposition: attachment; filename={n}",
                 "Content-Transfer-Encoding: base64"], b64_body(a.data))


def zimbra_message(m, mailer=True):
    """Zimbra web client (mailer=True), or a plain Java webmail of the same shape."""
    seed = m["name"]
    t = m["date"]
    n1, n2 = int(h(seed + "n1", 5), 16), int(h(seed + "n2", 3), 16)
    ts = int(t.timestamp()) * 1000 + int(h(seed + "ms", 3), 16) % 1000
    b_mixed = f"----=_Part_{n2}_{n1}.{ts}"
    b_alt = f"----=_Part_{n2 + 1}_{n1 + 7}.{ts}"
    host = "langson.example" if mailer else "yahoo.example"
    msgid = m.get("message_id") or f"<{n1}.{n2}.{ts}.JavaMail.{'zimbra' if mailer else 'webmail'}@{host}>"
    text = m["body"]
    html_doc = ('<html><body><div style="font-family: times new roman, new york, times, serif; font-size: 12pt; '
                'color: #000000">' + html_paragraphs(text, "<div>{}</div>") + "</div></body></html>")
    alt = Multi([f'Content-Type: multipart/alternative; \r\n\tboundary="{b_alt}"'], b_alt, [
        Leaf(["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"],
             qp_body(text)),
        Leaf(["Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"],
             qp_body(html_doc)),
    ])
    hs = m.get("received", [])[:]
    if mailer:
        hs.append(f"Received: from mail.langson.example (localhost [127.0.0.1])\r\n"
                  f"\tby mail.langson.example with ESMTP id {h(seed + 'r2', 8).upper()};\r\n\t{rfc_date(t)}")
    else:
        hs.append(f"Received: from web{200 + len(seed) % 50}.mail.yahoo.example (web{200 + len(seed) % 50}"
                  f".mail.yahoo.example [203.0.113.{20 + len(seed) % 50}])\r\n"
                  f"\tby mail.yahoo.example with HTTP id {h(seed + 'r2', 8).upper()};\r\n\t{rfc_date(t)}")
    hs.append(f"Date: {rfc_date(t)}{' (ICT)' if mailer else ''}")
    hs.append(f"From: {m['from']}")
    if m.get("reply_to"):
        hs.append(f"Reply-To: {m['reply_to']}")
    hs.append(f"To: {m.get('to', DEPT)}")
    if m.get("cc"):
        hs.append(f"Cc: {m['cc']}")
    hs.append(f"Message-ID: {msgid}")
    hs.append(f"Subject: {enc_subject(m['subject'], 'b')}")
    hs.append("MIME-Version: 1.0")
    hs.append(f'Content-Type: multipart/mixed; \r\n\tboundary="{b_mixed}"')
    hs += m.get("extra", [])
    if mailer:
        hs.append(f"X-Originating-IP: [192.0.2.{30 + len(seed) % 50}]")
        hs.append("X-Mailer: Zimbra 8.8.8_GA_2009 (ZimbraWebClient - GC67 (Win)/8.8.8_GA_2009)")
        hs.append(f"Thread-Topic: {enc_subject(m['subject'], 'b')}")
        hs.append(f"Thread-Index: {base64.b64encode(bytes.fromhex(h(seed + 'ti', 20))).decode()}")
    parts = [alt] + [zimbra_att(a) for a in m.get("atts", [])]
    return Multi(hs, b_mixed, parts)


def roundcube_message(m):
    seed = m["name"]
    t = m["date"]
    boundary = "=_" + h(seed + "rc", 32)
    msgid = m.get("message_id") or f"<{h(seed + 'id', 32)}@langson.example>"
    hs = m.get("received", [])[:]
    hs.append(f"Received: from webmail.langson.example (localhost [127.0.0.1])\r\n"
              f"\tby mail.langson.example with ESMTPA id {h(seed + 'r2', 8).upper()};\r\n\t{rfc_date(t)}")
    hs.append("MIME-Version: 1.0")
    hs.append(f'Content-Type: multipart/mixed;\r\n boundary="{boundary}"')
    hs.append(f"Date: {rfc_date(t)}")
    hs.append(f"From: {m['from']}")
    hs.append(f"To: {m.get('to', DEPT)}")
    if m.get("cc"):
        hs.append(f"Cc: {m['cc']}")
    hs.append(f"Subject: {enc_subject(m['subject'], 'B')}")
    hs.append(f"Message-ID: {msgid}")
    hs.append(f"X-Sender: {re.search(r'<([^>]+)>', m['from']).group(1)}")
    hs.append("User-Agent: Roundcube Webmail/1.3.6")
    parts = [Leaf(["Content-Transfer-Encoding: 8bit", "Content-Type: text/plain; charset=UTF-8;\r\n format=flowed"],
                  flowed(m["body"]))]
    for a in m["atts"]:
        if is_ascii(a.name):
            ct = f'Content-Type: {a.ctype};\r\n name="{a.name}"'
            cd = f'Content-Disposition: attachment;\r\n filename="{a.name}";\r\n size={len(a.data)}'
        else:
            ct = f"Content-Type: {a.ctype};\r\n name*={rfc2231(a.name, 'UTF-8')}"
            cd = f"Content-Disposition: attachment;\r\n filename*={rfc2231(a.name, 'UTF-8')};\r\n size={len(a.data)}"
        parts.append(Leaf(["Content-Transfer-Encoding: base64", ct, cd], b64_body(a.data)))
    return Multi(hs, boundary, parts)


CLIENTS = {
    "outlook": outlook_message,
    "gmail": gmail_message,
    "thunderbird": thunderbird_message,
    "apple": apple_message,
    "zimbra": zimbra_message,
    "webmail": lambda m: zimbra_message(m, mailer=False),
    "roundcube": roundcube_message,
}


# ---------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------


def at(day, hh, mm, ss):
    return dt.datetime(2018, 7, day, hh, mm, ss, tzinfo=ICT)


def sig(unit, division="Phòng Kế hoạch - Tài chính"):
    return f"\nTrân trọng./.\n\n--\n{division}\n{unit}\n"


INTRO = ("Kính gửi: Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn.\n\n"
         "Thực hiện Công văn số 742/SKHĐT-THQH ngày 29/6/2018 của Sở Kế hoạch và Đầu tư về việc "
         "đánh giá giữa kỳ giai đoạn 2016 - 2020 và xây dựng kế hoạch phát triển kinh tế - xã hội năm 2019, ")

CC_VP = "vp-ubnd@langson.example"


def F(name, kind, deliverable, version, check="ok", book=None):
    """One file's expected entry. A workbook that is read (check "ok") is checked against the
    campaign's forms: `book` is the filled form it carries, whose form, validity and findings
    ("rule@cell", in the order intake reports them) follow from its design; a readable workbook
    that is no form at all (book None) gets the one finding "khong-nhan-ra-bieu-mau"."""
    checked = kind == "workbook" and check == "ok"
    return {"name": name, "kind": kind, "deliverable": deliverable, "version": version, "check": check,
            "form": book.form_id if checked and book else None,
            "valid": (book.valid if book else False) if checked else None,
            "findings": (list(book.findings) if book else ["khong-nhan-ra-bieu-mau"]) if checked else []}


def expect(outcome, agency, match, late, receipt, files):
    return {"outcome": outcome, "agency": agency, "agency_match": match, "late": late,
            "receipt": receipt, "files": files}


def build_scenarios():
    """Every scenario: its message (as a dict for a client shape) and its expected decision."""
    S = []
    wb_log = []  # (scenario, attachment name, bytes, writer, note)

    def keep(scn, name, data, writer, note=""):
        wb_log.append((scn, name, data, writer, note))
        return data

    # 01 ------------------------------------------------------------------------------
    n = "01-so-y-te-pl1-outlook"
    # The deliberate mistake 14 corrects: BHYT coverage ƯTH 2018 typed 975 (the decimal comma
    # lost; 97,5 meant): over 100 % (an error) and far from KH 2018 (a warning).
    b01 = Book("pl1", "SỞ Y TẾ", agency="so-y-te", errors={
        ("bhyt", "uth2018"): (975, [("ty-le-0-100", "bhyt", "uth2018"), ("uoc-th-so-voi-kh", "bhyt", "uth2018")])})
    x01 = keep(n, "PL1_SoYTe.xlsx", xlsx_openpyxl(b01), "openpyxl",
               "filled form 742-2018-pl1 (marker); INVALID by design: BHYT ƯTH 2018 typed 975")
    d01 = keep(n, "Bao cao giua ky.docx", report_docx("pl1", "Sở Y tế"), "zipfile (docx)")
    S.append(dict(
        name=n, client="outlook", date=at(2, 8, 47, 9), arrive=at(2, 8, 47, 12),
        from_=addr("Sở Y tế Lạng Sơn", "so-y-te@langson.example"), cc=CC_VP,
        subject="Báo cáo đánh giá giữa kỳ KH phát triển KT-XH 2016-2020 (Phụ lục I) - Sở Y tế",
        body=INTRO + "Sở Y tế gửi kèm theo báo cáo đánh giá giữa kỳ và biểu Phụ lục I.\n" + sig("Sở Y tế Lạng Sơn"),
        atts=[Att("PL1_SoYTe.xlsx", x01), Att("Bao cao giua ky.docx", d01)],
        expect=expect("filed", "so-y-te", "address", False, True, [
            F("PL1_SoYTe.xlsx", "workbook", "pl1", 1, book=b01), F("Bao cao giua ky.docx", "document", "pl1", 1)]),
        about="Outlook 16, known agency address, Appendix I workbook (openpyxl, marker) + report .docx; "
              "the workbook is invalid by design (BHYT ƯTH 2018 typed 975: ty-le-0-100), so version 1 is not accepted"))

    # 02 ------------------------------------------------------------------------------
    n = "02-so-tai-chinh-pl2-gmail-rfc2047"
    b = Book("pl2", "SỞ TÀI CHÍNH", agency="so-tai-chinh", fill="province", sheet_names=["Phu luc II"])
    x = keep(n, "Phụ lục II - Sở Tài chính.xlsx", xlsx_xlsxwriter(b), "XlsxWriter", "filled form 742-2018-pl2 (marker)")
    d = keep(n, "Báo cáo cơ cấu lại nền kinh tế.docx", report_docx("pl2", "Sở Tài chính"), "zipfile (docx)")
    S.append(dict(
        name=n, client="gmail", date=at(3, 10, 5, 41), arrive=at(3, 10, 5, 47),
        from_=addr("Sở Tài chính Lạng Sơn", "so-tai-chinh@langson.example", "B"), cc=CC_VP,
        subject="Sở Tài chính gửi báo cáo đánh giá giữa kỳ cơ cấu lại nền kinh tế 2016 - 2020",
        body=INTRO + "Sở Tài chính gửi báo cáo đánh giá giữa kỳ thực hiện kế hoạch cơ cấu lại nền kinh tế "
             "và biểu Phụ lục II kèm theo.\n" + sig("Sở Tài chính Lạng Sơn", "Phòng Ngân sách"),
        atts=[Att("Phụ lục II - Sở Tài chính.xlsx", x), Att("Báo cáo cơ cấu lại nền kinh tế.docx", d)],
        expect=expect("filed", "so-tai-chinh", "address", False, True, [
            F("Phụ lục II - Sở Tài chính.xlsx", "workbook", "pl2", 1, book=b),
            F("Báo cáo cơ cấu lại nền kinh tế.docx", "document", "pl2", 1)]),
        about="Gmail web shape (boundary 000000000000…, X-Attachment-Id), RFC 2047 B names, Appendix II (XlsxWriter) + .docx"))

    # 03 ------------------------------------------------------------------------------
    n = "03-so-cong-thuong-pl3-thunderbird-rfc2231"
    sct_name = "Phụ lục III - Kế hoạch năm 2019 - Sở Công Thương.xlsx"
    b03 = Book("pl3", "SỞ CÔNG THƯƠNG", agency="so-cong-thuong", fill="province",
               sheet_names=["Biểu III", "PL3 - Ngân sách"])
    x03 = keep(n, sct_name, xlsx_openpyxl(b03), "openpyxl", "filled form 742-2018-pl3 (marker), sheet renamed 'Biểu III'")
    d = keep(n, "Báo cáo kế hoạch năm 2019.pdf", report_pdf("pl3"), "hand-written PDF 1.4")
    S.append(dict(
        name=n, client="thunderbird", date=at(3, 15, 20, 2), arrive=at(3, 15, 20, 6),
        from_=addr("Sở Công Thương", "so-cong-thuong@langson.example", "q"), cc=CC_VP,
        subject="V/v báo cáo kế hoạch phát triển KT-XH năm 2019 (Phụ lục III)",
        body=INTRO + "Sở Công Thương gửi báo cáo kế hoạch năm 2019 và biểu Phụ lục III.\n" + sig("Sở Công Thương Lạng Sơn", "Văn phòng Sở"),
        atts=[Att(sct_name, x03), Att("Báo cáo kế hoạch năm 2019.pdf", d)],
        expect=expect("filed", "so-cong-thuong", "address", False, True, [
            F(sct_name, "workbook", "pl3", 1, book=b03), F("Báo cáo kế hoạch năm 2019.pdf", "document", "pl3", 1)]),
        about="Thunderbird, Vietnamese names as RFC 2231 continuations (filename*0*/filename*1*), Appendix III + .pdf"))

    # 04 ------------------------------------------------------------------------------
    n = "04-ubnd-huu-lung-pl1-zip"
    b = Book("pl1", "UBND HUYỆN HỮU LŨNG", agency="ubnd-huu-lung", fill="district", factor=0.071, nudge=-0.02)
    xin = keep(n, "PL1_HuuLung.xlsx", xlsx_xlsxwriter(b),
               "XlsxWriter", "inside HuuLung_BaoCaoGiuaKy.zip; filled form 742-2018-pl1 (marker)")
    din = keep(n, "Bao cao danh gia giua ky KTXH 2016-2020.docx", report_docx("pl1", "UBND huyện Hữu Lũng"),
               "zipfile (docx)", "inside HuuLung_BaoCaoGiuaKy.zip")
    z = make_zip([("PL1_HuuLung.xlsx", xin, True), ("Bao cao danh gia giua ky KTXH 2016-2020.docx", din, True)],
                 (2018, 7, 4, 8, 52, 30))
    keep(n, "HuuLung_BaoCaoGiuaKy.zip", z, "zipfile", "the zip as attached")
    S.append(dict(
        name=n, client="zimbra", date=at(4, 9, 2, 15), arrive=at(4, 9, 2, 19),
        from_=addr("UBND huyện Hữu Lũng", "ubnd-huu-lung@langson.example"),
        subject="Bao cao danh gia giua ky ke hoach 5 nam 2016-2020 huyen Huu Lung",
        body=INTRO + "UBND huyện Hữu Lũng gửi báo cáo và biểu số liệu (file nén).\n" + sig("UBND huyện Hữu Lũng", "Phòng Tài chính - Kế hoạch"),
        atts=[Att("HuuLung_BaoCaoGiuaKy.zip", z, MIME["zip"])],
        expect=expect("filed", "ubnd-huu-lung", "address", False, True, [
            F("PL1_HuuLung.xlsx", "workbook", "pl1", 1, book=b),
            F("Bao cao danh gia giua ky KTXH 2016-2020.docx", "document", "pl1", 1)]),
        about="Zimbra webmail, one .zip holding the Appendix I workbook and the report .docx"))

    # 05 ------------------------------------------------------------------------------
    n = "05-so-gtvt-pl1-forwarded"
    b = Book("pl1", "SỞ GIAO THÔNG VẬN TẢI", agency="so-gtvt", fill="province")
    xg = keep(n, "PL1_SGTVT.xlsx", xlsx_openpyxl(b),
              "openpyxl", "inside the forwarded message; filled form 742-2018-pl1 (marker)")
    dg = keep(n, "BC giua ky KTXH 5 nam.docx", report_docx("pl1", "Sở Giao thông vận tải"), "zipfile (docx)",
              "inside the forwarded message")
    inner = dict(
        name=n + "-inner", date=at(4, 11, 18, 40),
        from_=addr("Phòng KH-TC Sở GTVT", "khtc@sogtvt.langson.example"),
        to="so-gtvt@langson.example",
        subject="Báo cáo giữa kỳ Phụ lục I - Sở GTVT (trình ký)",
        body="Kính gửi Lãnh đạo Sở,\n\nPhòng KH-TC gửi dự thảo báo cáo giữa kỳ và biểu Phụ lục I đã hoàn thiện, "
             "đề nghị gửi Sở Kế hoạch và Đầu tư.\n" + sig("Sở Giao thông vận tải Lạng Sơn"),
        atts=[Att("PL1_SGTVT.xlsx", xg), Att("BC giua ky KTXH 5 nam.docx", dg)])
    S.append(dict(
        name=n, client="thunderbird-forward", inner=inner, date=at(4, 14, 31, 3), arrive=at(4, 14, 31, 8),
        from_=addr("Sở Giao thông vận tải", "so-gtvt@langson.example", "q"), cc=CC_VP,
        subject="Fwd: Báo cáo giữa kỳ Phụ lục I - Sở GTVT (trình ký)",
        inner_filename="Báo cáo giữa kỳ Phụ lục I - Sở GTVT (trình ký).eml",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nSở GTVT chuyển tiếp báo cáo đánh giá giữa kỳ và biểu Phụ lục I "
             "theo Công văn số 742/SKHĐT-THQH.\n" + sig("Sở Giao thông vận tải Lạng Sơn", "Văn phòng Sở"),
        atts=[],
        expect=expect("filed", "so-gtvt", "address", False, True, [
            F("PL1_SGTVT.xlsx", "workbook", "pl1", 1, book=b), F("BC giua ky KTXH 5 nam.docx", "document", "pl1", 1)]),
        about="Thunderbird 'forward as attachment': message/rfc822 holding the agency's own internal mail with workbook + .docx"))

    # 06 ------------------------------------------------------------------------------
    n = "06-so-xay-dung-pl3-apple-inline"
    b = Book("pl3", "SỞ XÂY DỰNG", agency="so-xay-dung", fill="province")
    x = keep(n, "PL3_SXD.xlsx", xlsx_openpyxl(b), "openpyxl", "filled form 742-2018-pl3 (marker)")
    d = keep(n, "Bao cao KH2019.docx", report_docx("pl3", "Sở Xây dựng"), "zipfile (docx)")
    S.append(dict(
        name=n, client="apple", date=at(5, 8, 15, 22), arrive=at(5, 8, 15, 27),
        from_=addr("Sở Xây dựng Lạng Sơn", "so-xay-dung@langson.example", "q"),
        subject="Sở Xây dựng gửi Phụ lục III kế hoạch năm 2019",
        body=INTRO + "Sở Xây dựng gửi biểu Phụ lục III và báo cáo kế hoạch năm 2019.\n",
        signature="\nTrân trọng./.\nVăn phòng Sở Xây dựng Lạng Sơn\n",
        atts=[Att("PL3_SXD.xlsx", x), Att("Bao cao KH2019.docx", d)],
        expect=expect("filed", "so-xay-dung", "address", False, True, [
            F("PL3_SXD.xlsx", "workbook", "pl3", 1, book=b), F("Bao cao KH2019.docx", "document", "pl3", 1)]),
        about="Apple Mail: Content-Disposition inline for the workbook and the .docx, text parts between them"))

    # 07 ------------------------------------------------------------------------------
    n = "07-ubnd-van-quan-pl1-apple-nfd"
    vq_x, vq_d = "Phụ lục I - Văn Quan.xlsx", "Báo cáo đánh giá giữa kỳ.docx"
    b = Book("pl1", "UBND HUYỆN VĂN QUAN", agency="ubnd-van-quan", fill="district", factor=0.048, nudge=-0.05,
             sheet_names=["Phụ lục I"])
    x = keep(n, vq_x, xlsx_xlsxwriter(b), "XlsxWriter", "filled form 742-2018-pl1 (marker); sent with an NFD name")
    d = keep(n, vq_d, report_docx("pl1", "UBND huyện Văn Quan"), "zipfile (docx)", "sent with an NFD name")
    S.append(dict(
        name=n, client="apple", date=at(5, 9, 12, 30), arrive=at(5, 9, 12, 33),
        from_=addr("UBND huyện Văn Quan", "ubnd-van-quan@langson.example", "q"),
        subject="UBND huyện Văn Quan gửi báo cáo đánh giá giữa kỳ giai đoạn 2016 - 2020",
        body=INTRO + "UBND huyện Văn Quan gửi báo cáo đánh giá giữa kỳ và biểu Phụ lục I.\n",
        signature="\nTrân trọng./.\nPhòng Tài chính - Kế hoạch huyện Văn Quan\n",
        atts=[Att(vq_x, x, nfd=True), Att(vq_d, d, nfd=True)],
        expect=expect("filed", "ubnd-van-quan", "address", False, True, [
            F(vq_x, "workbook", "pl1", 1, book=b), F(vq_d, "document", "pl1", 1)]),
        about="Apple Mail from macOS: file names in NFD (decomposed accents), expected back in NFC"))

    # 08 ------------------------------------------------------------------------------
    n = "08-so-tn-mt-pl2-octet-stream"
    b = Book("pl2", "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", agency="so-tn-mt", fill="province")
    x = keep(n, "PL2_STNMT.xlsx", xlsx_xlsxwriter(b),
             "XlsxWriter", "filled form 742-2018-pl2 (marker); sent as application/octet-stream")
    d = keep(n, "Bao cao co cau lai.docx", report_docx("pl2", "Sở Tài nguyên và Môi trường"), "zipfile (docx)",
             "sent as application/octet-stream")
    S.append(dict(
        name=n, client="outlook", att_mode="octet", date=at(5, 10, 40, 11), arrive=at(5, 10, 40, 15),
        from_=addr("Sở Tài nguyên và Môi trường", "so-tn-mt@langson.example"), pc="STNMT-KHTC",
        subject="Gui bao cao co cau lai nen kinh te (PL2) - So TN&MT",
        body=INTRO + "Sở Tài nguyên và Môi trường gửi báo cáo và biểu Phụ lục II.\n" + sig("Sở TN&MT Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("PL2_STNMT.xlsx", x), Att("Bao cao co cau lai.docx", d)],
        expect=expect("filed", "so-tn-mt", "address", False, True, [
            F("PL2_STNMT.xlsx", "workbook", "pl2", 1, book=b), F("Bao cao co cau lai.docx", "document", "pl2", 1)]),
        about="Attachments typed application/octet-stream, name only in Content-Type name=, bare 'Content-Disposition: attachment'"))

    # 09 ------------------------------------------------------------------------------
    n = "09-gmail-personal-so-y-te-subject-probable"
    # Checked for the guessed agency: Sở Y tế must fill no row of Appendix II, so the rows
    # districts must fill may stay blank.
    b = Book("pl2", "SỞ Y TẾ", agency="so-y-te", fill="province", sheet_names=["Phu luc II"])
    x09 = keep(n, "Phu luc 2.xlsx", xlsx_xlsxwriter(b), "XlsxWriter", "filled form 742-2018-pl2 (marker)")
    S.append(dict(
        name=n, client="gmail", date=at(5, 21, 47, 50), arrive=at(5, 21, 47, 55),
        from_=addr("Phong KHTC", "khtc.yte2018@gmail.example", "B"),
        subject="BC giua ky So Y te",
        body="Kính gửi phòng Tổng hợp - Quy hoạch,\n\nEm gửi biểu báo cáo giữa kỳ ạ. Do hộp thư cơ quan bị lỗi "
             "nên em gửi tạm bằng thư cá nhân.\n\nEm cảm ơn.\n",
        atts=[Att("Phu luc 2.xlsx", x09)],
        expect=expect("probable-agency", "so-y-te", "probable", None, True, [
            F("Phu luc 2.xlsx", "workbook", "pl2", None, book=b)]),
        about="Personal Gmail address; the agency is named only in the unaccented subject 'BC giua ky So Y te'"))

    # 10 ------------------------------------------------------------------------------
    n = "10-yahoo-personal-cao-loc-heading-probable"
    b10 = Book("pl1", "UBND HUYỆN CAO LỘC", agency="ubnd-cao-loc", fill="district", factor=0.083, nudge=0.01)
    x10 = keep(n, "Phu luc 1.xlsx", xlsx_openpyxl(b10),
               "openpyxl", "filled form 742-2018-pl1 (marker); same bytes filed later by 33")
    S.append(dict(
        name=n, client="webmail", date=at(6, 7, 58, 1), arrive=at(6, 7, 58, 9),
        from_=addr("tong hop kt", "tonghop.kt@yahoo.example"),
        subject="Gui bao cao giua ky",
        body="Kính gửi Sở KH&ĐT,\n\nEm gửi file số liệu báo cáo đánh giá giữa kỳ ạ.\n\nTrân trọng.\n",
        atts=[Att("Phu luc 1.xlsx", x10)],
        expect=expect("probable-agency", "ubnd-cao-loc", "probable", None, True, [
            F("Phu luc 1.xlsx", "workbook", "pl1", None, book=b10)]),
        about="Personal address whose only clue is the workbook heading 'UBND HUYỆN CAO LỘC'"))

    # 11 ------------------------------------------------------------------------------
    n = "11-unknown-person-no-attachment-left-alone"
    S.append(dict(
        name=n, client="gmail", date=at(6, 9, 30, 12), arrive=at(6, 9, 30, 18),
        from_=addr("", "hoidap.dautu@gmail.example"),
        subject="Hỏi về thủ tục cấp quyết định chủ trương đầu tư",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nTôi muốn hỏi hồ sơ đề nghị quyết định chủ trương đầu tư "
             "cho dự án trang trại chăn nuôi gồm những giấy tờ gì và nộp ở đâu.\n\nXin cảm ơn.\n",
        atts=[],
        expect=expect("left-alone", None, "none", None, False, []),
        about="Unknown sender, no attachment (a person writing to the department): left alone"))

    # 12 ------------------------------------------------------------------------------
    n = "12-unknown-sender-workbook-no-clue"
    # A district's figures with no name on them, three rows not yet filled; checked for
    # nobody, so nothing is required and the blanks are no finding.
    b = Book("pl3", "ĐƠN VỊ: ...............", fill="district", factor=0.05, nudge=0.03,
             sheet_names=["Sheet1", "Sheet2"], label="", title="BIỂU SỐ LIỆU", sheet_titles=False,
             omit=["viec-lam", "ho-ngheo", "che-phu-rung"])
    x = keep(n, "Book1.xlsx", xlsx_openpyxl(b), "openpyxl", "filled form 742-2018-pl3 (marker); no agency anywhere")
    S.append(dict(
        name=n, client="webmail", date=at(6, 11, 3, 44), arrive=at(6, 11, 3, 50),
        from_=addr("", "user.2018@yahoo.example"),
        subject="gui file",
        body="gửi anh chị file\n",
        atts=[Att("Book1.xlsx", x)],
        expect=expect("unknown-sender", None, "none", None, False, [
            F("Book1.xlsx", "workbook", "pl3", None, book=b)]),
        about="Unknown sender with a workbook (marker only) and no clue to the agency anywhere"))

    # 13 is a byte copy of 01, written after the loop.

    # 14 ------------------------------------------------------------------------------
    n = "14-so-y-te-pl1-resubmission-v2"
    x = keep(n, "PL1_SoYTe_sua.xlsx",
             xlsx_openpyxl(b := Book("pl1", "SỞ Y TẾ", agency="so-y-te", overrides={
                 ("bac-si", "uth2018"): 9.6, ("giuong-benh", "uth2018"): 31.9, ("bhyt", "uth2018"): 97.8})),
             "openpyxl", "filled form 742-2018-pl1 (marker); ƯTH 2018 corrected from 01 (BHYT 975 -> 97.8): valid")
    S.append(dict(
        name=n, client="outlook", date=at(6, 15, 12, 40), arrive=at(6, 15, 12, 44),
        from_=addr("Sở Y tế Lạng Sơn", "so-y-te@langson.example"), cc=CC_VP,
        subject="Gửi lại Phụ lục I (đã chỉnh sửa số liệu) - Sở Y tế",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nSở Y tế gửi lại biểu Phụ lục I đã chỉnh sửa số liệu ước thực hiện "
             "năm 2018 (số bác sĩ, giường bệnh, tỷ lệ tham gia BHYT), đề nghị sử dụng bản này thay bản gửi ngày 02/7.\n"
             + sig("Sở Y tế Lạng Sơn"),
        atts=[Att("PL1_SoYTe_sua.xlsx", x)],
        expect=expect("filed", "so-y-te", "address", False, True, [
            F("PL1_SoYTe_sua.xlsx", "workbook", "pl1", 2, book=b)]),
        about="Same agency resends Appendix I with changed numbers, fixing 01's error: version 2, valid"))

    # 15 ------------------------------------------------------------------------------
    n = "15-so-noi-vu-empty-workbook"
    x = keep(n, "PL1 - So Noi vu.xlsx", xlsx_openpyxl(None, empty=True), "openpyxl", "no cells at all, no marker")
    S.append(dict(
        name=n, client="outlook", date=at(6, 16, 20, 5), arrive=at(6, 16, 20, 9),
        from_=addr("Sở Nội vụ", "so-noi-vu@langson.example"),
        subject="Sở Nội vụ gửi Phụ lục I",
        body=INTRO + "Sở Nội vụ gửi biểu Phụ lục I.\n" + sig("Sở Nội vụ Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("PL1 - So Noi vu.xlsx", x)],
        expect=expect("filed", "so-noi-vu", "address", False, True, [
            F("PL1 - So Noi vu.xlsx", "workbook", "pl1", 1, "empty")]),
        about="Known agency sends an empty workbook (one sheet, no cells): filed, check 'empty'"))

    # 16 ------------------------------------------------------------------------------
    n = "16-so-tu-phap-corrupt-workbook"
    full = xlsx_openpyxl(Book("pl2", "SỞ TƯ PHÁP", agency="so-tu-phap", fill="province"))
    x = keep(n, "PL2 - So Tu phap.xlsx", full[: len(full) * 55 // 100], "openpyxl, truncated to 55 %", "unreadable")
    d = keep(n, "Bao cao co cau lai nen kinh te.docx", report_docx("pl2", "Sở Tư pháp"), "zipfile (docx)")
    S.append(dict(
        name=n, client="outlook", date=at(9, 8, 5, 30), arrive=at(9, 8, 5, 34),
        from_=addr("Sở Tư pháp", "so-tu-phap@langson.example"),
        subject="Sở Tư pháp gửi báo cáo cơ cấu lại nền kinh tế và Phụ lục II",
        body=INTRO + "Sở Tư pháp gửi báo cáo và biểu Phụ lục II.\n" + sig("Sở Tư pháp Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("PL2 - So Tu phap.xlsx", x), Att("Bao cao co cau lai nen kinh te.docx", d)],
        expect=expect("filed", "so-tu-phap", "address", False, True, [
            F("PL2 - So Tu phap.xlsx", "workbook", "pl2", 1, "unreadable"),
            F("Bao cao co cau lai nen kinh te.docx", "document", "pl2", 1)]),
        about="Truncated xlsx (broken zip): filed, check 'unreadable'; deliverable from the file name"))

    # 17 ------------------------------------------------------------------------------
    n = "17-so-kh-cn-encrypted-workbook"
    plain = xlsx_openpyxl(Book("pl3", "SỞ KHOA HỌC VÀ CÔNG NGHỆ", agency="so-kh-cn", fill="province"))
    x = keep(n, "PL3-SKHCN.xlsx", encrypt_xlsx(plain), "openpyxl + msoffcrypto-tool", "password 123456")
    S.append(dict(
        name=n, client="thunderbird", date=at(9, 8, 21, 14), arrive=at(9, 8, 21, 17),
        from_=addr("Sở Khoa học và Công nghệ", "so-kh-cn@langson.example", "q"),
        subject="Sở KH&CN gửi biểu kế hoạch năm 2019",
        body=INTRO + "Sở Khoa học và Công nghệ gửi biểu Phụ lục III (file có đặt mật khẩu: 123456).\n"
             + sig("Sở KH&CN Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("PL3-SKHCN.xlsx", x)],
        expect=expect("filed", "so-kh-cn", "address", False, True, [
            F("PL3-SKHCN.xlsx", "workbook", "pl3", 1, "encrypted")]),
        about="Password-protected xlsx (msoffcrypto-tool, password 123456): filed, check 'encrypted'"))

    # 18 ------------------------------------------------------------------------------
    n = "18-so-ld-tbxh-path-traversal-name"
    b = Book("pl1", "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", agency="so-ld-tbxh")
    x = keep(n, "PL1_bad.xlsx", xlsx_openpyxl(b),
             "openpyxl", "filled form 742-2018-pl1 (marker); sent as ..\\..\\x/../PL1_bad.xlsx")
    S.append(dict(
        name=n, client="outlook", att_mode="rfc2231-only", date=at(9, 8, 44, 2), arrive=at(9, 8, 44, 6),
        from_=addr("Sở LĐ-TB&XH Lạng Sơn", "so-ld-tbxh@langson.example"),
        subject="Sở LĐ-TB&XH gửi Phụ lục I",
        body=INTRO + "Sở Lao động - Thương binh và Xã hội gửi biểu Phụ lục I.\n" + sig("Sở LĐ-TB&XH Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("..\\..\\x/../PL1_bad.xlsx", x)],
        expect=expect("filed", "so-ld-tbxh", "address", False, True, [
            F("PL1_bad.xlsx", "workbook", "pl1", 1, book=b)]),
        about="File name '..\\..\\x/../PL1_bad.xlsx' in RFC 2231 filename* only: sanitised to 'PL1_bad.xlsx'"))

    # 19 ------------------------------------------------------------------------------
    n = "19-so-ngoai-vu-auto-reply"
    S.append(dict(
        name=n, client="outlook", date=at(9, 8, 44, 37), arrive=at(9, 8, 44, 40),
        from_=addr("Sở Ngoại vụ", "so-ngoai-vu@langson.example"), to=f"<{DEPT_INTAKE}>",
        subject="Tự động trả lời: Nhắc gửi báo cáo theo Công văn số 742/SKHĐT-THQH",
        extra=["Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All",
               "In-Reply-To: <reminder.742-2018.so-ngoai-vu.1@skhdt.langson.example>"],
        body="Tôi đang đi công tác từ ngày 09/7 đến hết ngày 13/7/2018, trong thời gian này việc trả lời thư "
             "có thể chậm. Việc gấp xin liên hệ Văn phòng Sở Ngoại vụ.\n",
        atts=[],
        expect=expect("auto-reply-ignored", "so-ngoai-vu", "address", None, False, []),
        about="Out-of-office reply (Auto-Submitted: auto-replied) to a reminder, no attachment"))

    # 20 ------------------------------------------------------------------------------
    n = "20-ubnd-binh-gia-pl1-xls"
    # The second deliberate mistake: the district raised its services share for ƯTH 2018 by a
    # point without lowering another, so the structure adds up to 101 %. The sum's finding
    # points at the first part's cell (agriculture, same column).
    b = Book("pl1", "UBND HUYỆN BÌNH GIA", agency="ubnd-binh-gia", fill="district", factor=0.041, nudge=-0.04,
             errors={("co-cau-dv", "uth2018"): (tidy(district_share("dv", MID.index("uth2018"), -0.04) + 1, 2),
                                                [("co-cau-kinh-te-100", "co-cau-nlts", "uth2018")])})
    x = keep(n, "PL1_BinhGia.xls", xls_xlwt(b), "xlwt",
             "filled form 742-2018-pl1 (marker in a hidden sheet); INVALID by design: ƯTH 2018 shares add up to 101")
    S.append(dict(
        name=n, client="zimbra", date=at(9, 9, 10, 2), arrive=at(9, 9, 10, 7),
        from_=addr("UBND huyện Bình Gia", "ubnd-binh-gia@langson.example"),
        subject="Bình Gia gửi biểu Phụ lục I đánh giá giữa kỳ",
        body=INTRO + "UBND huyện Bình Gia gửi biểu Phụ lục I (báo cáo bằng văn bản gửi qua đường bưu điện).\n"
             + sig("UBND huyện Bình Gia", "Phòng Tài chính - Kế hoạch"),
        atts=[Att("PL1_BinhGia.xls", x)],
        expect=expect("filed", "ubnd-binh-gia", "address", False, True, [
            F("PL1_BinhGia.xls", "workbook", "pl1", 1, book=b)]),
        about="District sends a legacy .xls (xlwt, BIFF8) through Zimbra; invalid by design: the economic "
              "structure of ƯTH 2018 adds up to 101 % (co-cau-kinh-te-100)"))

    # 21 ------------------------------------------------------------------------------
    n = "21-ubnd-bac-son-pl2-ods"
    bs_x, bs_d = "Phụ lục II - Bắc Sơn.ods", "Bao cao co cau lai KT.odt"
    b = Book("pl2", "UBND HUYỆN BẮC SƠN", agency="ubnd-bac-son", fill="district", factor=0.052, nudge=0.02,
             sheet_names=["Phụ lục II"])
    x = keep(n, bs_x, ods_odfpy(b), "odfpy", "filled form 742-2018-pl2 (marker in a hidden table)")
    d = keep(n, bs_d, report_odt("pl2", "UBND huyện Bắc Sơn"), "zipfile (odt)")
    S.append(dict(
        name=n, client="roundcube", date=at(9, 9, 37, 51), arrive=at(9, 9, 37, 55),
        from_=addr("UBND huyện Bắc Sơn", "ubnd-bac-son@langson.example", "B"),
        subject="Bắc Sơn gửi báo cáo cơ cấu lại nền kinh tế",
        body=INTRO + "UBND huyện Bắc Sơn gửi báo cáo và biểu Phụ lục II.\n" + sig("UBND huyện Bắc Sơn", "Phòng Tài chính - Kế hoạch"),
        atts=[Att(bs_x, x), Att(bs_d, d)],
        expect=expect("filed", "ubnd-bac-son", "address", False, True, [
            F(bs_x, "workbook", "pl2", 1, book=b), F(bs_d, "document", "pl2", 1)]),
        about="Roundcube-style webmail, OpenDocument: .ods workbook (odfpy) and .odt report"))

    # 22 ------------------------------------------------------------------------------
    n = "22-so-gd-dt-no-workbook"
    S.append(dict(
        name=n, client="outlook", date=at(9, 10, 2, 18), arrive=at(9, 10, 2, 21),
        from_=addr("Sở Giáo dục và Đào tạo", "so-gd-dt@langson.example"),
        subject="V/v báo cáo đánh giá giữa kỳ theo Công văn 742/SKHĐT-THQH",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nSở Giáo dục và Đào tạo đang tổng hợp số liệu của các trường, "
             "báo cáo và các biểu phụ lục sẽ gửi bổ sung sau. Mong Quý Sở thông cảm.\n" + sig("Sở GD&ĐT Lạng Sơn"),
        atts=[],
        expect=expect("no-workbook", "so-gd-dt", "address", None, True, []),
        about="Known agency, no attachment ('sẽ gửi bổ sung sau'): no-workbook, with a receipt"))

    # 23 ------------------------------------------------------------------------------
    n = "23-so-y-te-domain-match"
    b = Book("pl3", "SỞ Y TẾ", agency="so-y-te")
    x = keep(n, "PL3_SoYTe.xlsx", xlsx_xlsxwriter(b), "XlsxWriter", "filled form 742-2018-pl3 (marker)")
    d = keep(n, "Bao cao KH 2019.docx", report_docx("pl3", "Sở Y tế"), "zipfile (docx)")
    S.append(dict(
        name=n, client="outlook", date=at(9, 10, 26, 7), arrive=at(9, 10, 26, 11),
        from_=addr("Ke toan", "ke-toan@soyte.langson.example"), pc="SYT-KETOAN",
        subject="Gửi báo cáo kế hoạch năm 2019 và Phụ lục III",
        body=INTRO + "Phòng Kế hoạch - Tài chính gửi báo cáo kế hoạch năm 2019 và biểu Phụ lục III.\n" + sig("Sở Y tế Lạng Sơn"),
        atts=[Att("PL3_SoYTe.xlsx", x), Att("Bao cao KH 2019.docx", d)],
        expect=expect("filed", "so-y-te", "domain", False, True, [
            F("PL3_SoYTe.xlsx", "workbook", "pl3", 1, book=b), F("Bao cao KH 2019.docx", "document", "pl3", 1)]),
        about="Sender ke-toan@soyte.langson.example: matched by the agency's domain"))

    # 24 ------------------------------------------------------------------------------
    n = "24-so-vh-tt-dl-sender-header"
    b = Book("pl1", "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", agency="so-vh-tt-dl")
    x = keep(n, "PL1_SVHTTDL.xlsx", xlsx_openpyxl(b), "openpyxl", "filled form 742-2018-pl1 (marker)")
    d = keep(n, "BC danh gia giua ky KTXH 2016-2020.docx", report_docx("pl1", "Sở Văn hóa, Thể thao và Du lịch"),
             "zipfile (docx)")
    S.append(dict(
        name=n, client="outlook", date=at(9, 10, 51, 33), arrive=at(9, 10, 51, 38),
        from_=addr("Phong KH-TC", "vhttdl.khtc@gmail.example"),
        sender="so-vh-tt-dl@langson.example",
        subject="Gửi báo cáo đánh giá giữa kỳ và Phụ lục I",
        body=INTRO + "Phòng Kế hoạch - Tài chính gửi báo cáo đánh giá giữa kỳ và biểu Phụ lục I.\n"
             + sig("Sở Văn hóa, Thể thao và Du lịch Lạng Sơn"),
        atts=[Att("PL1_SVHTTDL.xlsx", x), Att("BC danh gia giua ky KTXH 2016-2020.docx", d)],
        expect=expect("probable-agency", "so-vh-tt-dl", "probable", None, True, [
            F("PL1_SVHTTDL.xlsx", "workbook", "pl1", None, book=b),
            F("BC danh gia giua ky KTXH 2016-2020.docx", "document", "pl1", None)]),
        about="From a personal address, Sender: the agency's roster address: Sender is a claim anyone can write, so only the heading's name makes the agency probable"))

    # 25 ------------------------------------------------------------------------------
    n = "25-ubnd-chi-lang-all-three"
    cl = [("PL1_ChiLang.xlsx", "pl1", xlsx_openpyxl, "openpyxl", "Báo cáo đánh giá giữa kỳ KTXH 2016-2020.docx"),
          ("PL2_ChiLang.xlsx", "pl2", xlsx_xlsxwriter, "XlsxWriter", "Báo cáo cơ cấu lại nền kinh tế.docx"),
          ("PL3_ChiLang.xlsx", "pl3", xlsx_xlsxwriter, "XlsxWriter", "Báo cáo kế hoạch năm 2019.docx")]
    atts, files = [], []
    for xname, pl, writer, wname, dname in cl:
        b = Book(pl, "UBND HUYỆN CHI LĂNG", agency="ubnd-chi-lang", fill="district", factor=0.067, nudge=-0.01)
        x = keep(n, xname, writer(b), wname, f"filled form 742-2018-{pl} (marker)")
        d = keep(n, dname, report_docx(pl, "UBND huyện Chi Lăng"), "zipfile (docx)")
        atts += [Att(xname, x), Att(dname, d)]
        files += [F(xname, "workbook", pl, 1, book=b), F(dname, "document", pl, 1)]
    S.append(dict(
        name=n, client="outlook", date=at(9, 11, 15, 0), arrive=at(9, 11, 15, 6),
        from_=addr("UBND huyện Chi Lăng", "ubnd-chi-lang@langson.example"), cc=CC_VP, pc="CHILANG-TCKH",
        subject="UBND huyện Chi Lăng gửi 03 báo cáo và 03 phụ lục theo Công văn 742/SKHĐT-THQH",
        body=INTRO + "UBND huyện Chi Lăng gửi 03 báo cáo kèm 03 biểu Phụ lục I, II, III.\n"
             + sig("UBND huyện Chi Lăng", "Phòng Tài chính - Kế hoạch"),
        atts=atts,
        expect=expect("filed", "ubnd-chi-lang", "address", False, True, files),
        about="One message with all three deliverables: 3 workbooks + 3 .docx, documents told apart by name"))

    # 26 ------------------------------------------------------------------------------
    n = "26-so-tt-tt-generic-name-marker"
    b = Book("pl2", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", agency="so-tt-tt", fill="province", sheet_names=["Sheet1"],
             label="", title="BIỂU SỐ LIỆU", sheet_titles=False)
    x = keep(n, "baocao.xlsx", xlsx_openpyxl(b),
             "openpyxl", "marker 742-2018-pl2 is the only clue to the deliverable")
    S.append(dict(
        name=n, client="gmail", date=at(9, 13, 40, 25), arrive=at(9, 13, 40, 31),
        from_=addr("Sở Thông tin và Truyền thông", "so-tt-tt@langson.example", "B"),
        subject="Gửi báo cáo",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nSở Thông tin và Truyền thông gửi file số liệu.\n" + sig("Sở TT&TT Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("baocao.xlsx", x)],
        expect=expect("filed", "so-tt-tt", "address", False, True, [F("baocao.xlsx", "workbook", "pl2", 1, book=b)]),
        about="Generic file name 'baocao.xlsx', sheet 'Sheet1', no appendix label or title: deliverable from the hidden marker only"))

    # 27 ------------------------------------------------------------------------------
    n = "27-so-nn-ptnt-keywordless-document"
    nn_x, nn_d = "Phụ lục III - Sở NN&PTNT.xlsx", "Van ban kem theo.docx"
    b = Book("pl3", "SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN", agency="so-nn-ptnt",
             sheet_names=["Biểu III", "PL3 - Ngân sách"])
    x = keep(n, nn_x, xlsx_xlsxwriter(b), "XlsxWriter", "filled form 742-2018-pl3 (marker)")
    d = keep(n, nn_d, report_docx("pl3", "Sở Nông nghiệp và Phát triển nông thôn"), "zipfile (docx)")
    S.append(dict(
        name=n, client="thunderbird", date=at(9, 14, 5, 9), arrive=at(9, 14, 5, 12),
        from_=addr("Sở Nông nghiệp và PTNT", "so-nn-ptnt@langson.example", "q"),
        subject="Sở NN&PTNT gửi kế hoạch năm 2019",
        body=INTRO + "Sở Nông nghiệp và Phát triển nông thôn gửi biểu Phụ lục III và văn bản kèm theo.\n"
             + sig("Sở NN&PTNT Lạng Sơn"),
        atts=[Att(nn_x, x), Att(nn_d, d)],
        expect=expect("filed", "so-nn-ptnt", "address", False, True, [
            F(nn_x, "workbook", "pl3", 1, book=b), F(nn_d, "document", "pl3", 1)]),
        about="A document whose name has no keyword beside one workbook: the document goes with that workbook's deliverable"))

    # 28 ------------------------------------------------------------------------------
    n = "28-cuc-thong-ke-precedence-bulk"
    b = Book("pl1", "CỤC THỐNG KÊ TỈNH LẠNG SƠN", agency="cuc-thong-ke", fill="province")
    x = keep(n, "PL1_CucThongKe.xlsx", xlsx_openpyxl(b), "openpyxl", "filled form 742-2018-pl1 (marker)")
    S.append(dict(
        name=n, client="zimbra", date=at(9, 14, 30, 0), arrive=at(9, 14, 30, 9),
        from_=addr("Cục Thống kê Lạng Sơn", "cuc-thong-ke@langson.example"),
        to=f"{DEPT}, {CC_VP}",
        extra=["Precedence: bulk"],
        subject="Cục Thống kê gửi số liệu Phụ lục I đánh giá giữa kỳ",
        body="Kính gửi các cơ quan, đơn vị,\n\nCục Thống kê gửi số liệu ước thực hiện năm 2018 phục vụ đánh giá giữa kỳ "
             "(biểu Phụ lục I kèm theo).\n" + sig("Cục Thống kê tỉnh Lạng Sơn", "Phòng Tổng hợp"),
        atts=[Att("PL1_CucThongKe.xlsx", x)],
        expect=expect("list-ignored", "cuc-thong-ke", "address", None, False, [
            F("PL1_CucThongKe.xlsx", "workbook", "pl1", None, book=b)]),
        about="Known agency with 'Precedence: bulk' and a workbook: bulk mail is logged, never filed or answered"))

    # 29 ------------------------------------------------------------------------------
    n = "29-so-cong-thuong-same-content-new-message"
    keep(n, "Phu luc III - KH 2019 (gui lai).xlsx", x03, "openpyxl", "same bytes as 03")
    S.append(dict(
        name=n, client="outlook", date=at(9, 15, 10, 41), arrive=at(9, 15, 10, 45),
        from_=addr("Sở Công Thương", "so-cong-thuong@langson.example"),
        subject="Gửi lại Phụ lục III - Sở Công Thương",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nSở Công Thương gửi lại biểu Phụ lục III (đề phòng thư trước chưa đến).\n"
             + sig("Sở Công Thương Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("Phu luc III - KH 2019 (gui lai).xlsx", x03)],
        expect=expect("duplicate", "so-cong-thuong", "address", None, True, [
            F("Phu luc III - KH 2019 (gui lai).xlsx", "workbook", "pl3", None, book=b03)]),
        about="New message, new Message-ID and file name, but the workbook bytes were filed by 03: duplicate, answered with a short receipt naming the earlier one"))

    # 30 ------------------------------------------------------------------------------
    n = "30-cuc-thue-own-copy-no-marker"
    # The agency's own table: the form's heading and rows, no column numbers row, no "Ghi chú"
    # column, no marker; recognised by its content.
    b = Book("pl3", "CỤC THUẾ TỈNH LẠNG SƠN", agency="cuc-thue", own_copy=True, sheet_names=["Biểu III", "Ngân sách"])
    x = keep(n, "Bieu III - Cuc Thue.xlsx", xlsx_xlsxwriter(b),
             "XlsxWriter", "agency's own copy: no marker; heading, sheet name and file name say Appendix III")
    d = keep(n, "Bao cao KH2019 Cuc Thue.pdf", report_pdf("pl3"), "hand-written PDF 1.4")
    S.append(dict(
        name=n, client="outlook", date=at(9, 15, 48, 19), arrive=at(9, 15, 48, 23),
        from_=addr("Cục Thuế tỉnh Lạng Sơn", "cuc-thue@langson.example"),
        subject="Cục Thuế gửi báo cáo kế hoạch năm 2019",
        body=INTRO + "Cục Thuế gửi báo cáo và biểu số liệu thu ngân sách năm 2019.\n" + sig("Cục Thuế tỉnh Lạng Sơn", "Phòng Nghiệp vụ - Dự toán"),
        atts=[Att("Bieu III - Cuc Thue.xlsx", x), Att("Bao cao KH2019 Cuc Thue.pdf", d)],
        expect=expect("filed", "cuc-thue", "address", False, True, [
            F("Bieu III - Cuc Thue.xlsx", "workbook", "pl3", 1, book=b),
            F("Bao cao KH2019 Cuc Thue.pdf", "document", "pl3", 1)]),
        about="Agency's own copy without the marker: recognised by heading 'PHỤ LỤC III', sheet 'Biểu III' and file name"))

    # 31 ------------------------------------------------------------------------------
    n = "31-bhxh-reply-to-address"
    b = Book("pl2", "BẢO HIỂM XÃ HỘI TỈNH LẠNG SƠN", agency="bhxh", fill="province")
    x = keep(n, "PL2_BHXH.xlsx", xlsx_openpyxl(b), "openpyxl", "filled form 742-2018-pl2 (marker)")
    S.append(dict(
        name=n, client="webmail", date=at(9, 16, 22, 30), arrive=at(9, 16, 22, 36),
        from_=addr("Phong KHTC", "khtc.baohiem@yahoo.example"),
        reply_to="bhxh@langson.example",
        subject="Gui Phu luc II",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nGửi biểu Phụ lục II, đề nghị phản hồi về địa chỉ thư của cơ quan.\n\nTrân trọng.\n",
        atts=[Att("PL2_BHXH.xlsx", x)],
        expect=expect("probable-agency", "bhxh", "probable", None, True, [F("PL2_BHXH.xlsx", "workbook", "pl2", None, book=b)]),
        about="From a personal address with Reply-To: the agency's roster address: Reply-To is a claim anyone can write, so only the heading's name makes the agency probable; the receipt goes to From"))

    # 32 ------------------------------------------------------------------------------
    n = "32-department-own-address-probable"
    b = Book("pl3", "UBND HUYỆN LỘC BÌNH", agency="ubnd-loc-binh", fill="district", factor=0.076, nudge=0.02)
    x = keep(n, "PL3_LocBinh.xlsx", xlsx_openpyxl(b), "openpyxl", "filled form 742-2018-pl3 (marker)")
    S.append(dict(
        name=n, client="outlook", date=at(9, 16, 55, 12), arrive=at(9, 16, 55, 15),
        from_=addr("Sở KH&ĐT - Phòng THQH", DEPT), to=f"<{DEPT}>", pc="SKHDT-THQH",
        subject="Fwd: file bao cao nhan qua USB",
        body="Chuyển vào hộp thư tiếp nhận file biểu nhận trực tiếp qua USB (kèm công văn giấy).\n",
        atts=[Att("PL3_LocBinh.xlsx", x)],
        expect=expect("probable-agency", "ubnd-loc-binh", "probable", None, False, [
            F("PL3_LocBinh.xlsx", "workbook", "pl3", None, book=b)]),
        about="Sent from the department's own address: never an agency, no receipt; heading names Lộc Bình: probable"))

    # 33 ------------------------------------------------------------------------------
    n = "33-ubnd-cao-loc-official-after-probable"
    keep(n, "PL1_CaoLoc.xlsx", x10, "openpyxl", "same bytes as 10 (which was only quarantined)")
    d = keep(n, "Bao cao danh gia giua ky KTXH 2016-2020.docx", report_docx("pl1", "UBND huyện Cao Lộc"), "zipfile (docx)")
    S.append(dict(
        name=n, client="zimbra", date=at(9, 17, 20, 41), arrive=at(9, 17, 20, 47),
        from_=addr("UBND huyện Cao Lộc", "ubnd-cao-loc@langson.example"),
        subject="UBND huyện Cao Lộc gửi báo cáo đánh giá giữa kỳ và Phụ lục I",
        body=INTRO + "UBND huyện Cao Lộc gửi báo cáo và biểu Phụ lục I (thay thư gửi từ địa chỉ cá nhân ngày 06/7).\n"
             + sig("UBND huyện Cao Lộc", "Phòng Tài chính - Kế hoạch"),
        atts=[Att("PL1_CaoLoc.xlsx", x10), Att("Bao cao danh gia giua ky KTXH 2016-2020.docx", d)],
        expect=expect("filed", "ubnd-cao-loc", "address", False, True, [
            F("PL1_CaoLoc.xlsx", "workbook", "pl1", 1, book=b10),
            F("Bao cao danh gia giua ky KTXH 2016-2020.docx", "document", "pl1", 1)]),
        about="Official address sends the workbook 10 sent from a personal one: quarantined files were never filed, so version 1"))

    # 34 ------------------------------------------------------------------------------
    n = "34-thanh-tra-pdf-wrong-magic-utc-received"
    b = Book("pl1", "THANH TRA TỈNH", agency="thanh-tra", fill="province")
    x = keep(n, "PL1_ThanhTra.xlsx", xlsx_xlsxwriter(b), "XlsxWriter", "filled form 742-2018-pl1 (marker)")
    fake = ("<html><head><meta charset=\"utf-8\"><title>Báo cáo</title></head><body>"
            "<p>Báo cáo đánh giá giữa kỳ (bản lưu từ trang web)</p></body></html>\n").encode()
    d = keep(n, "Bao cao giua ky KTXH 2016-2020.pdf", fake, "HTML bytes", "named .pdf, not a PDF: unreadable")
    S.append(dict(
        name=n, client="outlook", date=at(9, 23, 59, 35), arrive=dt.datetime(2018, 7, 9, 16, 59, 41, tzinfo=dt.timezone.utc),
        from_=addr("Thanh tra tỉnh Lạng Sơn", "thanh-tra@langson.example"),
        subject="Thanh tra tỉnh gửi báo cáo giữa kỳ (Phụ lục I)",
        body=INTRO + "Thanh tra tỉnh gửi báo cáo và biểu Phụ lục I.\n" + sig("Thanh tra tỉnh Lạng Sơn", "Văn phòng"),
        atts=[Att("PL1_ThanhTra.xlsx", x), Att("Bao cao giua ky KTXH 2016-2020.pdf", d)],
        expect=expect("filed", "thanh-tra", "address", False, True, [
            F("PL1_ThanhTra.xlsx", "workbook", "pl1", 1, book=b),
            F("Bao cao giua ky KTXH 2016-2020.pdf", "document", "pl1", 1, "unreadable")]),
        about="A '.pdf' that is HTML (check 'unreadable'); arrives 23:59:41 +07 stamped in UTC (16:59:41 +0000): on time"))

    # 35 ------------------------------------------------------------------------------
    n = "35-ubnd-dinh-lap-pl3-late"
    b = Book("pl3", "UBND HUYỆN ĐÌNH LẬP", agency="ubnd-dinh-lap", fill="district", factor=0.032, nudge=-0.03)
    x = keep(n, "PL3_DinhLap.xlsx", xlsx_openpyxl(b), "openpyxl", "filled form 742-2018-pl3 (marker)")
    d = keep(n, "BC KH2019 Dinh Lap.docx", report_docx("pl3", "UBND huyện Đình Lập"), "zipfile (docx)")
    S.append(dict(
        name=n, client="roundcube", date=at(11, 8, 15, 2), arrive=at(11, 8, 15, 7),
        from_=addr("UBND huyện Đình Lập", "ubnd-dinh-lap@langson.example", "B"),
        subject="Đình Lập gửi báo cáo kế hoạch phát triển KT-XH năm 2019 (gửi muộn)",
        body=INTRO + "UBND huyện Đình Lập gửi báo cáo kế hoạch năm 2019 và biểu Phụ lục III. "
             "Do tổng hợp số liệu các xã chậm nên gửi muộn, mong Quý Sở thông cảm.\n"
             + sig("UBND huyện Đình Lập", "Phòng Tài chính - Kế hoạch"),
        atts=[Att("PL3_DinhLap.xlsx", x), Att("BC KH2019 Dinh Lap.docx", d)],
        expect=expect("filed", "ubnd-dinh-lap", "address", True, True, [
            F("PL3_DinhLap.xlsx", "workbook", "pl3", 1, book=b), F("BC KH2019 Dinh Lap.docx", "document", "pl3", 1)]),
        about="Arrives Wed 11 July 2018, after the deadline: filed, late"))

    return S, wb_log


def build_message(s):
    m = dict(s)
    m["from"] = s["from_"]
    m["received"] = [mx_received(s["name"], s["arrive"],
                                 *(("mail.gmail.example", "198.51.100.41") if "gmail.example" in s["from_"] and s["client"] == "gmail"
                                   else ("mail.yahoo.example", "203.0.113.9") if s["client"] == "webmail"
                                   else ("mail.langson.example", "192.0.2.10")))]
    if s["client"] == "thunderbird-forward":
        i = dict(s["inner"])
        i["from"] = i["from_"]
        inner_bytes = render(outlook_message(i))
        return render(thunderbird_message(m, inner=inner_bytes))
    return render(CLIENTS[s["client"]](m))


# ---------------------------------------------------------------------------------------
# Self-check and output
# ---------------------------------------------------------------------------------------


def attachments_of(msg):
    """Leaf attachments depth-first, descending into message/rfc822 parts."""
    out = []
    for part in msg.iter_parts() if msg.is_multipart() else [msg]:
        ct = part.get_content_type()
        if part.is_multipart():
            out += attachments_of(part)
        elif ct == "message/rfc822":
            out += attachments_of(part.get_content())
        elif part.get_filename() or part.get_param("name") or part.get_content_maintype() == "application":
            out.append(part)
    return out


def sanitize(name):
    """The name intake must report: NFC, last path component, no controls, no <>:"|?*."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) != "Cc")
    name = re.sub(r'[<>:"|?*]', "_", name)
    return name.strip(". ")


def listed_names(parts):
    """Sanitised names of the files a message carries, zip entries in place of the zip."""
    out = []
    for part in parts:
        name = part.get_filename() or part.get_param("name")
        if name.lower().endswith(".zip"):
            z = zipfile.ZipFile(io.BytesIO(part.get_payload(decode=True)))
            out += [sanitize(n) for n in z.namelist()]
        else:
            out.append(sanitize(name))
    return out


def self_check(path, s):
    raw = path.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b""), f"{path.name}: bare LF"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Message-ID"] or msg["Message-Id"], path.name
    top = msg.get_all("Received")[0]
    assert "mx.skhdt.langson.example" in top, path.name
    want = [a for a in s["atts"]]
    if s["client"] == "thunderbird-forward":
        want = s["inner"]["atts"]
    got = attachments_of(msg)
    assert len(got) == len(want), (path.name, len(got), len(want))
    for part, a in zip(got, want):
        data = part.get_payload(decode=True)
        assert data == a.data, (path.name, a.name)
    want_names = [f["name"] for f in s["expect"]["files"]]
    assert listed_names(got) == want_names, (path.name, listed_names(got), want_names)
    return msg


README_HEAD = """# mailbox-fixtures

The golden corpus of intake: raw messages as agencies' mail clients send them for campaign
`742-2018` (dispatch No. 742/SKHĐT-THQH, deadline 2018-07-10T00:00:00+07:00), each with the
decision intake must reach. Everything here is written by `generate.py`; do not edit by hand.

    pip install openpyxl XlsxWriter xlwt odfpy msoffcrypto-tool
    python3 mailbox-fixtures/generate.py

Reruns give byte-identical files (fixed dates, boundaries, Message-IDs, zip timestamps,
document properties and encryption salts).

## How the golden test uses them

The `.eml` files are fed **in lexical order into one fresh store**, with the configuration
in `config/` (roster `rosters/langson.toml`, campaign `campaigns/742-skhdt-thqh.toml`).
Later messages depend on earlier ones (13 duplicates 01, 14 is version 2 of 01, 29 repeats
the workbook of 03, 33 sends the bytes that 10 only got quarantined).

Beside each `NAME.eml` is `NAME.expected.json`:

| key | meaning |
| --- | --- |
| `outcome` | `filed`, `duplicate`, `list-ignored`, `probable-agency`, `unknown-sender`, `no-workbook`, `left-alone`, `auto-reply-ignored`, `unreadable`, `too-large` |
| `agency` | roster code or `null` |
| `agency_match` | `address` (From is a roster address; Sender and Reply-To never count), `domain`, `probable` (names and aliases in subject, file names or workbook heading cells, without accents or case), `none` |
| `late` | arrival (date of the **topmost** `Received:` header) after the deadline; `null` when nothing is filed |
| `receipt` | whether a receipt is queued (never for the same message again, unknown senders, auto-replies, `Auto-Submitted` ≠ no, `Precedence: bulk/list/junk`, or the department's own addresses; a resend of files already filed gets a short one) |
| `files` | every workbook (.xlsx .xlsm .xls .ods) and report document (.doc .docx .pdf .odt), zip entries and forwarded messages included, depth-first in message order: sanitised NFC `name`, `kind`, `deliverable`, `version` (null when not filed), `check` (`ok`, `empty`, `unreadable`, `encrypted`), and the result of checking a workbook against the campaign's forms: `form` (the form recognised, e.g. `742-2018-pl1`), `valid` (no error finding) and `findings` (`rule@cell` in the order intake reports them, `rule` alone when no cell is at fault) |

A workbook is checked whenever its message's campaign is known, also for unknown and
probable senders: the rows it must fill are those of the sender, of the guessed agency for a
probable sender, none for an unknown one. Documents, and workbooks that are not read
(`empty`, `unreadable`, `encrypted`), have `"form": null, "valid": null, "findings": []`; a
workbook that is read but is no form would have `"form": null, "valid": false, "findings":
["khong-nhan-ra-bieu-mau"]`. A version is `accepted` only when its workbook is valid.

File names are sanitised as: NFC, last component after any `/` or `\\`, control characters
removed, each of `<>:"|?*` replaced by `_`, leading and trailing dots and spaces stripped.

Every workbook is a **filled form**, built from the specifications in `config/forms/`
(read with `tomllib`, never copied by hand) in the layout of the blank form
(`intake template export`): "ĐƠN VỊ: …" naming the unit in row 1 (intake reads heading cells
for a probable agency), the form's heading lines from row 2, the sheet's title in row 5,
column headers in row 7, column numbers in row 8, indicators from row 9 (A code, B label,
C unit, D… values, then "Ghi chú", where the agency's required rows say "bắt buộc"). The
sending agency fills every row it must fill (the row's `who`) in every column, plus, for
most departments, the general provincial indicators; districts report their own figures,
scaled from the province's. Every sum the rules check is complete (all parts and the total)
and adds up within the tolerance the decimals allow, every ƯTH 2018 is within 30 % of
KH 2018, and plan and target columns hold ranges and bounds as typed ("7,5 - 8",
"trên 98", "dưới 10"). `generate.py` checks its own design with the rules of the forms
before writing: each workbook gives exactly the findings it is designed to give.

Blank-form copies carry a hidden sheet `_intake` whose A1 is `intake-form:742-2018-plN@1`;
scenario 30 is an agency's own table without it (no column numbers, no "Ghi chú"),
recognised by its content; 15 has no cells at all; 16 is a filled form cut short and 17 one
encrypted. Keyword matching assumes `_`, `-` and spaces separate words (`PL1_SoYTe`).

Two workbooks are **invalid by design**: 01's Sở Y tế Appendix I has BHYT coverage ƯTH 2018
typed 975 (over 100 %: an error; far from KH 2018: a warning), which 14's resubmission
corrects (version 2, valid, accepted; 13, the duplicate of 01, reports 01's findings); 20's
Bình Gia .xls has an ƯTH 2018 economic structure adding up to 101 % (the sum's finding
points at the first part's cell). Every other checked workbook is valid with no finding.

@INVALID@

`workbooks/` holds every attached workbook and document as the messages carry it (zip
entries too), named `NN-<ascii name>`; `workbooks/MANIFEST.json` maps each to its scenario,
attachment name, writer library and SHA-256.

## Scenarios

| file | outcome | what it covers |
| --- | --- | --- |
"""


def write_readme(scenarios, dup):
    rows = []
    entries = [(s["name"], s["expect"]["outcome"], s["about"]) for s in scenarios]
    entries.append((dup, "duplicate", "Byte-identical copy of 01 delivered again (same Message-ID): duplicate, no receipt"))
    for name, outcome, about in sorted(entries):
        rows.append(f"| `{name}` | {outcome} | {about.replace('|', '/')} |")
    invalid = [f"- `{s['name']}`, `{f['name']}`: " + ", ".join(f"`{x}`" for x in f["findings"])
               for s in scenarios for f in s["expect"]["files"] if f["valid"] is False]
    head = README_HEAD.replace("@INVALID@", "\n".join(invalid))
    (HERE / "README.md").write_text(head + "\n".join(rows) + "\n", encoding="utf-8")


def main():
    OUT_WB.mkdir(exist_ok=True)
    for old in list(HERE.glob("*.eml")) + list(HERE.glob("*.expected.json")) + list(OUT_WB.iterdir()):
        old.unlink()
    scenarios, wb_log = build_scenarios()
    written = {}
    for s in scenarios:
        raw = build_message(s)
        p = HERE / f"{s['name']}.eml"
        p.write_bytes(raw)
        written[s["name"]] = raw
        (HERE / f"{s['name']}.expected.json").write_text(
            json.dumps(s["expect"], ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        # arrival must agree with the expected lateness
        if s["expect"]["late"] is not None:
            assert (s["arrive"] > DEADLINE) == s["expect"]["late"], s["name"]

    # 13: the byte-identical copy of 01, delivered again under a later name.
    dup = "13-so-y-te-pl1-duplicate-copy"
    (HERE / f"{dup}.eml").write_bytes(written["01-so-y-te-pl1-outlook"])
    e01 = scenarios[0]["expect"]
    (HERE / f"{dup}.expected.json").write_text(json.dumps(
        expect("duplicate", "so-y-te", "address", None, False,
               [dict(f, version=None) for f in e01["files"]]), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    invalid = [f["name"] for s in scenarios for f in s["expect"]["files"] if f["valid"] is False]
    assert invalid == ["PL1_SoYTe.xlsx", "PL1_BinhGia.xls"], invalid  # exactly two, by design
    write_readme(scenarios, dup)

    manifest = []
    seen = {}
    for scn, name, data, writer, note in wb_log:
        digest = hashlib.sha256(data).hexdigest()
        nfc = unicodedata.normalize("NFC", name)
        base = nfc.replace("\\", "/").split("/")[-1]
        slug = unicodedata.normalize("NFKD", base.replace("Đ", "D").replace("đ", "d"))
        slug = slug.encode("ascii", "ignore").decode()
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", slug).strip("_")
        fname = f"{scn[:2]}-{slug}"
        if digest in seen:
            stored = seen[digest]
        else:
            (OUT_WB / fname).write_bytes(data)
            stored = seen[digest] = fname
        manifest.append({"scenario": scn, "attachment_name": nfc, "file": stored, "writer": writer,
                         "note": note, "sha256": digest, "bytes": len(data)})
    (OUT_WB / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    for s in scenarios:
        self_check(HERE / f"{s['name']}.eml", s)
    assert (HERE / f"{dup}.eml").read_bytes() == (HERE / "01-so-y-te-pl1-outlook.eml").read_bytes()
    ids = {}
    for p in sorted(HERE.glob("*.eml")):
        msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        mid = msg["Message-ID"]
        if p.name.startswith("13-"):
            continue
        assert mid not in ids, (p.name, ids.get(mid))
        ids[mid] = p.name
    print(f"wrote {len(scenarios) + 1} messages and {len(seen)} workbook/document files to {HERE}")


if __name__ == "__main__":
    sys.exit(main())
