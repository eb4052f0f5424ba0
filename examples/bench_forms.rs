//! Form validation benchmark, three figures:
//! 1. time to check a typical filled workbook of each form (in-process, median of 50);
//! 2. time and peak RSS of `intake validate` on a 300,000-cell sheet;
//! 3. time and peak RSS of `intake validate` on the sparse-cell bomb (cells at A1 and
//!    XFD1048576 — a 4.8 KB file that asks a naive reader for 512 GiB).
//!
//! `cargo build --release && cargo run --release --example bench_forms`

#[path = "common/filled.rs"]
mod filled;
#[path = "common/rss.rs"]
mod rss;

use rss::{timed, wait_with_peak_rss};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use intake::config::Config;
use intake::core::forms::validate::From;
use intake::core::pipeline::check;
use intake::workbook::{Inspector, Limits, WorkbookFormat};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/intake");
    assert!(
        bin.exists(),
        "build the release binary first: cargo build --release"
    );
    let config = Config::embedded(root).unwrap();
    let campaign = &config.campaigns[0];
    let agency = campaign
        .agencies
        .iter()
        .find(|a| a.code == "ubnd-cao-loc")
        .unwrap();
    let inspector = Inspector::new(Limits::default(), Some(bin.clone()));

    println!("1. checking a filled form (district, every row filled), in-process, 50 runs:");
    for d in &campaign.deliverables {
        let spec = d.spec.as_ref().unwrap();
        let xlsx = filled(spec);
        let mut times: Vec<f64> = (0..50)
            .map(|_| {
                let t = Instant::now();
                let c = check::check(
                    &xlsx,
                    WorkbookFormat::Xlsx,
                    &inspector,
                    campaign,
                    Some(From {
                        code: &agency.code,
                        kind: agency.kind,
                    }),
                )
                .unwrap();
                assert!(c.form.is_some());
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "   {}: {} bytes, median {:.2} ms, p90 {:.2} ms",
            spec.id,
            xlsx.len(),
            times[25],
            times[45]
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("300k.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for r in 0..30_000u32 {
        for c in 0..10u16 {
            ws.write_number(r, c, (r as f64) * 0.5 + c as f64).unwrap();
        }
    }
    wb.save(&big).unwrap();
    let bomb = dir.path().join("bomb.xlsx");
    std::fs::write(&bomb, sparse_bomb()).unwrap();
    for (label, path) in [
        ("2. 300,000-cell sheet", &big),
        ("3. sparse-cell bomb", &bomb),
    ] {
        let size = std::fs::metadata(path).unwrap().len();
        let mut times = Vec::new();
        let mut rss = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            #[allow(clippy::zombie_processes)]
            // reaped by wait4 below, which also gives its peak RSS
            let child = timed(&bin)
                .args(["validate", path.to_str().unwrap(), "--json"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let (code, peak) = wait_with_peak_rss(child.id() as i32);
            times.push(t.elapsed().as_secs_f64());
            rss.push(peak);
            assert!(code == 1 || code == 2, "validate exited {code}");
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        rss.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{label} ({size} bytes): median {:.2} s, peak RSS {:.1} MiB (median of 3)",
            times[1], rss[1]
        );
    }
}

/// A district's filled form: every value cell holds a number consistent enough to be read.
fn filled(spec: &intake::core::forms::spec::FormSpec) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    filled::add_form_sheets(&mut wb, spec);
    filled::add_marker(&mut wb, spec);
    wb.save_to_buffer().unwrap()
}

/// An xlsx whose sheet declares cells at A1 and XFD1048576.
fn sparse_bomb() -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let o = zip::write::SimpleFileOptions::default();
    let files = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>"#,
        ),
    ];
    for (name, text) in files {
        z.start_file(name, o).unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    z.finish().unwrap();
    buf.into_inner()
}
