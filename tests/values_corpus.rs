//! The values corpus: Appendix I workbooks whose numbers carry the number formats agencies'
//! spreadsheets give them — percent formats of every kind, thousands-scaled amounts, a
//! number Excel turned into a date — from openpyxl, XlsxWriter, xlwt, odfpy and LibreOffice
//! (`tests/values-corpus/generate.py`), plus one built here with rust_xlsxwriter.
//!
//! Every workbook is dropped into its agency's folder and taken in by `intake run --once`;
//! then the consolidation store itself is read: each value of the agency's version must be
//! exactly the number the expectation gives (f64 equality, no tolerance), no other value may
//! be there, and the file's findings must be exactly the expected (rule, severity, cell) set.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/values-corpus")
}

struct Expected {
    file: PathBuf,
    agency: String,
    /// Whether the workbook has no error; None when only the value findings are compared.
    valid: Option<bool>,
    /// The complete findings, or (valid None) the findings of the value rules alone.
    findings: BTreeSet<(String, String, String)>,
    values: BTreeMap<(String, String, String), f64>,
}

fn expectations() -> Vec<Expected> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(file) = name.strip_suffix(".expected.json") else {
            continue;
        };
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let s = |v: &Value| v.as_str().unwrap().to_string();
        out.push(Expected {
            file: corpus_dir().join(file),
            agency: s(&doc["agency"]),
            valid: Some(doc["valid"].as_bool().unwrap()),
            findings: doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (s(&f["rule"]), s(&f["severity"]), s(&f["cell"])))
                .collect(),
            values: doc["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    (
                        (s(&v["sheet"]), s(&v["indicator"]), s(&v["column"])),
                        v["value"].as_f64().unwrap(),
                    )
                })
                .collect(),
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// Drops `file` into the agency's folder of the store under `dir`, settled.
fn drop_file(dir: &Path, agency: &str, file: &Path, name: &str) {
    let folder = dir.join("var/drop").join(agency);
    std::fs::create_dir_all(&folder).unwrap();
    let dest = folder.join(name);
    std::fs::copy(file, &dest).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&dest)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

/// A rust_xlsxwriter workbook for Đình Lập: every percent cell as a fraction formatted
/// "0.0%", the other cells plain numbers. Returns the file and its expectation.
fn rust_xlsxwriter_case(dir: &Path) -> Expected {
    let config = intake::config::Config::embedded(Path::new("/x")).unwrap();
    let campaign = &config.campaigns[0];
    let spec = campaign.deliverable("pl1").unwrap().spec.clone().unwrap();
    let agency = campaign
        .agencies
        .iter()
        .find(|a| a.code == "ubnd-dinh-lap")
        .unwrap();
    let sheet = &spec.sheets[0];
    let mut values = BTreeMap::new();
    let mut n = 0.0;
    for row in &sheet.rows {
        let Some(kind) = row.kind else { continue };
        if !row.who.includes(&agency.code, agency.kind) {
            continue;
        }
        for col in &sheet.columns {
            n += 1.0;
            // Shares and rates that stay within bounds and rules: 1,1 … with one decimal.
            let v = match kind {
                intake::core::forms::value::ValueKind::Percent => 10.0 + n / 10.0,
                _ => 100.0 + n,
            };
            values.insert((sheet.id.clone(), row.id.clone(), col.id.clone()), v);
        }
    }
    let value = |s: &str, r: &str, c: &str| {
        let v = *values.get(&(s.to_string(), r.to_string(), c.to_string()))?;
        let percent = sheet
            .row(r)
            .is_some_and(|row| row.kind == Some(intake::core::forms::value::ValueKind::Percent));
        Some(if percent {
            common::Typed::Percent(v / 100.0)
        } else {
            common::Typed::Number(v)
        })
    };
    let bytes = common::filled_form(&spec, &agency.name, &value);
    let file = dir.join("pl1-rust-xlsxwriter.xlsx");
    std::fs::write(&file, bytes).unwrap();
    // The rows of a sum or deviation rule do not add up with these numbers: those rules'
    // findings are not this corpus's business, so only the value findings are compared.
    Expected {
        file,
        agency: agency.code.clone(),
        valid: None,
        findings: BTreeSet::new(),
        values: values
            .into_iter()
            .map(|(k, v)| (k, (v * 10.0).round() / 10.0))
            .collect(),
    }
}

#[test]
fn every_value_reaches_the_store_as_the_agency_meant_it() {
    let dir = tempfile::tempdir().unwrap();
    let cases = expectations();
    assert!(cases.len() >= 7, "the corpus holds {} cases", cases.len());
    let extra = rust_xlsxwriter_case(dir.path());
    for c in cases.iter().chain([&extra]) {
        let name = c.file.file_name().unwrap().to_string_lossy().to_string();
        drop_file(dir.path(), &c.agency, &c.file, &name);
    }
    common::intake_ok(
        dir.path(),
        &["--now", "2018-07-08T10:00:00+07:00", "run", "--once"],
    );

    let db = rusqlite::Connection::open(dir.path().join("var/store/intake.sqlite")).unwrap();
    let mut problems = Vec::new();
    for c in cases.iter().chain([&extra]) {
        let name = c.file.file_name().unwrap().to_string_lossy().to_string();
        let file: Option<(i64, i64)> = db
            .query_row(
                "SELECT f.id, f.errors FROM files f JOIN messages m ON m.id = f.message
                 WHERE f.name = ?1 AND f.form IS NOT NULL",
                [&name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        let Some((id, errors)) = file else {
            problems.push(format!("{name}: not taken in as a form"));
            continue;
        };
        let findings: BTreeSet<(String, String, String)> = db
            .prepare("SELECT rule, severity, COALESCE(cell, '') FROM findings WHERE file = ?1")
            .unwrap()
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let value_rules: BTreeSet<&str> = [
            "ty-le-hay-phan-so",
            "phan-tram-sai-dong",
            "dinh-dang-chia-nghin",
            "ngay-thay-so",
        ]
        .into();
        let compared: BTreeSet<_> = match c.valid {
            Some(_) => findings,
            None => findings
                .into_iter()
                .filter(|f| value_rules.contains(f.0.as_str()))
                .collect(),
        };
        if compared != c.findings {
            problems.push(format!(
                "{name}: findings {compared:?}, expected {:?}",
                c.findings
            ));
        }
        if let Some(valid) = c.valid
            && valid != (errors == 0)
        {
            problems.push(format!("{name}: {errors} errors, expected valid = {valid}"));
        }
        let stored: BTreeMap<(String, String, String), f64> = db
            .prepare(
                "SELECT sheet, indicator, col, value FROM data WHERE file = ?1 AND value IS NOT NULL",
            )
            .unwrap()
            .query_map([id], |r| {
                Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (key, want) in &c.values {
            match stored.get(key) {
                Some(got) if got == want => {}
                Some(got) => {
                    problems.push(format!("{name}: {key:?} stored {got}, expected {want}"))
                }
                None => problems.push(format!("{name}: {key:?} not stored, expected {want}")),
            }
        }
        for key in stored.keys().filter(|k| !c.values.contains_key(*k)) {
            problems.push(format!(
                "{name}: {key:?} stored {}, expected nothing",
                stored[key]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
