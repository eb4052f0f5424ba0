//! The forms corpus: filled appendix workbooks from four writers, each checked by the
//! `intake validate` command against the complete set of findings it must report.
//!
//! `tests/forms-corpus/` holds workbooks written by openpyxl (.xlsx), xlwt (.xls) and odfpy
//! (.ods) — see `tests/forms-corpus/generate.py` and its README — each with a
//! `NAME.expected.json` derived from the errors the case injects. This test runs
//! `intake validate FILE --agency A --json` on every one and checks:
//! - the exit code: 2 when the file is no form, else 0 when valid and 1 when not;
//! - the form recognised, and how (marker or content) when the expectation says;
//! - the findings: the set of (rule, severity, cell) — and the sheet, when the expectation
//!   names it — equals the expected set exactly: every expected finding at its cell, nothing
//!   else;
//! - when the expectation lists `values` (an agency's own table: reordered, renumbered rows),
//!   every value read with its form sheet, indicator, column and cell, exactly: how the rows
//!   were mapped.
//!
//! A fourth writer, rust_xlsxwriter, builds more cases here (a clean PL3 for Cục Thuế, one
//! with a sum error, one with a merged two-row header), laid out from the form spec.
//! All differences are collected and reported at once.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde_json::Value;

/// The corpus must keep at least this many cases.
const MIN_CASES: usize = 24;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    manifest_dir().join("tests").join("forms-corpus")
}

/// One expected finding; `sheet` is compared only when given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Want {
    rule: String,
    severity: String,
    sheet: Option<String>,
    cell: Option<String>,
}

/// One finding as intake reported it.
struct Got {
    rule: String,
    severity: String,
    sheet: Option<String>,
    cell: Option<String>,
    message: String,
}

/// One workbook and what intake must say about it.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    file: PathBuf,
    agency: String,
    form: Option<String>,
    valid: bool,
    recognised_by: Option<String>,
    findings: Vec<Want>,
    /// When given, every value intake must read: (sheet id, indicator, column, cell), nothing
    /// else — how the rows and columns were mapped.
    values: Option<Vec<(String, String, String, String)>>,
}

impl Case {
    /// 2 when unrecognised, 0 valid, 1 with errors (src/cmd/forms.rs).
    fn exit_code(&self) -> i32 {
        match (&self.form, self.valid) {
            (None, _) => 2,
            (Some(_), true) => 0,
            (Some(_), false) => 1,
        }
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn load_case(json: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(json).map_err(|e| format!("{}: {e}", json.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))?;
    let name = json
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".expected.json"))
        .ok_or_else(|| format!("{}: not NAME.expected.json", json.display()))?
        .to_string();
    let file = ["xlsx", "xls", "ods"]
        .iter()
        .map(|ext| json.with_file_name(format!("{name}.{ext}")))
        .find(|p| p.exists())
        .ok_or_else(|| format!("{name}: no workbook beside {}", json.display()))?;
    let findings = v
        .get("findings")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{name}: no findings list"))?
        .iter()
        .map(|f| {
            Ok(Want {
                rule: string(f, "rule").ok_or_else(|| format!("{name}: a finding without rule"))?,
                severity: string(f, "severity")
                    .ok_or_else(|| format!("{name}: a finding without severity"))?,
                sheet: string(f, "sheet"),
                cell: string(f, "cell"),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Case {
        agency: string(&v, "agency").ok_or_else(|| format!("{name}: no agency"))?,
        form: string(&v, "form"),
        valid: v
            .get("valid")
            .and_then(Value::as_bool)
            .ok_or_else(|| format!("{name}: no valid"))?,
        recognised_by: string(&v, "recognised_by"),
        values: v.get("values").map(mapped).transpose()?,
        findings,
        name,
        file,
    })
}

/// (sheet, indicator, column, cell) of each value of a list.
fn mapped(values: &Value) -> Result<Vec<(String, String, String, String)>, String> {
    let mut out: Vec<_> = values
        .as_array()
        .ok_or("values is not a list")?
        .iter()
        .map(|v| {
            let field = |k: &str| string(v, k).ok_or_else(|| format!("a value without {k}"));
            Ok((
                field("sheet")?,
                field("indicator")?,
                field("column")?,
                field("cell")?,
            ))
        })
        .collect::<Result<_, String>>()?;
    out.sort();
    Ok(out)
}

fn corpus_cases() -> Vec<Case> {
    let mut jsons: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/forms-corpus exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".expected.json"))
        })
        .collect();
    jsons.sort();
    let mut problems = Vec::new();
    let cases: Vec<Case> = jsons
        .iter()
        .filter_map(|j| load_case(j).map_err(|e| problems.push(e)).ok())
        .collect();
    assert!(
        problems.is_empty(),
        "corpus errors:\n{}",
        problems.join("\n")
    );
    cases
}

fn show(rule: &str, severity: &str, sheet: Option<&str>, cell: Option<&str>) -> String {
    format!(
        "{rule} ({severity}) at {}!{}",
        sheet.unwrap_or("?"),
        cell.unwrap_or("—")
    )
}

/// Runs intake on a case; returns the differences, empty when intake says exactly what it must.
fn check(case: &Case) -> Vec<String> {
    let mut diffs = Vec::new();
    // The expectation itself must be consistent: valid exactly when no finding is an error.
    let has_error = case.findings.iter().any(|f| f.severity == "error");
    if case.form.is_some() && case.valid == has_error {
        diffs.push(format!(
            "corpus: \"valid\": {} contradicts its findings",
            case.valid
        ));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_intake"))
        .arg("validate")
        .arg(&case.file)
        .args(["--agency", &case.agency, "--json"])
        .current_dir(manifest_dir())
        .output()
        .expect("intake runs");
    let code = out.status.code().unwrap_or(-1);
    if code != case.exit_code() {
        diffs.push(format!("exit code {code}, expected {}", case.exit_code()));
    }
    let report: Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => {
            diffs.push(format!(
                "no JSON report ({e}); stderr: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            return diffs;
        }
    };
    let form = string(&report, "form");
    if form != case.form {
        diffs.push(format!(
            "form {}, expected {}",
            form.as_deref().unwrap_or("null"),
            case.form.as_deref().unwrap_or("null")
        ));
    }
    if let Some(by) = &case.recognised_by {
        let got = string(&report, "recognised_by");
        if got.as_deref() != Some(by.as_str()) {
            diffs.push(format!(
                "recognised by {}, expected {by}",
                got.as_deref().unwrap_or("null")
            ));
        }
    }
    if report.get("valid").and_then(Value::as_bool) != Some(case.valid) {
        diffs.push(format!(
            "valid {}, expected {}",
            report.get("valid").unwrap_or(&Value::Null),
            case.valid
        ));
    }
    if let Some(want) = &case.values {
        match report.get("values").map(mapped) {
            Some(Ok(got)) => {
                for w in want.iter().filter(|w| !got.contains(w)) {
                    diffs.push(format!("value not read {}!{}!{} at {}", w.0, w.1, w.2, w.3));
                }
                for g in got.iter().filter(|g| !want.contains(g)) {
                    diffs.push(format!(
                        "unexpected value {}!{}!{} at {}",
                        g.0, g.1, g.2, g.3
                    ));
                }
            }
            Some(Err(e)) => diffs.push(format!("values: {e}")),
            None => diffs.push("no values in the report".into()),
        }
    }
    let mut actual: Vec<Got> = report
        .get("findings")
        .and_then(Value::as_array)
        .map(|fs| {
            fs.iter()
                .map(|f| Got {
                    rule: string(f, "rule").unwrap_or_default(),
                    severity: string(f, "severity").unwrap_or_default(),
                    sheet: string(f, "sheet"),
                    cell: string(f, "cell"),
                    message: string(f, "message").unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    for want in &case.findings {
        let found = actual.iter().position(|got| {
            got.rule == want.rule
                && got.severity == want.severity
                && got.cell == want.cell
                && want
                    .sheet
                    .as_ref()
                    .is_none_or(|s| got.sheet.as_ref() == Some(s))
        });
        match found {
            Some(i) => {
                actual.remove(i);
            }
            None => diffs.push(format!(
                "missing    {}",
                show(
                    &want.rule,
                    &want.severity,
                    want.sheet.as_deref(),
                    want.cell.as_deref()
                )
            )),
        }
    }
    for got in &actual {
        diffs.push(format!(
            "unexpected {} — {}",
            show(
                &got.rule,
                &got.severity,
                got.sheet.as_deref(),
                got.cell.as_deref()
            ),
            got.message
        ));
    }
    diffs
}

/// Checks every case (in parallel), and fails once with every difference.
fn check_all(cases: &[Case]) {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(4)
        .min(8);
    let chunk = cases.len().div_ceil(threads).max(1);
    let results: Vec<(String, PathBuf, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|c| (c.name.clone(), c.file.clone(), check(c)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a checking thread"))
            .collect()
    });
    let mut report = String::new();
    let mut failed = 0;
    for (name, file, diffs) in &results {
        if diffs.is_empty() {
            continue;
        }
        failed += 1;
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        let _ = writeln!(report, "\n{name}.{ext}:");
        for d in diffs {
            let _ = writeln!(report, "    {d}");
        }
    }
    assert!(
        failed == 0,
        "{failed} of {} cases differ from their expectations:\n{report}",
        results.len()
    );
}

#[test]
fn corpus_workbooks_report_exactly_the_expected_findings() {
    let cases = corpus_cases();
    assert!(
        cases.len() >= MIN_CASES,
        "the corpus has {} cases, at least {MIN_CASES} are wanted",
        cases.len()
    );
    let mut by_writer: BTreeMap<String, usize> = BTreeMap::new();
    for c in &cases {
        let ext = c.file.extension().and_then(|e| e.to_str()).unwrap_or("");
        *by_writer.entry(ext.to_string()).or_default() += 1;
    }
    for ext in ["xlsx", "xls", "ods"] {
        assert!(
            by_writer.get(ext).copied().unwrap_or(0) >= 5,
            "few .{ext} cases: {by_writer:?}"
        );
    }
    check_all(&cases);
}

// ------------------------------------------------------------------------------------------
// Cases written here with rust_xlsxwriter, laid out from config/forms/742-2018-pl3.toml.
// ------------------------------------------------------------------------------------------

struct FormSpec {
    id: String,
    version: i64,
    heading: Vec<String>,
    sheets: Vec<SheetSpec>,
    rules: Vec<toml::Table>,
}

struct SheetSpec {
    id: String,
    name: String,
    title: Option<String>,
    columns: Vec<(String, String)>,
    rows: Vec<RowSpec>,
}

struct RowSpec {
    id: String,
    code: String,
    label: String,
    unit: String,
    valued: bool,
    who: Vec<String>,
}

fn str_of(t: &toml::Table, key: &str) -> String {
    t.get(key)
        .and_then(toml::Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn tables<'t>(t: &'t toml::Table, key: &str) -> Vec<&'t toml::Table> {
    t.get(key)
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(toml::Value::as_table).collect())
        .unwrap_or_default()
}

fn load_form(id: &str) -> FormSpec {
    let path = manifest_dir()
        .join("config")
        .join("forms")
        .join(format!("{id}.toml"));
    let text = std::fs::read_to_string(&path).expect("the form spec");
    let t: toml::Table = toml::from_str(&text).expect("the form spec parses");
    let sheets = tables(&t, "sheet")
        .into_iter()
        .map(|s| SheetSpec {
            id: str_of(s, "id"),
            name: str_of(s, "name"),
            title: s
                .get("title")
                .and_then(toml::Value::as_str)
                .map(str::to_string),
            columns: tables(s, "column")
                .into_iter()
                .map(|c| (str_of(c, "id"), str_of(c, "label")))
                .collect(),
            rows: tables(s, "row")
                .into_iter()
                .map(|r| RowSpec {
                    id: str_of(r, "id"),
                    code: str_of(r, "code"),
                    label: str_of(r, "label"),
                    unit: str_of(r, "unit"),
                    valued: r
                        .get("kind")
                        .and_then(toml::Value::as_str)
                        .unwrap_or("heading")
                        != "heading",
                    who: match r.get("who") {
                        None => vec!["all".into()],
                        Some(toml::Value::String(s)) => vec![s.clone()],
                        Some(toml::Value::Array(a)) => a
                            .iter()
                            .filter_map(toml::Value::as_str)
                            .map(str::to_string)
                            .collect(),
                        Some(other) => panic!("who = {other}"),
                    },
                })
                .collect(),
        })
        .collect();
    FormSpec {
        id: str_of(&t, "id"),
        version: t
            .get("version")
            .and_then(toml::Value::as_integer)
            .expect("a version"),
        heading: t
            .get("heading")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        sheets,
        rules: tables(&t, "rule").into_iter().cloned().collect(),
    }
}

/// The agency's kind from the roster: "district", "department" or "office".
fn agency_kind(code: &str) -> String {
    let path = manifest_dir()
        .join("config")
        .join("rosters")
        .join("langson.toml");
    let t: toml::Table =
        toml::from_str(&std::fs::read_to_string(path).expect("the roster")).expect("it parses");
    tables(&t, "agency")
        .into_iter()
        .find(|a| str_of(a, "code") == code)
        .map(|a| str_of(a, "kind"))
        .unwrap_or_else(|| panic!("no agency {code} in the roster"))
}

/// Whether an agency must fill a row (config/forms/README.md).
fn must_fill(row: &RowSpec, code: &str, kind: &str) -> bool {
    if !row.valued {
        return false;
    }
    match row.who.as_slice() {
        [w] if w == "all" => true,
        [w] if w == "optional" => false,
        items => items.iter().any(|i| {
            i == code
                || (i == "districts" && kind == "district")
                || (i == "departments" && kind == "department")
                || (i == "office" && kind == "office")
        }),
    }
}

/// A "sheet!row" reference of a rule.
fn rule_ref(form: &FormSpec, text: &str) -> (String, String) {
    match text.split_once('!') {
        Some((s, r)) => (s.to_string(), r.to_string()),
        None => (form.sheets[0].id.clone(), text.to_string()),
    }
}

fn a1(row: u32, col: u16) -> String {
    let mut letters = Vec::new();
    let mut n = u32::from(col) + 1;
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8(letters).expect("ASCII"), row + 1)
}

/// Where the values went: (sheet id, row id, column id) → A1 cell; sheet id → sheet name.
#[derive(Default)]
struct Placed {
    cells: BTreeMap<(String, String, String), String>,
    sheets: BTreeMap<String, String>,
}

/// Writes a filled copy of a form as the blank form lays it out (header on row 7, column
/// numbers below, indicators after), with the `_intake` marker sheet when `marker`, and the
/// header on two rows ("Năm 2018" above "ƯTH", the fixed columns merged down) when
/// `two_row_header`. `values`: (sheet id, row id) → one number per column.
fn write_form(
    path: &Path,
    form: &FormSpec,
    agency: &str,
    values: &BTreeMap<(&str, &str), Vec<f64>>,
    marker: bool,
    two_row_header: bool,
) -> Placed {
    let kind = agency_kind(agency);
    let mut placed = Placed::default();
    let mut book = Workbook::new();
    let font = Format::new()
        .set_font_name("Times New Roman")
        .set_font_size(12);
    let centred = font
        .clone()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    for sheet in &form.sheets {
        let ws = book.add_worksheet();
        ws.set_name(&sheet.name).expect("a sheet name");
        placed.sheets.insert(sheet.id.clone(), sheet.name.clone());
        let heading_lines = u32::try_from(form.heading.len()).expect("few lines").max(3);
        let title_row = 1 + heading_lines;
        let header_row = title_row + 2;
        let numbers_row = header_row + if two_row_header { 2 } else { 1 };
        let first_row = numbers_row + 1;
        let first_value_col: u16 = 3;
        let note_col = first_value_col + u16::try_from(sheet.columns.len()).expect("few columns");
        ws.write_string_with_format(0, 0, "ĐƠN VỊ: CỤC THUẾ TỈNH", &font)
            .expect("write");
        for (i, line) in form.heading.iter().enumerate() {
            let r = 1 + u32::try_from(i).expect("few lines");
            ws.merge_range(r, 0, r, note_col, line, &centred)
                .expect("merge");
        }
        if let Some(title) = &sheet.title {
            ws.merge_range(title_row, 0, title_row, note_col, title, &centred)
                .expect("merge");
        }
        let mut headers: Vec<String> = ["STT", "Chỉ tiêu", "Đơn vị tính"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        headers.extend(sheet.columns.iter().map(|(_, label)| label.clone()));
        headers.push("Ghi chú".into());
        for (c, h) in (0u16..).zip(&headers) {
            let value_col = (first_value_col..note_col).contains(&c);
            if two_row_header && value_col {
                let year = h
                    .split_whitespace()
                    .find(|w| w.chars().all(|ch| ch.is_ascii_digit()))
                    .expect("a year in the header");
                let rest: Vec<&str> = h.split_whitespace().filter(|w| *w != year).collect();
                ws.write_string_with_format(header_row, c, format!("Năm {year}"), &centred)
                    .expect("write");
                ws.write_string_with_format(header_row + 1, c, rest.join(" "), &centred)
                    .expect("write");
            } else if two_row_header {
                ws.merge_range(header_row, c, header_row + 1, c, h, &centred)
                    .expect("merge");
            } else {
                ws.write_string_with_format(header_row, c, h, &centred)
                    .expect("write");
            }
            ws.write_string_with_format(numbers_row, c, format!("({})", c + 1), &centred)
                .expect("write");
        }
        for (i, row) in sheet.rows.iter().enumerate() {
            let r = first_row + u32::try_from(i).expect("few rows");
            ws.write_string_with_format(r, 0, &row.code, &centred)
                .expect("write");
            ws.write_string_with_format(r, 1, &row.label, &font)
                .expect("write");
            ws.write_string_with_format(r, 2, &row.unit, &centred)
                .expect("write");
            if must_fill(row, agency, &kind) {
                ws.write_string_with_format(r, note_col, "bắt buộc", &centred)
                    .expect("write");
                assert!(
                    values.contains_key(&(sheet.id.as_str(), row.id.as_str())),
                    "{agency} must fill {}!{}: give it a value",
                    sheet.id,
                    row.id
                );
            }
            if !row.valued {
                continue;
            }
            for (j, (col, _)) in sheet.columns.iter().enumerate() {
                let c = first_value_col + u16::try_from(j).expect("few columns");
                placed
                    .cells
                    .insert((sheet.id.clone(), row.id.clone(), col.clone()), a1(r, c));
                if let Some(v) = values.get(&(sheet.id.as_str(), row.id.as_str())) {
                    ws.write_number_with_format(r, c, v[j], &font)
                        .expect("write");
                }
            }
        }
        ws.set_column_width(1, 55).expect("width");
    }
    if marker {
        let text = format!("intake-form:{}@{}", form.id, form.version);
        let ws = book.add_worksheet();
        ws.set_name("_intake").expect("name");
        ws.write_string(0, 0, &text).expect("write");
        ws.set_hidden(true);
        book.define_name("intake_form", &format!("=\"{text}\""))
            .expect("a defined name");
    }
    book.save(path).expect("the workbook is saved");
    placed
}

/// Cục Thuế's rows of PL3: revenue on both sheets and its parts (it fills "Thu khác" and the
/// import-export revenue too, so that the total can be checked), ƯTH 2018 and KH 2019.
fn cuc_thue_values() -> BTreeMap<(&'static str, &'static str), Vec<f64>> {
    BTreeMap::from([
        (("chi-tieu", "thu-ns"), vec![5901.1, 6300.0]),
        (("ngan-sach", "thu-ns"), vec![5901.1, 6300.0]),
        (("ngan-sach", "thu-noi-dia"), vec![1352.4, 1500.0]),
        (("ngan-sach", "thu-xnk"), vec![4520.3, 4770.0]),
        (("ngan-sach", "thu-khac"), vec![28.4, 30.0]),
    ])
}

#[test]
fn rust_xlsxwriter_workbooks_report_exactly_the_expected_findings() {
    let form = load_form("742-2018-pl3");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let agency = "cuc-thue";
    let case = |name: &str, valid: bool, by: &str, findings: Vec<Want>| Case {
        name: name.to_string(),
        file: dir.path().join(format!("{name}.xlsx")),
        agency: agency.to_string(),
        form: Some(form.id.clone()),
        valid,
        recognised_by: Some(by.to_string()),
        findings,
        values: None,
    };
    let mut cases = Vec::new();

    // Clean, from the blank form's layout.
    let clean = case("xlsxwriter-pl3-cuc-thue-clean", true, "marker", vec![]);
    write_form(&clean.file, &form, agency, &cuc_thue_values(), true, false);
    cases.push(clean);

    // Domestic revenue KH 2019 1.490 instead of 1.500: the parts add to 6.290, the total says
    // 6.300. A sum whose total is a row is reported at the total's cell.
    let mut values = cuc_thue_values();
    values.insert(("ngan-sach", "thu-noi-dia"), vec![1352.4, 1490.0]);
    let rule = form
        .rules
        .iter()
        .find(|r| str_of(r, "id") == "thu-ns-tong")
        .expect("the rule thu-ns-tong");
    let (total_sheet, total_row) = rule_ref(&form, &str_of(rule, "total"));
    let file = dir.path().join("xlsxwriter-pl3-cuc-thue-sum-error.xlsx");
    let placed = write_form(&file, &form, agency, &values, true, false);
    let cell = placed.cells[&(total_sheet.clone(), total_row, "kh2019".to_string())].clone();
    cases.push(case(
        "xlsxwriter-pl3-cuc-thue-sum-error",
        false,
        "marker",
        vec![Want {
            rule: "thu-ns-tong".into(),
            severity: "error".into(),
            sheet: Some(placed.sheets[&total_sheet].clone()),
            cell: Some(cell),
        }],
    ));

    // The agency's own copy: no marker, the header on two rows ("Năm 2018" above "ƯTH", STT,
    // Chỉ tiêu, Đơn vị tính and Ghi chú merged down); clean.
    let merged = case(
        "xlsxwriter-pl3-cuc-thue-two-row-header",
        true,
        "content",
        vec![],
    );
    write_form(&merged.file, &form, agency, &cuc_thue_values(), false, true);
    cases.push(merged);

    check_all(&cases);
}
