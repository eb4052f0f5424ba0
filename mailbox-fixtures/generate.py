#!/usr/bin/env python3
"""Regenerate the golden mailbox corpus of intake (campaign 742-2018, Lạng Sơn).

Needs Python 3.9+ and:

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
rerunning gives byte-identical files. The script ends with a self-check that parses every
message with Python's email package and compares each attachment with the bytes it wrote.
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
# Workbook content
# ---------------------------------------------------------------------------------------

TITLES = {
    "pl1": "ĐÁNH GIÁ GIỮA KỲ THỰC HIỆN KẾ HOẠCH PHÁT TRIỂN KINH TẾ - XÃ HỘI GIAI ĐOẠN 2016 - 2020",
    "pl2": "ĐÁNH GIÁ GIỮA KỲ THỰC HIỆN KẾ HOẠCH CƠ CẤU LẠI NỀN KINH TẾ GIAI ĐOẠN 2016 - 2020",
    "pl3": "KẾ HOẠCH PHÁT TRIỂN KINH TẾ - XÃ HỘI NĂM 2019",
}
LABELS = {"pl1": "PHỤ LỤC I", "pl2": "PHỤ LỤC II", "pl3": "PHỤ LỤC III"}
NOTE = "(Kèm theo Công văn số 742/SKHĐT-THQH ngày 29/6/2018 của Sở Kế hoạch và Đầu tư)"
HEAD_MIDTERM = ["STT", "Chỉ tiêu", "Đơn vị tính", "TH 2016", "TH 2017", "KH 2018", "ƯTH 2018", "MT 2020"]
HEAD_2019 = ["STT", "Chỉ tiêu", "Đơn vị tính", "ƯTH 2018", "KH 2019"]

# Indicators of Appendix I (and III): values for TH 2016, TH 2017, KH 2018, ƯTH 2018,
# MT 2020, KH 2019; "add" rows are additive (counts, amounts), "rate" rows are not.
# "share" rows are parts of a structure that adds up to about 100 %.
# ("vn", x) is a number typed as Vietnamese text ("1.644,1").
PL1 = {
    "grdp": ("Tốc độ tăng trưởng kinh tế (GRDP)", "%", [7.08, 7.21, 7.5, 7.3, "7,5 - 8", "7,3 - 7,5"], "rate"),
    "grdp_nln": ("- Nông, lâm nghiệp và thủy sản", "%", [2.91, 3.12, 3.0, 3.2, "3 - 3,5", 3.1], "rate"),
    "grdp_cnxd": ("- Công nghiệp - xây dựng", "%", [9.62, 10.35, 11.5, 10.8, "11 - 12", 11.2], "rate"),
    "grdp_dv": ("- Dịch vụ", "%", [7.93, 7.61, 7.8, 7.7, "8 - 9", 7.9], "rate"),
    "grdp_thue": ("- Thuế sản phẩm", "%", [5.2, 6.1, 5.5, 5.9, "5 - 6", 6.0], "rate"),
    "cc": ("Cơ cấu kinh tế", "%", [100, 100, 100, 100, 100, 100], "rate"),
    "cc_nln": ("- Nông, lâm nghiệp và thủy sản", "%", [22.48, 21.95, 21.5, 21.61, "19 - 20%", 21.0], "share"),
    "cc_cnxd": ("- Công nghiệp - xây dựng", "%", [18.9, 19.21, 19.6, 19.5, "21 - 22%", 19.9], "share"),
    "cc_dv": ("- Dịch vụ", "%", [49.31, 49.41, 49.5, 49.42, "49 - 50%", 49.6], "share"),
    "cc_thue": ("- Thuế sản phẩm", "%", [9.31, 9.43, 9.4, 9.46, "9 - 10%", 9.5], "share"),
    "grdp_dn": ("GRDP bình quân đầu người", "Triệu đồng", [35.6, 38.2, 41.5, 41.2, 50, 44.8], "rate"),
    "grdp_usd": ("GRDP bình quân đầu người (quy đổi)", "USD", [1590, 1690, 1820, 1800, "2.200", 1950], "rate"),
    "luong_thuc": ("Sản lượng lương thực có hạt", "Nghìn tấn", [300.5, 305.8, 306, 307.1, 310, 308], "add"),
    "xnk": ("Giá trị kim ngạch xuất nhập khẩu", "Triệu USD", [3850, 4620, 4900, 5010, 5500, 5300], "add"),
    "ban_le": ("Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ", "Tỷ đồng", [14520, 15980, 17500, 17650, 22000, 19400], "add"),
    "thu_ns": ("Thu ngân sách nhà nước trên địa bàn", "Tỷ đồng", [6245.3, 6948.2, 6500, 7020, "7.500 - 8.000", 7300], "add"),
    "thu_nd": ("Trong đó: thu nội địa", "Tỷ đồng", [1510.2, ("vn", 1644.1), 1700, 1810.5, 2200, 1950], "add"),
    "von_dt": ("Tổng vốn đầu tư toàn xã hội", "Tỷ đồng", [12850, 14120, 15500, 15600, "18.000 - 20.000", 16800], "add"),
    "dn_moi": ("Số doanh nghiệp thành lập mới", "Doanh nghiệp", [252, 310, 350, 362, 400, 380], "add"),
    "ntm": ("Số xã đạt chuẩn nông thôn mới (lũy kế)", "Xã", [14, 20, 26, 26, 45, 33], "add"),
    "truong_cq": ("Tỷ lệ trường học đạt chuẩn quốc gia", "%", [38.5, 42.1, 45, 45.3, 50, 47], "rate"),
    "nha_vh": ("Tỷ lệ thôn, khối phố có nhà văn hóa", "%", [85.2, 88.6, 90, 90.4, 95, 92], "rate"),
    "bac_si": ("Số bác sĩ/vạn dân", "Bác sĩ", [8.9, 9.2, 9.5, 9.5, 10, 9.8], "rate"),
    "giuong": ("Số giường bệnh/vạn dân", "Giường", [30.5, 31, 31.5, 31.6, 32, 31.8], "rate"),
    "bhyt": ("Tỷ lệ dân số tham gia bảo hiểm y tế", "%", [95.1, 96.8, 97, 97.5, "trên 98", 98], "rate"),
    "ld_dt": ("Tỷ lệ lao động qua đào tạo", "%", [45.2, 48.5, 51, 51.3, 55, 53], "rate"),
    "viec_lam": ("Số lao động được giải quyết việc làm mới", "Người", [9850, 10120, 10000, 10250, 10000, 10200], "add"),
    "ho_ngheo": ("Tỷ lệ hộ nghèo", "%", [19.34, 16.31, 13.8, 13.9, "dưới 10", 11.5], "rate"),
    "giam_ngheo": ("Tỷ lệ giảm hộ nghèo", "%", [2.95, 3.03, "2 - 3", 2.4, "2 - 3", "2 - 2,5"], "rate"),
    "trong_rung": ("Trồng rừng mới", "ha", [10250, 11530, 10000, 10820, 10000, 10000], "add"),
    "che_phu": ("Tỷ lệ che phủ rừng", "%", [60.01, 60.93, 61.5, 61.5, 63, 62], "rate"),
    "nuoc_nt": ("Tỷ lệ dân số nông thôn được sử dụng nước hợp vệ sinh", "%", [89.5, 91.2, 92, 92.3, 95, 93], "rate"),
    "nuoc_dt": ("Tỷ lệ dân số đô thị được sử dụng nước sạch", "%", [96.1, 97.4, 98, 98.2, 99, 98.5], "rate"),
    "rac_dt": ("Tỷ lệ chất thải rắn đô thị được thu gom, xử lý", "%", [88.7, 90.5, 92, 92.1, 95, 93], "rate"),
    "rac_yt": ("Tỷ lệ chất thải y tế được xử lý", "%", [92.1, 95, 98, 98.3, 100, 100], "rate"),
    "xa_yt": ("Tỷ lệ xã đạt Bộ tiêu chí quốc gia về y tế", "%", [52.4, 61.8, 70, 71.2, 90, 80], "rate"),
    "sdd": ("Tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng thể nhẹ cân", "%", [17.2, 16.5, 15.8, 15.9, "dưới 15", 15.3], "rate"),
    "tiem_chung": ("Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ", "%", [96.5, 97.1, 97, 97.2, "trên 97", 97.5], "rate"),
    "tuoi_tho": ("Tuổi thọ trung bình", "Tuổi", [73.2, 73.4, 73.6, 73.6, 74, 73.8], "rate"),
}

# Indicators of Appendix II: TH 2016, TH 2017, KH 2018, ƯTH 2018, MT 2020.
PL2 = {
    "nsld": ("Tốc độ tăng năng suất lao động bình quân", "%", [5.1, 5.4, 5.5, 5.6, "5,5 - 6"], "rate"),
    "tfp": ("Tỷ trọng đóng góp của năng suất các nhân tố tổng hợp (TFP) vào tăng trưởng", "%", [28.5, 29.3, 30, 30.2, "30 - 35"], "rate"),
    "ccld": ("Cơ cấu lao động theo ngành kinh tế", "%", [None, None, None, None, None], "rate"),
    "ccld_nln": ("- Nông, lâm nghiệp và thủy sản", "%", [74.2, 72.8, 71.0, 71.3, 67.93], "share"),
    "ccld_cnxd": ("- Công nghiệp - xây dựng", "%", [6.5, 6.9, 7.2, 7.1, 7.72], "share"),
    "ccld_dv": ("- Dịch vụ", "%", [19.3, 20.3, 21.8, 21.6, 24.84], "share"),
    "dn_hd": ("Số doanh nghiệp đang hoạt động", "Doanh nghiệp", [1352, 1518, 1700, 1724, 2200], "add"),
    "htx_moi": ("Số hợp tác xã thành lập mới", "Hợp tác xã", [25, 31, 35, 38, 40], "add"),
    "htx_hd": ("Số hợp tác xã đang hoạt động", "Hợp tác xã", [145, 168, 190, 196, 250], "add"),
    "von_nnn": ("Tỷ lệ vốn đầu tư khu vực ngoài nhà nước trong tổng vốn đầu tư toàn xã hội", "%", [52.3, 54.1, 55, 55.6, "55 - 60"], "rate"),
    "do_thi_hoa": ("Tỷ lệ đô thị hóa", "%", [21.3, 21.8, 22.5, 22.4, 25], "rate"),
    "duong_xa": ("Tỷ lệ đường đến trung tâm xã được cứng hóa", "%", [92.5, 95.2, 97, 97.4, 100], "rate"),
    "nn_cnc": ("Tỷ trọng giá trị sản phẩm nông nghiệp ứng dụng công nghệ cao", "%", [3.5, 4.2, 5, 5.1, "8 - 10"], "rate"),
    "thu_ns": ("Thu ngân sách nhà nước trên địa bàn", "Tỷ đồng", [6245.3, 6948.2, 6500, 7020, "7.500 - 8.000"], "add"),
    "thu_nd": ("- Thu nội địa", "Tỷ đồng", [1510.2, ("vn", 1644.1), 1700, 1810.5, 2200], "add"),
    "thu_xnk": ("- Thu từ hoạt động xuất nhập khẩu", "Tỷ đồng", [4610.2, 5182.4, 4700, 5050, 5500], "add"),
    "thu_khac": ("- Thu khác", "Tỷ đồng", [124.9, 121.7, 100, 159.5, None], "add"),
    "chi_ns": ("Chi ngân sách địa phương", "Tỷ đồng", [8950.5, 9420.3, 9500, 9870, "10.500"], "add"),
}

ROWS = {
    # sector -> deliverable -> indicator keys
    "health": {
        "pl1": ["bac_si", "giuong", "bhyt", "xa_yt", "sdd", "tiem_chung", "tuoi_tho", "rac_yt"],
        "pl2": ["nsld", "ccld", "ccld_nln", "ccld_cnxd", "ccld_dv", "von_nnn", "dn_hd", "do_thi_hoa"],
        "pl3": ["bac_si", "giuong", "bhyt", "xa_yt", "sdd", "tiem_chung", "tuoi_tho", "rac_yt", "nuoc_dt"],
    },
    "province": {
        "pl1": ["grdp", "grdp_nln", "grdp_cnxd", "grdp_dv", "grdp_thue", "cc", "cc_nln", "cc_cnxd",
                "cc_dv", "cc_thue", "grdp_dn", "grdp_usd", "xnk", "thu_ns", "thu_nd"],
        "pl2": ["nsld", "tfp", "ccld", "ccld_nln", "ccld_cnxd", "ccld_dv", "dn_hd", "htx_moi", "htx_hd",
                "von_nnn", "thu_ns", "thu_nd", "thu_xnk", "thu_khac", "chi_ns"],
        "pl3": ["grdp", "grdp_nln", "grdp_cnxd", "grdp_dv", "grdp_thue", "cc", "cc_nln", "cc_cnxd",
                "cc_dv", "cc_thue", "grdp_dn", "ban_le", "thu_ns", "thu_nd", "von_dt"],
    },
    "district": {
        "pl1": ["grdp", "grdp_nln", "grdp_cnxd", "grdp_dv", "luong_thuc", "thu_ns", "thu_nd", "von_dt",
                "ntm", "truong_cq", "nha_vh", "bhyt", "ho_ngheo", "giam_ngheo", "che_phu"],
        "pl2": ["nsld", "ccld", "ccld_nln", "ccld_cnxd", "ccld_dv", "dn_hd", "htx_moi", "htx_hd",
                "do_thi_hoa", "duong_xa", "nn_cnc"],
        "pl3": ["grdp", "luong_thuc", "thu_ns", "thu_nd", "von_dt", "ntm", "truong_cq", "nha_vh",
                "ld_dt", "viec_lam", "ho_ngheo", "giam_ngheo", "trong_rung", "che_phu", "nuoc_nt"],
    },
    "labour": {
        "pl1": ["ld_dt", "viec_lam", "ho_ngheo", "giam_ngheo", "bhyt", "grdp", "grdp_dn", "nha_vh"],
    },
    "culture": {
        "pl1": ["nha_vh", "truong_cq", "ld_dt", "grdp", "grdp_dv", "ban_le", "viec_lam", "ntm", "ho_ngheo"],
    },
    "environment": {
        "pl2": ["nsld", "tfp", "von_nnn", "do_thi_hoa", "duong_xa", "nn_cnc", "dn_hd", "htx_moi", "htx_hd"],
    },
    "agriculture": {
        "pl3": ["luong_thuc", "ntm", "trong_rung", "che_phu", "nuoc_nt", "grdp_nln", "cc_nln", "ld_dt"],
    },
}


def vn_number(x):
    """1644.1 -> '1.644,1' (Vietnamese grouping)."""
    neg = x < 0
    x = abs(x)
    s = f"{x:.1f}" if abs(x - round(x)) > 1e-9 else f"{int(round(x))}"
    if "." in s:
        ip, fp = s.split(".")
    else:
        ip, fp = s, None
    groups = []
    while len(ip) > 3:
        groups.insert(0, ip[-3:])
        ip = ip[:-3]
    groups.insert(0, ip)
    out = ".".join(groups) + ("," + fp if fp else "")
    return ("-" if neg else "") + out


def parse_vn(s):
    return float(s.replace(".", "").replace(",", "."))


def scale_value(v, kind, factor, nudge):
    """A district's or another agency's value derived from the province's."""
    if v is None:
        return None
    if isinstance(v, tuple):
        return vn_number(round(v[1] * factor, 1))
    if isinstance(v, str):
        m = re.fullmatch(r"([\d.,]+) - ([\d.,]+)", v)
        if kind == "add" and m and factor != 1:
            a, b = parse_vn(m.group(1)), parse_vn(m.group(2))
            return f"{vn_number(round(a * factor))} - {vn_number(round(b * factor))}"
        return v
    if kind == "add":
        if factor == 1:
            return v
        r = round(v * factor, 1)
        return int(r) if isinstance(v, int) else r
    if nudge == 0 or v == 100 or kind == "share":
        return v
    return min(100, round(v * (1 + nudge), 2)) if v <= 100 else round(v * (1 + nudge), 2)


def table_rows(pl, sector, factor=1.0, nudge=0.0, overrides=None):
    """Data rows (STT, label, unit, values...) for one workbook."""
    keys = ROWS[sector][pl]
    master = PL2 if pl == "pl2" else PL1
    rows, n = [], 0
    for key in keys:
        label, unit, vals, kind = master[key]
        if pl == "pl3":
            vals = [vals[3], vals[5]]
        elif pl == "pl1":
            vals = vals[:5]
        vals = [scale_value(v, kind, factor, nudge) for v in vals]
        for (okey, col), ov in (overrides or {}).items():
            if okey == key:
                vals[col] = ov
        if label.startswith("-") or label.startswith("Trong đó"):
            stt = ""
        else:
            n += 1
            stt = str(n)
        rows.append([stt, label, unit] + vals)
    return rows


class Sheet:
    """One workbook's visible sheet: heading rows, header row, data rows."""

    def __init__(self, pl, heading, sheet_name, sector, factor=1.0, nudge=0.0, overrides=None,
                 marker=True, label=None, title=None):
        self.pl = pl
        self.sheet_name = sheet_name
        self.header = HEAD_2019 if pl == "pl3" else HEAD_MIDTERM
        self.heading = [heading, LABELS[pl] if label is None else label,
                        TITLES[pl] if title is None else title, NOTE]
        self.data = table_rows(pl, sector, factor, nudge, overrides)
        self.marker = f"intake-form:742-2018-{pl}@1" if marker else None

    def grid(self):
        """Rows 1..n as lists (None for an empty cell)."""
        g = [[x] for x in self.heading] + [[None], list(self.header)]
        g += [list(r) for r in self.data]
        return [[None if v == "" else v for v in row] for row in g]


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


def xlsx_openpyxl(sheet, empty=False):
    wb = openpyxl.Workbook()
    ws = wb.active
    if not empty:
        ws.title = sheet.sheet_name
        ncol = len(sheet.header)
        last = get_column_letter(ncol)
        for r, row in enumerate(sheet.grid(), 1):
            for c, v in enumerate(row, 1):
                if v is not None:
                    ws.cell(row=r, column=c, value=v)
        ws.merge_cells("A1:C1")
        for r in (2, 3, 4):
            ws.merge_cells(f"A{r}:{last}{r}")
        bold = Font(name="Times New Roman", bold=True, size=12)
        for r in (1, 2, 3):
            ws.cell(row=r, column=1).font = bold
            ws.cell(row=r, column=1).alignment = Alignment(horizontal="center")
        ws.cell(row=4, column=1).font = Font(name="Times New Roman", italic=True, size=11)
        ws.cell(row=4, column=1).alignment = Alignment(horizontal="center")
        for c in range(1, ncol + 1):
            cell = ws.cell(row=6, column=c)
            cell.font = bold
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions["A"].width = 6
        ws.column_dimensions["B"].width = 48
        ws.column_dimensions["C"].width = 13
        for c in range(4, ncol + 1):
            ws.column_dimensions[get_column_letter(c)].width = 12
        if sheet.marker:
            m = wb.create_sheet("_intake")
            m["A1"] = sheet.marker
            m.sheet_state = "hidden"
    wb.properties.created = DOC_CREATED
    wb.properties.modified = DOC_CREATED
    wb.properties.creator = "SKHDT Lang Son"
    buf = io.BytesIO()
    archive = FixedTimeZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return buf.getvalue()


def xlsx_xlsxwriter(sheet):
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"created": DOC_CREATED, "author": "SKHDT Lang Son"})
    ws = wb.add_worksheet(sheet.sheet_name)
    ncol = len(sheet.header)
    f_head = wb.add_format({"bold": True, "align": "center", "font_name": "Times New Roman", "font_size": 12})
    f_note = wb.add_format({"italic": True, "align": "center", "font_name": "Times New Roman"})
    f_th = wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True,
                          "border": 1, "font_name": "Times New Roman"})
    f_td = wb.add_format({"border": 1, "font_name": "Times New Roman"})
    f_num = wb.add_format({"border": 1, "font_name": "Times New Roman", "num_format": "#,##0.00"})
    grid = sheet.grid()
    ws.merge_range(0, 0, 0, 2, grid[0][0] or "", f_head)
    ws.merge_range(1, 0, 1, ncol - 1, grid[1][0] or "", f_head)
    ws.merge_range(2, 0, 2, ncol - 1, grid[2][0] or "", f_head)
    ws.merge_range(3, 0, 3, ncol - 1, grid[3][0] or "", f_note)
    for c, v in enumerate(grid[5]):
        ws.write(5, c, v, f_th)
    for r, row in enumerate(grid[6:], 6):
        for c, v in enumerate(row):
            if v is None:
                ws.write_blank(r, c, None, f_td)
            elif isinstance(v, (int, float)):
                ws.write_number(r, c, v, f_num)
            else:
                ws.write_string(r, c, v, f_td)
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 48)
    ws.set_column(2, 2, 13)
    ws.set_column(3, ncol - 1, 12)
    if sheet.marker:
        m = wb.add_worksheet("_intake")
        m.write_string(0, 0, sheet.marker)
        m.hide()
    wb.close()
    return buf.getvalue()


def xls_xlwt(sheet):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet.sheet_name)
    head = xlwt.easyxf("font: name Times New Roman, bold on, height 240; align: horiz center")
    note = xlwt.easyxf("font: name Times New Roman, italic on; align: horiz center")
    th = xlwt.easyxf("font: name Times New Roman, bold on; align: horiz center, vert center, wrap on;"
                     " borders: left thin, right thin, top thin, bottom thin")
    td = xlwt.easyxf("font: name Times New Roman; borders: left thin, right thin, top thin, bottom thin")
    ncol = len(sheet.header)
    grid = sheet.grid()
    ws.write_merge(0, 0, 0, 2, grid[0][0], head)
    ws.write_merge(1, 1, 0, ncol - 1, grid[1][0], head)
    ws.write_merge(2, 2, 0, ncol - 1, grid[2][0], head)
    ws.write_merge(3, 3, 0, ncol - 1, grid[3][0], note)
    for c, v in enumerate(grid[5]):
        ws.write(5, c, v, th)
    for r, row in enumerate(grid[6:], 6):
        for c, v in enumerate(row):
            ws.write(r, c, v, td)
    ws.col(0).width = 6 * 256
    ws.col(1).width = 48 * 256
    ws.col(2).width = 13 * 256
    if sheet.marker:
        m = wb.add_sheet("_intake")
        m.write(0, 0, sheet.marker)
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


def ods_odfpy(sheet):
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
    t = Table(name=sheet.sheet_name, stylename=ta_vis)
    ncol = len(sheet.header)
    t.addElement(TableColumn())
    t.addElement(TableColumn(stylename=co_b))
    t.addElement(TableColumn(numbercolumnsrepeated=ncol - 2))
    for r, row in enumerate(sheet.grid()):
        tr = TableRow()
        for v in row:
            kw = {"stylename": bold} if r in (0, 1, 2, 5) else {}
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
    if sheet.marker:
        m = Table(name="_intake", stylename=ta_hid)
        tr = TableRow()
        tc = TableCell(valuetype="string")
        tc.addElement(P(text=sheet.marker))
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


def F(name, kind, deliverable, version, check="ok"):
    return {"name": name, "kind": kind, "deliverable": deliverable, "version": version, "check": check}


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
    syt_pl1 = Sheet("pl1", "SỞ Y TẾ", "PL1", "health")
    x01 = keep(n, "PL1_SoYTe.xlsx", xlsx_openpyxl(syt_pl1), "openpyxl", "marker 742-2018-pl1")
    d01 = keep(n, "Bao cao giua ky.docx", report_docx("pl1", "Sở Y tế"), "zipfile (docx)")
    S.append(dict(
        name=n, client="outlook", date=at(2, 8, 47, 9), arrive=at(2, 8, 47, 12),
        from_=addr("Sở Y tế Lạng Sơn", "so-y-te@langson.example"), cc=CC_VP,
        subject="Báo cáo đánh giá giữa kỳ KH phát triển KT-XH 2016-2020 (Phụ lục I) - Sở Y tế",
        body=INTRO + "Sở Y tế gửi kèm theo báo cáo đánh giá giữa kỳ và biểu Phụ lục I.\n" + sig("Sở Y tế Lạng Sơn"),
        atts=[Att("PL1_SoYTe.xlsx", x01), Att("Bao cao giua ky.docx", d01)],
        expect=expect("filed", "so-y-te", "address", False, True, [
            F("PL1_SoYTe.xlsx", "workbook", "pl1", 1), F("Bao cao giua ky.docx", "document", "pl1", 1)]),
        about="Outlook 16, known agency address, Appendix I workbook (openpyxl, marker) + report .docx"))

    # 02 ------------------------------------------------------------------------------
    n = "02-so-tai-chinh-pl2-gmail-rfc2047"
    x = keep(n, "Phụ lục II - Sở Tài chính.xlsx",
             xlsx_xlsxwriter(Sheet("pl2", "SỞ TÀI CHÍNH", "Phu luc II", "province")), "XlsxWriter", "marker 742-2018-pl2")
    d = keep(n, "Báo cáo cơ cấu lại nền kinh tế.docx", report_docx("pl2", "Sở Tài chính"), "zipfile (docx)")
    S.append(dict(
        name=n, client="gmail", date=at(3, 10, 5, 41), arrive=at(3, 10, 5, 47),
        from_=addr("Sở Tài chính Lạng Sơn", "so-tai-chinh@langson.example", "B"), cc=CC_VP,
        subject="Sở Tài chính gửi báo cáo đánh giá giữa kỳ cơ cấu lại nền kinh tế 2016 - 2020",
        body=INTRO + "Sở Tài chính gửi báo cáo đánh giá giữa kỳ thực hiện kế hoạch cơ cấu lại nền kinh tế "
             "và biểu Phụ lục II kèm theo.\n" + sig("Sở Tài chính Lạng Sơn", "Phòng Ngân sách"),
        atts=[Att("Phụ lục II - Sở Tài chính.xlsx", x), Att("Báo cáo cơ cấu lại nền kinh tế.docx", d)],
        expect=expect("filed", "so-tai-chinh", "address", False, True, [
            F("Phụ lục II - Sở Tài chính.xlsx", "workbook", "pl2", 1),
            F("Báo cáo cơ cấu lại nền kinh tế.docx", "document", "pl2", 1)]),
        about="Gmail web shape (boundary 000000000000…, X-Attachment-Id), RFC 2047 B names, Appendix II (XlsxWriter) + .docx"))

    # 03 ------------------------------------------------------------------------------
    n = "03-so-cong-thuong-pl3-thunderbird-rfc2231"
    sct_name = "Phụ lục III - Kế hoạch năm 2019 - Sở Công Thương.xlsx"
    x03 = keep(n, sct_name, xlsx_openpyxl(Sheet("pl3", "SỞ CÔNG THƯƠNG", "Biểu III", "province", nudge=0.0)),
               "openpyxl", "marker 742-2018-pl3")
    d = keep(n, "Báo cáo kế hoạch năm 2019.pdf", report_pdf("pl3"), "hand-written PDF 1.4")
    S.append(dict(
        name=n, client="thunderbird", date=at(3, 15, 20, 2), arrive=at(3, 15, 20, 6),
        from_=addr("Sở Công Thương", "so-cong-thuong@langson.example", "q"), cc=CC_VP,
        subject="V/v báo cáo kế hoạch phát triển KT-XH năm 2019 (Phụ lục III)",
        body=INTRO + "Sở Công Thương gửi báo cáo kế hoạch năm 2019 và biểu Phụ lục III.\n" + sig("Sở Công Thương Lạng Sơn", "Văn phòng Sở"),
        atts=[Att(sct_name, x03), Att("Báo cáo kế hoạch năm 2019.pdf", d)],
        expect=expect("filed", "so-cong-thuong", "address", False, True, [
            F(sct_name, "workbook", "pl3", 1), F("Báo cáo kế hoạch năm 2019.pdf", "document", "pl3", 1)]),
        about="Thunderbird, Vietnamese names as RFC 2231 continuations (filename*0*/filename*1*), Appendix III + .pdf"))

    # 04 ------------------------------------------------------------------------------
    n = "04-ubnd-huu-lung-pl1-zip"
    xin = keep(n, "PL1_HuuLung.xlsx", xlsx_xlsxwriter(Sheet("pl1", "UBND HUYỆN HỮU LŨNG", "PL1", "district",
                                                            factor=0.071, nudge=-0.02)),
               "XlsxWriter", "inside HuuLung_BaoCaoGiuaKy.zip; marker 742-2018-pl1")
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
            F("PL1_HuuLung.xlsx", "workbook", "pl1", 1),
            F("Bao cao danh gia giua ky KTXH 2016-2020.docx", "document", "pl1", 1)]),
        about="Zimbra webmail, one .zip holding the Appendix I workbook and the report .docx"))

    # 05 ------------------------------------------------------------------------------
    n = "05-so-gtvt-pl1-forwarded"
    xg = keep(n, "PL1_SGTVT.xlsx", xlsx_openpyxl(Sheet("pl1", "SỞ GIAO THÔNG VẬN TẢI", "PL1", "province", nudge=0.0)),
              "openpyxl", "inside the forwarded message; marker 742-2018-pl1")
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
            F("PL1_SGTVT.xlsx", "workbook", "pl1", 1), F("BC giua ky KTXH 5 nam.docx", "document", "pl1", 1)]),
        about="Thunderbird 'forward as attachment': message/rfc822 holding the agency's own internal mail with workbook + .docx"))

    # 06 ------------------------------------------------------------------------------
    n = "06-so-xay-dung-pl3-apple-inline"
    x = keep(n, "PL3_SXD.xlsx", xlsx_openpyxl(Sheet("pl3", "SỞ XÂY DỰNG", "PL3", "province", nudge=0.0)),
             "openpyxl", "marker 742-2018-pl3")
    d = keep(n, "Bao cao KH2019.docx", report_docx("pl3", "Sở Xây dựng"), "zipfile (docx)")
    S.append(dict(
        name=n, client="apple", date=at(5, 8, 15, 22), arrive=at(5, 8, 15, 27),
        from_=addr("Sở Xây dựng Lạng Sơn", "so-xay-dung@langson.example", "q"),
        subject="Sở Xây dựng gửi Phụ lục III kế hoạch năm 2019",
        body=INTRO + "Sở Xây dựng gửi biểu Phụ lục III và báo cáo kế hoạch năm 2019.\n",
        signature="\nTrân trọng./.\nVăn phòng Sở Xây dựng Lạng Sơn\n",
        atts=[Att("PL3_SXD.xlsx", x), Att("Bao cao KH2019.docx", d)],
        expect=expect("filed", "so-xay-dung", "address", False, True, [
            F("PL3_SXD.xlsx", "workbook", "pl3", 1), F("Bao cao KH2019.docx", "document", "pl3", 1)]),
        about="Apple Mail: Content-Disposition inline for the workbook and the .docx, text parts between them"))

    # 07 ------------------------------------------------------------------------------
    n = "07-ubnd-van-quan-pl1-apple-nfd"
    vq_x, vq_d = "Phụ lục I - Văn Quan.xlsx", "Báo cáo đánh giá giữa kỳ.docx"
    x = keep(n, vq_x, xlsx_xlsxwriter(Sheet("pl1", "UBND HUYỆN VĂN QUAN", "Phụ lục I", "district",
                                            factor=0.048, nudge=-0.05)), "XlsxWriter", "marker 742-2018-pl1; sent with an NFD name")
    d = keep(n, vq_d, report_docx("pl1", "UBND huyện Văn Quan"), "zipfile (docx)", "sent with an NFD name")
    S.append(dict(
        name=n, client="apple", date=at(5, 9, 12, 30), arrive=at(5, 9, 12, 33),
        from_=addr("UBND huyện Văn Quan", "ubnd-van-quan@langson.example", "q"),
        subject="UBND huyện Văn Quan gửi báo cáo đánh giá giữa kỳ giai đoạn 2016 - 2020",
        body=INTRO + "UBND huyện Văn Quan gửi báo cáo đánh giá giữa kỳ và biểu Phụ lục I.\n",
        signature="\nTrân trọng./.\nPhòng Tài chính - Kế hoạch huyện Văn Quan\n",
        atts=[Att(vq_x, x, nfd=True), Att(vq_d, d, nfd=True)],
        expect=expect("filed", "ubnd-van-quan", "address", False, True, [
            F(vq_x, "workbook", "pl1", 1), F(vq_d, "document", "pl1", 1)]),
        about="Apple Mail from macOS: file names in NFD (decomposed accents), expected back in NFC"))

    # 08 ------------------------------------------------------------------------------
    n = "08-so-tn-mt-pl2-octet-stream"
    x = keep(n, "PL2_STNMT.xlsx", xlsx_xlsxwriter(Sheet("pl2", "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "PL2", "environment")),
             "XlsxWriter", "marker 742-2018-pl2; sent as application/octet-stream")
    d = keep(n, "Bao cao co cau lai.docx", report_docx("pl2", "Sở Tài nguyên và Môi trường"), "zipfile (docx)",
             "sent as application/octet-stream")
    S.append(dict(
        name=n, client="outlook", att_mode="octet", date=at(5, 10, 40, 11), arrive=at(5, 10, 40, 15),
        from_=addr("Sở Tài nguyên và Môi trường", "so-tn-mt@langson.example"), pc="STNMT-KHTC",
        subject="Gui bao cao co cau lai nen kinh te (PL2) - So TN&MT",
        body=INTRO + "Sở Tài nguyên và Môi trường gửi báo cáo và biểu Phụ lục II.\n" + sig("Sở TN&MT Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("PL2_STNMT.xlsx", x), Att("Bao cao co cau lai.docx", d)],
        expect=expect("filed", "so-tn-mt", "address", False, True, [
            F("PL2_STNMT.xlsx", "workbook", "pl2", 1), F("Bao cao co cau lai.docx", "document", "pl2", 1)]),
        about="Attachments typed application/octet-stream, name only in Content-Type name=, bare 'Content-Disposition: attachment'"))

    # 09 ------------------------------------------------------------------------------
    n = "09-gmail-personal-so-y-te-subject-probable"
    x09 = keep(n, "Phu luc 2.xlsx", xlsx_xlsxwriter(Sheet("pl2", "SỞ Y TẾ", "Phu luc II", "health")),
               "XlsxWriter", "marker 742-2018-pl2")
    S.append(dict(
        name=n, client="gmail", date=at(5, 21, 47, 50), arrive=at(5, 21, 47, 55),
        from_=addr("Phong KHTC", "khtc.yte2018@gmail.example", "B"),
        subject="BC giua ky So Y te",
        body="Kính gửi phòng Tổng hợp - Quy hoạch,\n\nEm gửi biểu báo cáo giữa kỳ ạ. Do hộp thư cơ quan bị lỗi "
             "nên em gửi tạm bằng thư cá nhân.\n\nEm cảm ơn.\n",
        atts=[Att("Phu luc 2.xlsx", x09)],
        expect=expect("probable-agency", "so-y-te", "probable", None, True, [
            F("Phu luc 2.xlsx", "workbook", "pl2", None)]),
        about="Personal Gmail address; the agency is named only in the unaccented subject 'BC giua ky So Y te'"))

    # 10 ------------------------------------------------------------------------------
    n = "10-yahoo-personal-cao-loc-heading-probable"
    x10 = keep(n, "Phu luc 1.xlsx", xlsx_openpyxl(Sheet("pl1", "UBND HUYỆN CAO LỘC", "PL1", "district",
                                                        factor=0.083, nudge=0.01)),
               "openpyxl", "marker 742-2018-pl1; same bytes filed later by 33")
    S.append(dict(
        name=n, client="webmail", date=at(6, 7, 58, 1), arrive=at(6, 7, 58, 9),
        from_=addr("tong hop kt", "tonghop.kt@yahoo.example"),
        subject="Gui bao cao giua ky",
        body="Kính gửi Sở KH&ĐT,\n\nEm gửi file số liệu báo cáo đánh giá giữa kỳ ạ.\n\nTrân trọng.\n",
        atts=[Att("Phu luc 1.xlsx", x10)],
        expect=expect("probable-agency", "ubnd-cao-loc", "probable", None, True, [
            F("Phu luc 1.xlsx", "workbook", "pl1", None)]),
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
    x = keep(n, "Book1.xlsx", xlsx_openpyxl(Sheet("pl3", "ĐƠN VỊ: ...............", "Sheet1", "district",
                                                  factor=0.05, nudge=0.03, label="", title="BIỂU SỐ LIỆU")),
             "openpyxl", "marker 742-2018-pl3; no agency anywhere")
    S.append(dict(
        name=n, client="webmail", date=at(6, 11, 3, 44), arrive=at(6, 11, 3, 50),
        from_=addr("", "user.2018@yahoo.example"),
        subject="gui file",
        body="gửi anh chị file\n",
        atts=[Att("Book1.xlsx", x)],
        expect=expect("unknown-sender", None, "none", None, False, [
            F("Book1.xlsx", "workbook", "pl3", None)]),
        about="Unknown sender with a workbook (marker only) and no clue to the agency anywhere"))

    # 13 is a byte copy of 01, written after the loop.

    # 14 ------------------------------------------------------------------------------
    n = "14-so-y-te-pl1-resubmission-v2"
    x = keep(n, "PL1_SoYTe_sua.xlsx",
             xlsx_openpyxl(Sheet("pl1", "SỞ Y TẾ", "PL1", "health",
                                 overrides={("bac_si", 3): 9.6, ("giuong", 3): 31.9, ("bhyt", 3): 97.8})),
             "openpyxl", "marker 742-2018-pl1; numbers changed from 01")
    S.append(dict(
        name=n, client="outlook", date=at(6, 15, 12, 40), arrive=at(6, 15, 12, 44),
        from_=addr("Sở Y tế Lạng Sơn", "so-y-te@langson.example"), cc=CC_VP,
        subject="Gửi lại Phụ lục I (đã chỉnh sửa số liệu) - Sở Y tế",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nSở Y tế gửi lại biểu Phụ lục I đã chỉnh sửa số liệu ước thực hiện "
             "năm 2018 (số bác sĩ, giường bệnh, tỷ lệ tham gia BHYT), đề nghị sử dụng bản này thay bản gửi ngày 02/7.\n"
             + sig("Sở Y tế Lạng Sơn"),
        atts=[Att("PL1_SoYTe_sua.xlsx", x)],
        expect=expect("filed", "so-y-te", "address", False, True, [
            F("PL1_SoYTe_sua.xlsx", "workbook", "pl1", 2)]),
        about="Same agency resends Appendix I with changed numbers: version 2"))

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
    full = xlsx_openpyxl(Sheet("pl2", "SỞ TƯ PHÁP", "PL2", "province"))
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
    plain = xlsx_openpyxl(Sheet("pl3", "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "PL3", "province"))
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
    x = keep(n, "PL1_bad.xlsx", xlsx_openpyxl(Sheet("pl1", "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", "PL1", "labour")),
             "openpyxl", "marker 742-2018-pl1; sent as ..\\..\\x/../PL1_bad.xlsx")
    S.append(dict(
        name=n, client="outlook", att_mode="rfc2231-only", date=at(9, 8, 44, 2), arrive=at(9, 8, 44, 6),
        from_=addr("Sở LĐ-TB&XH Lạng Sơn", "so-ld-tbxh@langson.example"),
        subject="Sở LĐ-TB&XH gửi Phụ lục I",
        body=INTRO + "Sở Lao động - Thương binh và Xã hội gửi biểu Phụ lục I.\n" + sig("Sở LĐ-TB&XH Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("..\\..\\x/../PL1_bad.xlsx", x)],
        expect=expect("filed", "so-ld-tbxh", "address", False, True, [
            F("PL1_bad.xlsx", "workbook", "pl1", 1)]),
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
    x = keep(n, "PL1_BinhGia.xls", xls_xlwt(Sheet("pl1", "UBND HUYỆN BÌNH GIA", "PL1", "district",
                                                  factor=0.041, nudge=-0.04)), "xlwt", "marker 742-2018-pl1 (hidden sheet)")
    S.append(dict(
        name=n, client="zimbra", date=at(9, 9, 10, 2), arrive=at(9, 9, 10, 7),
        from_=addr("UBND huyện Bình Gia", "ubnd-binh-gia@langson.example"),
        subject="Bình Gia gửi biểu Phụ lục I đánh giá giữa kỳ",
        body=INTRO + "UBND huyện Bình Gia gửi biểu Phụ lục I (báo cáo bằng văn bản gửi qua đường bưu điện).\n"
             + sig("UBND huyện Bình Gia", "Phòng Tài chính - Kế hoạch"),
        atts=[Att("PL1_BinhGia.xls", x)],
        expect=expect("filed", "ubnd-binh-gia", "address", False, True, [
            F("PL1_BinhGia.xls", "workbook", "pl1", 1)]),
        about="District sends a legacy .xls (xlwt, BIFF8) through Zimbra"))

    # 21 ------------------------------------------------------------------------------
    n = "21-ubnd-bac-son-pl2-ods"
    bs_x, bs_d = "Phụ lục II - Bắc Sơn.ods", "Bao cao co cau lai KT.odt"
    x = keep(n, bs_x, ods_odfpy(Sheet("pl2", "UBND HUYỆN BẮC SƠN", "Phụ lục II", "district",
                                       factor=0.052, nudge=0.02)), "odfpy", "marker 742-2018-pl2 (hidden table)")
    d = keep(n, bs_d, report_odt("pl2", "UBND huyện Bắc Sơn"), "zipfile (odt)")
    S.append(dict(
        name=n, client="roundcube", date=at(9, 9, 37, 51), arrive=at(9, 9, 37, 55),
        from_=addr("UBND huyện Bắc Sơn", "ubnd-bac-son@langson.example", "B"),
        subject="Bắc Sơn gửi báo cáo cơ cấu lại nền kinh tế",
        body=INTRO + "UBND huyện Bắc Sơn gửi báo cáo và biểu Phụ lục II.\n" + sig("UBND huyện Bắc Sơn", "Phòng Tài chính - Kế hoạch"),
        atts=[Att(bs_x, x), Att(bs_d, d)],
        expect=expect("filed", "ubnd-bac-son", "address", False, True, [
            F(bs_x, "workbook", "pl2", 1), F(bs_d, "document", "pl2", 1)]),
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
    x = keep(n, "PL3_SoYTe.xlsx", xlsx_xlsxwriter(Sheet("pl3", "SỞ Y TẾ", "PL3", "health")),
             "XlsxWriter", "marker 742-2018-pl3")
    d = keep(n, "Bao cao KH 2019.docx", report_docx("pl3", "Sở Y tế"), "zipfile (docx)")
    S.append(dict(
        name=n, client="outlook", date=at(9, 10, 26, 7), arrive=at(9, 10, 26, 11),
        from_=addr("Ke toan", "ke-toan@soyte.langson.example"), pc="SYT-KETOAN",
        subject="Gửi báo cáo kế hoạch năm 2019 và Phụ lục III",
        body=INTRO + "Phòng Kế hoạch - Tài chính gửi báo cáo kế hoạch năm 2019 và biểu Phụ lục III.\n" + sig("Sở Y tế Lạng Sơn"),
        atts=[Att("PL3_SoYTe.xlsx", x), Att("Bao cao KH 2019.docx", d)],
        expect=expect("filed", "so-y-te", "domain", False, True, [
            F("PL3_SoYTe.xlsx", "workbook", "pl3", 1), F("Bao cao KH 2019.docx", "document", "pl3", 1)]),
        about="Sender ke-toan@soyte.langson.example: matched by the agency's domain"))

    # 24 ------------------------------------------------------------------------------
    n = "24-so-vh-tt-dl-sender-header"
    x = keep(n, "PL1_SVHTTDL.xlsx", xlsx_openpyxl(Sheet("pl1", "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", "PL1", "culture")),
             "openpyxl", "marker 742-2018-pl1")
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
        expect=expect("filed", "so-vh-tt-dl", "address", False, True, [
            F("PL1_SVHTTDL.xlsx", "workbook", "pl1", 1),
            F("BC danh gia giua ky KTXH 2016-2020.docx", "document", "pl1", 1)]),
        about="From a personal address, Sender: the agency's roster address: matched by address"))

    # 25 ------------------------------------------------------------------------------
    n = "25-ubnd-chi-lang-all-three"
    cl = [("PL1_ChiLang.xlsx", "pl1", xlsx_openpyxl, "openpyxl", "Báo cáo đánh giá giữa kỳ KTXH 2016-2020.docx"),
          ("PL2_ChiLang.xlsx", "pl2", xlsx_xlsxwriter, "XlsxWriter", "Báo cáo cơ cấu lại nền kinh tế.docx"),
          ("PL3_ChiLang.xlsx", "pl3", xlsx_xlsxwriter, "XlsxWriter", "Báo cáo kế hoạch năm 2019.docx")]
    atts, files = [], []
    for xname, pl, writer, wname, dname in cl:
        x = keep(n, xname, writer(Sheet(pl, "UBND HUYỆN CHI LĂNG", {"pl1": "PL1", "pl2": "PL2", "pl3": "PL3"}[pl],
                                        "district", factor=0.067, nudge=-0.01)), wname, f"marker 742-2018-{pl}")
        d = keep(n, dname, report_docx(pl, "UBND huyện Chi Lăng"), "zipfile (docx)")
        atts += [Att(xname, x), Att(dname, d)]
        files += [F(xname, "workbook", pl, 1), F(dname, "document", pl, 1)]
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
    x = keep(n, "baocao.xlsx", xlsx_openpyxl(Sheet("pl2", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Sheet1", "province",
                                                   label="", title="BIỂU SỐ LIỆU")),
             "openpyxl", "marker 742-2018-pl2 is the only clue to the deliverable")
    S.append(dict(
        name=n, client="gmail", date=at(9, 13, 40, 25), arrive=at(9, 13, 40, 31),
        from_=addr("Sở Thông tin và Truyền thông", "so-tt-tt@langson.example", "B"),
        subject="Gửi báo cáo",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nSở Thông tin và Truyền thông gửi file số liệu.\n" + sig("Sở TT&TT Lạng Sơn", "Văn phòng Sở"),
        atts=[Att("baocao.xlsx", x)],
        expect=expect("filed", "so-tt-tt", "address", False, True, [F("baocao.xlsx", "workbook", "pl2", 1)]),
        about="Generic file name 'baocao.xlsx', sheet 'Sheet1', no appendix label or title: deliverable from the hidden marker only"))

    # 27 ------------------------------------------------------------------------------
    n = "27-so-nn-ptnt-keywordless-document"
    nn_x, nn_d = "Phụ lục III - Sở NN&PTNT.xlsx", "Van ban kem theo.docx"
    x = keep(n, nn_x, xlsx_xlsxwriter(Sheet("pl3", "SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN", "Biểu III", "agriculture")),
             "XlsxWriter", "marker 742-2018-pl3")
    d = keep(n, nn_d, report_docx("pl3", "Sở Nông nghiệp và Phát triển nông thôn"), "zipfile (docx)")
    S.append(dict(
        name=n, client="thunderbird", date=at(9, 14, 5, 9), arrive=at(9, 14, 5, 12),
        from_=addr("Sở Nông nghiệp và PTNT", "so-nn-ptnt@langson.example", "q"),
        subject="Sở NN&PTNT gửi kế hoạch năm 2019",
        body=INTRO + "Sở Nông nghiệp và Phát triển nông thôn gửi biểu Phụ lục III và văn bản kèm theo.\n"
             + sig("Sở NN&PTNT Lạng Sơn"),
        atts=[Att(nn_x, x), Att(nn_d, d)],
        expect=expect("filed", "so-nn-ptnt", "address", False, True, [
            F(nn_x, "workbook", "pl3", 1), F(nn_d, "document", "pl3", 1)]),
        about="A document whose name has no keyword beside one workbook: the document goes with that workbook's deliverable"))

    # 28 ------------------------------------------------------------------------------
    n = "28-cuc-thong-ke-precedence-bulk"
    x = keep(n, "PL1_CucThongKe.xlsx", xlsx_openpyxl(Sheet("pl1", "CỤC THỐNG KÊ TỈNH LẠNG SƠN", "PL1", "province")),
             "openpyxl", "marker 742-2018-pl1")
    S.append(dict(
        name=n, client="zimbra", date=at(9, 14, 30, 0), arrive=at(9, 14, 30, 9),
        from_=addr("Cục Thống kê Lạng Sơn", "cuc-thong-ke@langson.example"),
        to=f"{DEPT}, {CC_VP}",
        extra=["Precedence: bulk"],
        subject="Cục Thống kê gửi số liệu Phụ lục I đánh giá giữa kỳ",
        body="Kính gửi các cơ quan, đơn vị,\n\nCục Thống kê gửi số liệu ước thực hiện năm 2018 phục vụ đánh giá giữa kỳ "
             "(biểu Phụ lục I kèm theo).\n" + sig("Cục Thống kê tỉnh Lạng Sơn", "Phòng Tổng hợp"),
        atts=[Att("PL1_CucThongKe.xlsx", x)],
        expect=expect("filed", "cuc-thong-ke", "address", False, False, [
            F("PL1_CucThongKe.xlsx", "workbook", "pl1", 1)]),
        about="Known agency with 'Precedence: bulk' and a workbook: filed, but no receipt"))

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
        expect=expect("duplicate", "so-cong-thuong", "address", None, False, [
            F("Phu luc III - KH 2019 (gui lai).xlsx", "workbook", "pl3", None)]),
        about="New message, new Message-ID and file name, but the workbook bytes were filed by 03: duplicate"))

    # 30 ------------------------------------------------------------------------------
    n = "30-cuc-thue-own-copy-no-marker"
    x = keep(n, "Bieu III - Cuc Thue.xlsx", xlsx_xlsxwriter(Sheet("pl3", "CỤC THUẾ TỈNH LẠNG SƠN", "Biểu III", "province",
                                                                  marker=False)),
             "XlsxWriter", "agency's own copy: no marker; heading, sheet name and file name say Appendix III")
    d = keep(n, "Bao cao KH2019 Cuc Thue.pdf", report_pdf("pl3"), "hand-written PDF 1.4")
    S.append(dict(
        name=n, client="outlook", date=at(9, 15, 48, 19), arrive=at(9, 15, 48, 23),
        from_=addr("Cục Thuế tỉnh Lạng Sơn", "cuc-thue@langson.example"),
        subject="Cục Thuế gửi báo cáo kế hoạch năm 2019",
        body=INTRO + "Cục Thuế gửi báo cáo và biểu số liệu thu ngân sách năm 2019.\n" + sig("Cục Thuế tỉnh Lạng Sơn", "Phòng Nghiệp vụ - Dự toán"),
        atts=[Att("Bieu III - Cuc Thue.xlsx", x), Att("Bao cao KH2019 Cuc Thue.pdf", d)],
        expect=expect("filed", "cuc-thue", "address", False, True, [
            F("Bieu III - Cuc Thue.xlsx", "workbook", "pl3", 1),
            F("Bao cao KH2019 Cuc Thue.pdf", "document", "pl3", 1)]),
        about="Agency's own copy without the marker: recognised by heading 'PHỤ LỤC III', sheet 'Biểu III' and file name"))

    # 31 ------------------------------------------------------------------------------
    n = "31-bhxh-reply-to-address"
    x = keep(n, "PL2_BHXH.xlsx", xlsx_openpyxl(Sheet("pl2", "BẢO HIỂM XÃ HỘI TỈNH LẠNG SƠN", "PL2", "province")),
             "openpyxl", "marker 742-2018-pl2")
    S.append(dict(
        name=n, client="webmail", date=at(9, 16, 22, 30), arrive=at(9, 16, 22, 36),
        from_=addr("Phong KHTC", "khtc.baohiem@yahoo.example"),
        reply_to="bhxh@langson.example",
        subject="Gui Phu luc II",
        body="Kính gửi Sở Kế hoạch và Đầu tư,\n\nGửi biểu Phụ lục II, đề nghị phản hồi về địa chỉ thư của cơ quan.\n\nTrân trọng.\n",
        atts=[Att("PL2_BHXH.xlsx", x)],
        expect=expect("filed", "bhxh", "address", False, True, [F("PL2_BHXH.xlsx", "workbook", "pl2", 1)]),
        about="From a personal address with Reply-To: the agency's roster address: matched by address"))

    # 32 ------------------------------------------------------------------------------
    n = "32-department-own-address-probable"
    x = keep(n, "PL3_LocBinh.xlsx", xlsx_openpyxl(Sheet("pl3", "UBND HUYỆN LỘC BÌNH", "PL3", "district",
                                                        factor=0.076, nudge=0.02)), "openpyxl", "marker 742-2018-pl3")
    S.append(dict(
        name=n, client="outlook", date=at(9, 16, 55, 12), arrive=at(9, 16, 55, 15),
        from_=addr("Sở KH&ĐT - Phòng THQH", DEPT), to=f"<{DEPT}>", pc="SKHDT-THQH",
        subject="Fwd: file bao cao nhan qua USB",
        body="Chuyển vào hộp thư tiếp nhận file biểu nhận trực tiếp qua USB (kèm công văn giấy).\n",
        atts=[Att("PL3_LocBinh.xlsx", x)],
        expect=expect("probable-agency", "ubnd-loc-binh", "probable", None, False, [
            F("PL3_LocBinh.xlsx", "workbook", "pl3", None)]),
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
            F("PL1_CaoLoc.xlsx", "workbook", "pl1", 1),
            F("Bao cao danh gia giua ky KTXH 2016-2020.docx", "document", "pl1", 1)]),
        about="Official address sends the workbook 10 sent from a personal one: quarantined files were never filed, so version 1"))

    # 34 ------------------------------------------------------------------------------
    n = "34-thanh-tra-pdf-wrong-magic-utc-received"
    x = keep(n, "PL1_ThanhTra.xlsx", xlsx_xlsxwriter(Sheet("pl1", "THANH TRA TỈNH", "PL1", "province")),
             "XlsxWriter", "marker 742-2018-pl1")
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
            F("PL1_ThanhTra.xlsx", "workbook", "pl1", 1),
            F("Bao cao giua ky KTXH 2016-2020.pdf", "document", "pl1", 1, "unreadable")]),
        about="A '.pdf' that is HTML (check 'unreadable'); arrives 23:59:41 +07 stamped in UTC (16:59:41 +0000): on time"))

    # 35 ------------------------------------------------------------------------------
    n = "35-ubnd-dinh-lap-pl3-late"
    x = keep(n, "PL3_DinhLap.xlsx", xlsx_openpyxl(Sheet("pl3", "UBND HUYỆN ĐÌNH LẬP", "PL3", "district",
                                                        factor=0.032, nudge=-0.03)), "openpyxl", "marker 742-2018-pl3")
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
            F("PL3_DinhLap.xlsx", "workbook", "pl3", 1), F("BC KH2019 Dinh Lap.docx", "document", "pl3", 1)]),
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
| `outcome` | `filed`, `duplicate`, `probable-agency`, `unknown-sender`, `no-workbook`, `left-alone`, `auto-reply-ignored`, `unreadable`, `too-large` |
| `agency` | roster code or `null` |
| `agency_match` | `address` (From, Sender or Reply-To is a roster address), `domain`, `probable` (names and aliases in subject, file names or workbook heading cells, without accents or case), `none` |
| `late` | arrival (date of the **topmost** `Received:` header) after the deadline; `null` when nothing is filed |
| `receipt` | whether a receipt is queued (never for duplicates, unknown senders, auto-replies, `Auto-Submitted` ≠ no, `Precedence: bulk/list/junk`, or the department's own addresses) |
| `files` | every workbook (.xlsx .xlsm .xls .ods) and report document (.doc .docx .pdf .odt), zip entries and forwarded messages included, depth-first in message order: sanitised NFC `name`, `kind`, `deliverable`, `version` (null when not filed), `check` (`ok`, `empty`, `unreadable`, `encrypted`) |

File names are sanitised as: NFC, last component after any `/` or `\\`, control characters
removed, each of `<>:"|?*` replaced by `_`, leading and trailing dots and spaces stripped.

Workbooks filled from the blank forms carry a hidden sheet `_intake` whose A1 is
`intake-form:742-2018-plN@1`; scenario 30 is an agency's own copy without it, 15 has no
cells at all. Keyword matching assumes `_`, `-` and spaces separate words (`PL1_SoYTe`).

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
    (HERE / "README.md").write_text(README_HEAD + "\n".join(rows) + "\n", encoding="utf-8")


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
