//! Builders of hostile and large workbooks shared by the workbook tests.

use std::io::{Cursor, Write};

/// A zip of (name, content) parts; `mimetype` is stored, as ODF wants, the rest deflated.
pub fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in parts {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        out.start_file(*name, options).unwrap();
        out.write_all(data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// An xlsx of `rows` × 10 cells, the first row a title.
pub fn big_sheet(rows: u32) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Bảng tổng hợp").unwrap();
    for c in 1..10u16 {
        ws.write_string(0, c, format!("Cột {c}")).unwrap();
    }
    for r in 1..rows {
        for c in 0..10u16 {
            ws.write_number(r, c, f64::from(r) * 10.0 + f64::from(c))
                .unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

/// An .ods whose content.xml body (inside office:spreadsheet) is `tables`.
pub fn ods_of(tables: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip_of(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", manifest),
        ("content.xml", content.as_bytes()),
    ])
}

pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Runs the ignored test `runner` in a fresh run of the calling test binary on `bytes`, and
/// returns its peak memory growth in KiB and the value it printed after `key=` as JSON — so
/// that only that one read's memory counts.
pub fn measure_in_fresh_process<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    format: intake::workbook::WorkbookFormat,
    runner: &str,
    key: &str,
) -> (u64, T) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workbook");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            runner,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WORKBOOK_MEASURE_FILE", &file)
        .env("WORKBOOK_MEASURE_FORMAT", format.as_str())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "measuring run failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let growth = stdout
        .lines()
        .find_map(|l| l.split("peak_growth_kib=").nth(1))
        .unwrap_or_else(|| panic!("no measurement in:\n{stdout}"))
        .trim()
        .parse()
        .unwrap();
    let prefix = format!("{key}=");
    let value = stdout
        .lines()
        .find_map(|l| l.split(prefix.as_str()).nth(1))
        .map(|j| serde_json::from_str(j).unwrap())
        .unwrap();
    (growth, value)
}
