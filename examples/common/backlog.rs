//! A backlog of agencies' mail for the ingest benchmark, reproducible from a seed.
//!
//! Every message comes from a listed agency's address and carries one distinct workbook
//! (its numbers are its own), in one of the shapes a department's mailbox sees after a
//! holiday:
//!
//! - **own layout** (70 %): one of the campaign's forms as an agency retypes it: sheet
//!   "Biểu 01", a title block with the form's title, the header row under the agency's own
//!   column names (the form's label or an alias), the form's rows by label (or an alias),
//!   numbered the form's way or the agency's own, values written as Vietnamese text numbers
//!   ("1.234,5"), then a breakdown by commune filling the sheet to about 15,000 cells;
//! - **filled blank form** (20 %): the form's own sheets with its marker, values as numbers,
//!   with the same breakdown on a second sheet;
//! - **no form** (10 %): an unrelated statistics table of the same size (a yearbook's
//!   population by commune), which no form matches.
//!
//! The generator uses only the shipped configuration's forms and roster, so the messages are
//! recognised, checked and filed as real ones would be.

use intake::core::forms::spec::{Check, FormSpec, RowSpec, Total};
use intake::core::forms::value::ValueKind;
use rust_xlsxwriter::Workbook;

/// A small, fast, reproducible generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A number in [lo, hi) with one decimal.
    pub fn amount(&mut self, lo: f64, hi: f64) -> f64 {
        let x = lo + (hi - lo) * (self.next() % 1_000_000) as f64 / 1_000_000.0;
        (x * 10.0).round() / 10.0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The shape of a message's workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    OwnLayout,
    FilledForm,
    NoForm,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::OwnLayout => "own layout",
            Shape::FilledForm => "filled blank form",
            Shape::NoForm => "no form",
        }
    }
}

/// What the generator needs of the shipped configuration.
pub struct Setting {
    pub forms: Vec<FormSpec>,
    /// (code, name, address) of each listed agency.
    pub agencies: Vec<(String, String, String)>,
    /// Percent of form workbooks with a mistake in their figures (see [`values`]).
    pub flawed: usize,
}

impl Setting {
    /// Reads the shipped forms and roster from the repository's `config/`.
    pub fn shipped(root: &std::path::Path) -> Setting {
        let forms = ["742-2018-pl1", "742-2018-pl2", "742-2018-pl3"]
            .iter()
            .map(|id| {
                let name = format!("{id}.toml");
                let text = std::fs::read_to_string(root.join("config/forms").join(&name))
                    .expect("the shipped forms are in config/forms");
                intake::core::forms::spec::parse(&name, &text).expect("a shipped form parses")
            })
            .collect();
        let roster: toml::Value = toml::from_str(
            &std::fs::read_to_string(root.join("config/rosters/langson.toml"))
                .expect("the shipped roster"),
        )
        .expect("the roster parses");
        let agencies = roster["agency"]
            .as_array()
            .expect("agencies")
            .iter()
            .map(|a| {
                (
                    a["code"].as_str().unwrap().to_string(),
                    a["name"].as_str().unwrap().to_string(),
                    a["addresses"][0].as_str().unwrap().to_string(),
                )
            })
            .collect();
        Setting {
            forms,
            agencies,
            flawed: 20,
        }
    }
}

/// A number as a Vietnamese writer types it: "." between thousands, "," before decimals.
pub fn vietnamese(n: f64) -> String {
    let neg = n < 0.0;
    let tenths = (n.abs() * 10.0).round() as u64;
    let (whole, frac) = (tenths / 10, tenths % 10);
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(ch);
    }
    if frac != 0 {
        out.push(',');
        out.push_str(&frac.to_string());
    }
    if neg { format!("-{out}") } else { out }
}

const COMMUNES: [&str; 24] = [
    "Xã Hoàng Đồng",
    "Phường Chi Lăng",
    "Thị trấn Đồng Đăng",
    "Xã Tân Thanh",
    "Xã Hợp Thành",
    "Thị trấn Na Sầm",
    "Xã Hoàng Văn Thụ",
    "Xã Tân Mỹ",
    "Phường Vĩnh Trại",
    "Xã Mai Pha",
    "Thị trấn Lộc Bình",
    "Xã Yên Khoái",
    "Xã Bắc Sơn",
    "Thị trấn Hữu Lũng",
    "Xã Vân Nham",
    "Xã Thiện Long",
    "Thị trấn Đình Lập",
    "Xã Châu Sơn",
    "Xã Khánh Long",
    "Thị trấn Thất Khê",
    "Xã Bình Gia",
    "Xã Hồng Phong",
    "Thị trấn Văn Quan",
    "Xã Tràng Các",
];

/// Rows of the breakdown and of the unrelated table: with the form's rows, ~15,000 cells.
const DETAIL_ROWS: u32 = 1_400;
const DETAIL_COLS: u16 = 10;

/// The breakdown by commune that agencies put under their table, from `top`.
fn breakdown(ws: &mut rust_xlsxwriter::Worksheet, rng: &mut Rng, top: u32, as_text: bool) {
    ws.write_string(top, 0, "CHI TIẾT THEO ĐỊA BÀN XÃ, PHƯỜNG, THỊ TRẤN")
        .unwrap();
    let heads = [
        "STT",
        "Đơn vị hành chính",
        "Dân số (người)",
        "Số hộ",
        "Hộ nghèo",
        "Hộ cận nghèo",
        "Lao động",
        "Diện tích lúa (ha)",
        "Sản lượng (tấn)",
        "Thu ngân sách (triệu đồng)",
    ];
    for (c, h) in (0u16..).zip(heads) {
        ws.write_string(top + 1, c, h).unwrap();
    }
    for i in 0..DETAIL_ROWS {
        let r = top + 2 + i;
        ws.write_number(r, 0, f64::from(i + 1)).unwrap();
        ws.write_string(
            r,
            1,
            format!("{} {}", rng.pick(&COMMUNES), i / COMMUNES.len() as u32 + 1),
        )
        .unwrap();
        for c in 2..DETAIL_COLS {
            let v = rng.amount(10.0, 90_000.0);
            if as_text {
                ws.write_string(r, c, vietnamese(v)).unwrap();
            } else {
                ws.write_number(r, c, v).unwrap();
            }
        }
    }
}

/// A cell's value by (sheet id, row id, column id).
pub type Values = std::collections::HashMap<(String, String, String), f64>;

fn rounded(kind: Option<ValueKind>, v: f64) -> f64 {
    match kind {
        Some(ValueKind::Count) => v.round().max(0.0),
        Some(ValueKind::Percent) => ((v * 10.0).round() / 10.0).clamp(0.0, 100.0),
        _ => (v * 10.0).round() / 10.0,
    }
}

fn base_value(row: &RowSpec, rng: &mut Rng) -> f64 {
    let v = if let Some((lo, hi)) = row.bounds {
        rng.amount(lo, hi)
    } else if row.growth {
        rng.amount(-5.0, 15.0)
    } else {
        match row.kind {
            Some(ValueKind::Percent) => rng.amount(0.5, 99.0),
            Some(ValueKind::Count) => rng.amount(1.0, 5_000.0),
            _ => rng.amount(1.0, 50_000.0),
        }
    };
    rounded(row.kind, v)
}

/// The numbers of one filled form, the way an agency's own figures stand: totals add up,
/// shares make 100, the estimate stays near the plan, a figure reported on two sheets is the
/// same. When `flawed`, one total or share is then knocked off by a few percent, the
/// commonest mistake a receipt reports.
pub fn values(spec: &FormSpec, rng: &mut Rng, flawed: bool) -> Values {
    let key = |s: &str, r: &str, c: &str| (s.to_string(), r.to_string(), c.to_string());
    let row_of = |s: &str, r: &str| spec.sheet(s).and_then(|sh| sh.row(r));
    let cols = |s: &str, only: &[String]| -> Vec<String> {
        spec.sheet(s)
            .map(|sh| {
                sh.columns
                    .iter()
                    .filter(|c| only.is_empty() || only.contains(&c.id))
                    .map(|c| c.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut v = Values::new();
    for sheet in &spec.sheets {
        for row in sheet.rows.iter().filter(|r| r.kind.is_some()) {
            for c in &sheet.columns {
                v.insert(key(&sheet.id, &row.id, &c.id), base_value(row, rng));
            }
        }
    }
    // The estimate near the plan, before totals are taken, so totals stay near too.
    for rule in &spec.rules {
        if let Check::Deviation {
            rows,
            value,
            reference,
            max_share,
        } = &rule.check
        {
            for sheet in &spec.sheets {
                for row in sheet.rows.iter().filter(|r| r.kind.is_some()) {
                    if !rows.is_empty()
                        && !rows.iter().any(|x| x.sheet == sheet.id && x.row == row.id)
                    {
                        continue;
                    }
                    let Some(&r) = v.get(&key(&sheet.id, &row.id, reference)) else {
                        continue;
                    };
                    let near = r * (1.0 + max_share * rng.amount(-0.5, 0.5));
                    v.insert(key(&sheet.id, &row.id, value), rounded(row.kind, near));
                }
            }
        }
    }
    let mut skew = Vec::new();
    for rule in &spec.rules {
        match &rule.check {
            Check::Sum {
                total: Total::Row(t),
                parts,
            } => {
                for c in cols(&t.sheet, &rule.columns) {
                    let sum: f64 = parts
                        .iter()
                        .filter_map(|p| v.get(&key(&p.sheet, &p.row, &c)))
                        .sum();
                    let kind = row_of(&t.sheet, &t.row).and_then(|r| r.kind);
                    v.insert(key(&t.sheet, &t.row, &c), rounded(kind, sum));
                    skew.push(key(&t.sheet, &t.row, &c));
                }
            }
            Check::Sum {
                total: Total::Value(total),
                parts,
            } if !parts.is_empty() => {
                let sheet = &parts[0].sheet;
                for c in cols(sheet, &rule.columns) {
                    let weights: Vec<f64> = parts.iter().map(|_| rng.amount(1.0, 10.0)).collect();
                    let all: f64 = weights.iter().sum();
                    let mut left = *total;
                    for (i, (p, w)) in parts.iter().zip(&weights).enumerate() {
                        let share = if i + 1 == parts.len() {
                            left
                        } else {
                            (total * w / all * 10.0).round() / 10.0
                        };
                        left -= share;
                        v.insert(key(&p.sheet, &p.row, &c), (share * 10.0).round() / 10.0);
                    }
                    skew.push(key(&parts[0].sheet, &parts[0].row, &c));
                }
                // Shares are set column by column: a plan column outside the rule follows the
                // estimate it is compared with.
                for rule in &spec.rules {
                    if let Check::Deviation {
                        value, reference, ..
                    } = &rule.check
                    {
                        for p in parts {
                            if let Some(&e) = v.get(&key(&p.sheet, &p.row, value)) {
                                v.insert(key(&p.sheet, &p.row, reference), e);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for rule in &spec.rules {
        if let Check::Equal { left, right } = &rule.check {
            for c in cols(&left.sheet, &[]) {
                if let Some(&r) = v.get(&key(&right.sheet, &right.row, &c)) {
                    v.insert(key(&left.sheet, &left.row, &c), r);
                }
            }
        }
    }
    if flawed && !skew.is_empty() {
        let k = skew[rng.below(skew.len())].clone();
        if let Some(x) = v.get_mut(&k) {
            // A tenth kept, so a text number stays unambiguous ("25.957,3").
            *x = ((*x * 1.07 + 1.3) * 10.0).round() / 10.0;
        }
    }
    v
}

/// An agency's own layout of a form (the module header says what it holds).
fn own_layout(spec: &FormSpec, agency: &str, rng: &mut Rng, flawed: bool) -> Vec<u8> {
    let values = values(spec, rng, flawed);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Biểu 01").unwrap();
    ws.write_string(0, 0, "UBND TỈNH LẠNG SƠN").unwrap();
    ws.write_string(0, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        .unwrap();
    ws.write_string(1, 0, agency.to_uppercase()).unwrap();
    ws.write_string(1, 5, "Độc lập - Tự do - Hạnh phúc")
        .unwrap();
    ws.write_string(2, 0, "Biểu 01").unwrap();
    let title = spec.heading.get(1).cloned().unwrap_or_default();
    ws.write_string(3, 0, &title).unwrap();
    ws.write_string(
        4,
        0,
        format!(
            "(Kèm theo Báo cáo số {}/BC ngày 05/7/2018)",
            10 + rng.below(300)
        ),
    )
    .unwrap();
    let own_numbers = rng.below(2) == 0;
    let mut r = 6u32;
    for sheet in &spec.sheets {
        ws.write_string(r, 0, "STT").unwrap();
        ws.write_string(r, 1, "Chỉ tiêu").unwrap();
        ws.write_string(r, 2, "Đơn vị tính").unwrap();
        for (j, c) in sheet.columns.iter().enumerate() {
            let name = if !c.aliases.is_empty() && rng.below(3) == 0 {
                rng.pick(&c.aliases).clone()
            } else {
                c.label.clone()
            };
            ws.write_string(r, 3 + j as u16, name).unwrap();
        }
        r += 1;
        for (i, row) in sheet.rows.iter().enumerate() {
            let code = if own_numbers {
                (i + 1).to_string()
            } else {
                row.code.clone()
            };
            let label = if !row.aliases.is_empty() && rng.below(4) == 0 {
                rng.pick(&row.aliases).clone()
            } else {
                row.label.clone()
            };
            ws.write_string(r, 0, code).unwrap();
            ws.write_string(r, 1, label).unwrap();
            if !row.unit.is_empty() {
                ws.write_string(r, 2, &row.unit).unwrap();
            }
            if row.kind.is_some() {
                for (j, c) in sheet.columns.iter().enumerate() {
                    let v = values[&(sheet.id.clone(), row.id.clone(), c.id.clone())];
                    ws.write_string(r, 3 + j as u16, vietnamese(v)).unwrap();
                }
            }
            r += 1;
        }
        r += 2;
    }
    breakdown(ws, rng, r + 1, true);
    wb.save_to_buffer().unwrap()
}

/// A filled blank form: the form's sheets with their marker, values as numbers, the
/// breakdown on a sheet of its own.
fn filled_form(spec: &FormSpec, rng: &mut Rng, flawed: bool) -> Vec<u8> {
    let values = values(spec, rng, flawed);
    let mut wb = Workbook::new();
    for sheet in &spec.sheets {
        let l = intake::core::forms::blank::Layout::of(spec, sheet);
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).unwrap();
        for (r, line) in (0u32..).zip(&spec.heading) {
            if r < l.header_row {
                ws.write_string(r, 0, line).unwrap();
            }
        }
        ws.write_string(l.header_row, l.code_col, &sheet.code_header)
            .unwrap();
        ws.write_string(l.header_row, l.label_col, &sheet.label_header)
            .unwrap();
        ws.write_string(l.header_row, l.unit_col, &sheet.unit_header)
            .unwrap();
        for (j, c) in sheet.columns.iter().enumerate() {
            ws.write_string(l.header_row, l.first_value_col + j as u16, &c.label)
                .unwrap();
        }
        for (i, row) in sheet.rows.iter().enumerate() {
            let r = l.first_row + i as u32;
            ws.write_string(r, l.code_col, &row.code).unwrap();
            ws.write_string(r, l.label_col, &row.label).unwrap();
            if row.kind.is_some() {
                for (j, c) in sheet.columns.iter().enumerate() {
                    let v = values[&(sheet.id.clone(), row.id.clone(), c.id.clone())];
                    ws.write_number(r, l.first_value_col + j as u16, v).unwrap();
                }
            }
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("Chi tiết").unwrap();
    breakdown(ws, rng, 0, false);
    let m = wb.add_worksheet();
    m.set_name("_intake").unwrap();
    m.write_string(0, 0, intake::core::forms::blank::marker_text(spec))
        .unwrap();
    m.set_hidden(true);
    wb.save_to_buffer().unwrap()
}

/// A statistics table no form matches.
fn no_form(rng: &mut Rng) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Biểu 01").unwrap();
    ws.write_string(0, 0, "CỤC THỐNG KÊ TỈNH LẠNG SƠN").unwrap();
    ws.write_string(
        2,
        0,
        "NIÊN GIÁM THỐNG KÊ - DÂN SỐ VÀ LAO ĐỘNG THEO ĐƠN VỊ HÀNH CHÍNH",
    )
    .unwrap();
    let as_text = rng.below(2) == 0;
    breakdown(ws, rng, 4, as_text);
    wb.save_to_buffer().unwrap()
}

/// One generated workbook: its shape, file name and bytes.
pub fn workbook(setting: &Setting, agency: &str, rng: &mut Rng) -> (Shape, String, Vec<u8>) {
    let roll = rng.below(10);
    let f = rng.below(setting.forms.len());
    let spec = &setting.forms[f];
    let pl = ["PL1", "PL2", "PL3"][f];
    let flawed = rng.below(100) < setting.flawed;
    match roll {
        0..=6 => (
            Shape::OwnLayout,
            format!("Bieu01_{pl}_{}.xlsx", rng.below(1000)),
            own_layout(spec, agency, rng, flawed),
        ),
        7 | 8 => (
            Shape::FilledForm,
            format!("{pl}_742_dien.xlsx"),
            filled_form(spec, rng, flawed),
        ),
        _ => (
            Shape::NoForm,
            format!("NienGiam_{}.xlsx", rng.below(1000)),
            no_form(rng),
        ),
    }
}

/// Message `i` of the backlog from `seed`: an RFC 5322 message with one workbook attached.
pub fn message(setting: &Setting, seed: u64, i: usize) -> (Shape, Vec<u8>) {
    use base64::Engine;
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
    let (code, name, address) = rng.pick(&setting.agencies).clone();
    let (shape, file, bytes) = workbook(setting, &name, &mut rng);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let mut body = String::with_capacity(b64.len() + b64.len() / 76 * 2 + 2048);
    let day = 2 + i % 8;
    let (h, m) = (7 + (i / 60) % 10, i % 60);
    body.push_str(&format!(
        "Return-Path: <{address}>\r\n\
         Received: from mail.langson.example (mail.langson.example [192.0.2.10])\r\n\
         \tby mx.skhdt.langson.example with ESMTPS id B{i:08X};\r\n\
         \t{:02} Jul 2018 {h:02}:{m:02}:05 +0700\r\n\
         Date: {:02} Jul 2018 {h:02}:{m:02}:00 +0700\r\n\
         From: =?UTF-8?B?{}?= <{address}>\r\n\
         To: skhdt@langson.example\r\n\
         Subject: =?UTF-8?B?{}?=\r\n\
         Message-ID: <backlog-{seed}-{i}@{code}.langson.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n\
         --b{i}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n\
         Kính gửi Sở Kế hoạch và Đầu tư,\r\n{name} gửi số liệu theo Công văn 742/SKHĐT-THQH.\r\n\r\n\
         --b{i}\r\n\
         Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"{file}\"\r\n\
         Content-Disposition: attachment; filename=\"{file}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
        day,
        day,
        // Encoded as mail clients write a name with commas and diacritics.
        base64::engine::general_purpose::STANDARD.encode(name.as_bytes()),
        base64::engine::general_purpose::STANDARD
            .encode(format!("Báo cáo số liệu giữa kỳ - {name}").as_bytes()),
    ));
    for line in b64.as_bytes().chunks(76) {
        body.push_str(std::str::from_utf8(line).unwrap());
        body.push_str("\r\n");
    }
    body.push_str(&format!("--b{i}--\r\n"));
    (shape, body.into_bytes())
}

/// Writes messages `0..n` into `maildir/new` (and makes `cur`, `tmp`); returns the count of
/// each shape.
pub fn write_maildir(
    setting: &Setting,
    seed: u64,
    n: usize,
    maildir: &std::path::Path,
) -> [usize; 3] {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let mut counts = [0; 3];
    for i in 0..n {
        let (shape, raw) = message(setting, seed, i);
        counts[shape as usize] += 1;
        std::fs::write(
            maildir
                .join("new")
                .join(format!("{}.backlog{i:06}.host", 1_530_500_000 + i)),
            raw,
        )
        .unwrap();
    }
    counts
}
