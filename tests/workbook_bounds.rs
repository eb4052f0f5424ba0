//! Hostile and large workbooks stay within bounds.
//!
//! The files are built here, byte by byte where the point is what a writer would never
//! produce: a sheet whose two cells span the whole grid, an .ods of a million repeated rows,
//! an OLE file that is garbage past its header, an encrypted OOXML container. Peak memory is
//! measured in a fresh run of this test binary, so that no other test's allocations count.
//! The xls and ods cases run through the `intake` binary's `inspect-workbook` subcommand.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::hostile::{big_sheet, measure_in_fresh_process, ods_of, status_kib, zip_of};
use intake::workbook::{
    InspectError, Inspection, Inspector, Limits, WorkbookFormat, is_encrypted_ooxml, sniff,
};

/// Growth of peak resident memory allowed for one in-process inspection.
const MAX_GROWTH_KIB: u64 = 200 * 1024;

fn helper() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_intake"))
}

fn inspector() -> Inspector {
    Inspector::new(Limits::default(), Some(helper()))
}

/// An xlsx package of one sheet with this sheet XML and, if given, this sharedStrings part.
fn xlsx_package(sheet: &str, shared_strings: Option<&str>) -> Vec<u8> {
    let types = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let workbook = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Bomb" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let workbook_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ];
    if let Some(sst) = shared_strings {
        parts.push(("xl/sharedStrings.xml", sst.as_bytes()));
    }
    zip_of(&parts)
}

/// An xlsx whose single sheet declares the whole grid and holds A1 and XFD1048576: what
/// makes calamine's `worksheet_range` ask for 512 GiB.
fn sparse_bomb() -> Vec<u8> {
    let sheet = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>top</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>42</v></c></row></sheetData></worksheet>"#;
    xlsx_package(sheet, None)
}

/// A version-3 OLE file of root-level streams of at least 4096 bytes each (so that all
/// live in ordinary sectors and no mini stream is needed).
fn ole_file(streams: &[(&str, Vec<u8>)]) -> Vec<u8> {
    const SECTOR: usize = 512;
    const END: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    assert!(
        streams.len() <= 3,
        "one directory sector holds the root and three streams"
    );
    // Sector 0: FAT; sector 1: directory; then each stream's sectors in turn.
    let mut fat = vec![0xFFFF_FFFDu32, END];
    let mut starts = Vec::new();
    for (_, data) in streams {
        assert!(data.len() >= 4096);
        let n = data.len().div_ceil(SECTOR);
        let first = fat.len() as u32;
        starts.push(first);
        for k in 0..n {
            fat.push(if k + 1 == n {
                END
            } else {
                first + k as u32 + 1
            });
        }
    }
    assert!(fat.len() <= SECTOR / 4);
    fat.resize(SECTOR / 4, FREE);

    let mut out = vec![0u8; SECTOR];
    out[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
    put(0x18, &0x3Eu16.to_le_bytes());
    put(0x1A, &3u16.to_le_bytes());
    put(0x1C, &0xFFFEu16.to_le_bytes());
    put(0x1E, &9u16.to_le_bytes());
    put(0x20, &6u16.to_le_bytes());
    put(0x2C, &1u32.to_le_bytes());
    put(0x30, &1u32.to_le_bytes());
    put(0x38, &4096u32.to_le_bytes());
    put(0x3C, &END.to_le_bytes());
    put(0x44, &END.to_le_bytes());
    put(0x4C, &0u32.to_le_bytes());
    for i in 1..109 {
        put(0x4C + 4 * i, &FREE.to_le_bytes());
    }
    out.extend(fat.iter().flat_map(|v| v.to_le_bytes()));
    let entry = |name: &str, kind: u8, right: u32, child: u32, start: u32, size: usize| {
        let mut e = vec![0u8; 128];
        let units: Vec<u16> = name.encode_utf16().chain([0]).collect();
        for (k, u) in units.iter().enumerate() {
            e[2 * k..2 * k + 2].copy_from_slice(&u.to_le_bytes());
        }
        e[0x40..0x42].copy_from_slice(&((units.len() * 2) as u16).to_le_bytes());
        e[0x42] = kind;
        e[0x43] = 1;
        e[0x44..0x48].copy_from_slice(&FREE.to_le_bytes());
        e[0x48..0x4C].copy_from_slice(&right.to_le_bytes());
        e[0x4C..0x50].copy_from_slice(&child.to_le_bytes());
        e[0x74..0x78].copy_from_slice(&start.to_le_bytes());
        e[0x78..0x80].copy_from_slice(&(size as u64).to_le_bytes());
        e
    };
    let mut dir = entry("Root Entry", 5, FREE, 1, END, 0);
    for (i, (name, data)) in streams.iter().enumerate() {
        let right = if i + 1 < streams.len() {
            i as u32 + 2
        } else {
            FREE
        };
        dir.extend(entry(name, 2, right, FREE, starts[i], data.len()));
    }
    dir.resize(SECTOR, 0);
    out.extend(dir);
    for (_, data) in streams {
        let mut data = data.clone();
        data.resize(data.len().div_ceil(SECTOR) * SECTOR, 0);
        out.extend(data);
    }
    out
}

/// A BIFF8 `Workbook` stream: one visible sheet with these labels, padded to 4096 bytes.
fn biff_workbook(sheet: &str, labels: &[(u16, u16, &str)]) -> Vec<u8> {
    fn record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
        out.extend(typ.to_le_bytes());
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
    }
    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }
    let bof = |dt: u16| {
        let mut d = vec![0u8; 16];
        d[..2].copy_from_slice(&0x0600u16.to_le_bytes());
        d[2..4].copy_from_slice(&dt.to_le_bytes());
        d
    };
    let mut body = Vec::new();
    record(&mut body, 0x0809, &bof(0x0010));
    for (r, c, text) in labels {
        let mut d = [r.to_le_bytes(), c.to_le_bytes(), 0u16.to_le_bytes()].concat();
        d.extend((text.encode_utf16().count() as u16).to_le_bytes());
        d.push(1);
        d.extend(utf16(text));
        record(&mut body, 0x0204, &d);
    }
    record(&mut body, 0x000A, &[]);

    let mut bound = vec![0u8; 4];
    bound.extend([0, 0, sheet.encode_utf16().count() as u8, 1]);
    bound.extend(utf16(sheet));
    let globals_len = (4 + 16) + (4 + 2) + (4 + bound.len()) + 4;
    bound[..4].copy_from_slice(&(globals_len as u32).to_le_bytes());
    let mut out = Vec::new();
    record(&mut out, 0x0809, &bof(0x0005));
    record(&mut out, 0x0042, &1200u16.to_le_bytes());
    record(&mut out, 0x0085, &bound);
    record(&mut out, 0x000A, &[]);
    out.extend(body);
    out.resize(out.len().max(4096), 0);
    out
}

/// Not a test of its own: the body of the memory measurements, run by them in a fresh
/// process (`measure_in_fresh_process`) so that only this inspection's memory counts.
#[test]
#[ignore = "run by the bounded-memory tests in a fresh process"]
fn measure_inspection_in_this_process() {
    let (Ok(file), Ok(format)) = (
        std::env::var("WORKBOOK_MEASURE_FILE"),
        std::env::var("WORKBOOK_MEASURE_FORMAT"),
    ) else {
        println!("nothing to measure: WORKBOOK_MEASURE_FILE is not set");
        return;
    };
    let bytes = std::fs::read(file).unwrap();
    let format: WorkbookFormat = format.parse().unwrap();
    // In-process on purpose: this is the path that must stay bounded without a child.
    let inspector = Inspector::new(Limits::default(), None);
    let before = status_kib("VmRSS:");
    let inspection = inspector
        .inspect(&bytes, format)
        .expect("inspection succeeds");
    let peak = status_kib("VmHWM:");
    // On lines of their own: the harness prints the test's name before them.
    println!("\npeak_growth_kib={}", peak.saturating_sub(before));
    println!("inspection={}", serde_json::to_string(&inspection).unwrap());
}

#[test]
fn sparse_cell_bomb_is_read_in_bounded_memory() {
    let bytes = sparse_bomb();
    assert!(bytes.len() < 5_000, "the bomb is {} bytes", bytes.len());
    assert_eq!(sniff(&bytes, "bomb.xlsx"), Some(WorkbookFormat::Xlsx));
    let (growth, inspection) = measure(&bytes, WorkbookFormat::Xlsx);
    println!("sparse bomb: peak memory growth {growth} KiB");
    assert!(growth < MAX_GROWTH_KIB, "peak memory grew by {growth} KiB");
    assert_eq!(inspection.cells, 2);
    assert_eq!(inspection.sheets[0].heading, ["top", "42"]);
}

#[test]
fn shared_strings_count_bomb_is_refused_before_calamine_sees_it() {
    // calamine reserves `uniqueCount` strings up front: 10^10 of them is a 240 GB request
    // that aborts the process. The package check refuses the file first.
    let sheet = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#;
    let sst = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="10000000000"><si><t>a</t></si></sst>"#;
    let bytes = xlsx_package(sheet, Some(sst));
    let got = inspector().inspect(&bytes, WorkbookFormat::Xlsx);
    assert_eq!(got, Err(InspectError::TooLarge { limit: 2_000_000 }));
}

#[test]
fn decompression_bomb_is_refused_within_the_unpacked_budget() {
    // 30 MB of empty rows deflates to a few tens of KB; with max_bytes at 5 MiB the package
    // may unpack to 20 MiB, and reading stops there.
    let mut sheet = String::from(
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    sheet.push_str(&"<row/>".repeat(5_000_000));
    sheet.push_str("</sheetData></worksheet>");
    let bytes = xlsx_package(&sheet, None);
    drop(sheet);
    assert!(bytes.len() < 1 << 20, "the bomb is {} bytes", bytes.len());
    let limits = Limits {
        max_bytes: 5 << 20,
        ..Limits::default()
    };
    let got = Inspector::new(limits, None).inspect(&bytes, WorkbookFormat::Xlsx);
    assert_eq!(got, Err(InspectError::TooLarge { limit: 20 << 20 }));
}

#[test]
fn three_hundred_thousand_cells_are_read_within_limits() {
    let bytes = big_sheet(30_000);
    let (growth, inspection) = measure(&bytes, WorkbookFormat::Xlsx);
    println!(
        "300k cells ({} KiB file): peak memory growth {growth} KiB",
        bytes.len() / 1024
    );
    assert!(growth < MAX_GROWTH_KIB, "peak memory grew by {growth} KiB");
    assert_eq!(inspection.cells, 300_000);
    let sheet = &inspection.sheets[0];
    assert_eq!(sheet.cells, 300_000);
    assert_eq!(sheet.heading.len(), 64);
    assert_eq!(sheet.heading[0], "Bảng tổng hợp");
    assert_eq!(sheet.heading[10], "10");

    // The same workbook past a lower cell limit stops early with TooLarge.
    let limits = Limits {
        max_cells: 100_000,
        ..Limits::default()
    };
    let got = Inspector::new(limits, None).inspect(&bytes, WorkbookFormat::Xlsx);
    assert_eq!(got, Err(InspectError::TooLarge { limit: 100_000 }));
}

#[test]
fn ods_of_repeated_empty_rows_is_stopped_in_the_child() {
    // Row width 80; a million empty rows between two filled ones: calamine expands them to
    // 80 million cells, about 2.5 GB.
    let tables = r#"<table:table table:name="Bomb">
<table:table-row><table:table-cell office:value-type="string"><text:p>top</text:p></table:table-cell><table:table-cell table:number-columns-repeated="78"/><table:table-cell office:value-type="float" office:value="1"/></table:table-row>
<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="80"/></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>bottom</text:p></table:table-cell></table:table-row>
</table:table>"#;
    let bytes = ods_of(tables);
    assert!(bytes.len() < 3_000, "the bomb is {} bytes", bytes.len());
    assert_eq!(sniff(&bytes, "bomb.ods"), Some(WorkbookFormat::Ods));
    let started = Instant::now();
    let got = inspector().inspect(&bytes, WorkbookFormat::Ods);
    println!("ods row bomb: {got:?} in {:?}", started.elapsed());
    let limit = Limits::default().child_memory_bytes;
    assert_eq!(got, Err(InspectError::TooLarge { limit }));
    assert!(started.elapsed() < Limits::default().child_timeout + Duration::from_secs(5));
}

#[test]
fn ods_of_repeated_columns_is_too_large() {
    let tables = r#"<table:table table:name="Wide">
<table:table-row table:number-rows-repeated="1048576"><table:table-cell office:value-type="float" office:value="7" table:number-columns-repeated="2000000000"/></table:table-row>
</table:table>"#;
    let got = inspector().inspect(&ods_of(tables), WorkbookFormat::Ods);
    println!("ods column bomb: {got:?}");
    assert!(
        matches!(got, Err(InspectError::TooLarge { .. })),
        "expected TooLarge, got {got:?}"
    );
}

#[test]
fn ods_is_read_through_the_child() {
    let tables = r#"<table:table table:name="Biểu 3">
<table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>SỞ TÀI CHÍNH</text:p></table:table-cell></table:table-row>
</table:table>
<table:table table:name="_intake"><table:table-row><table:table-cell office:value-type="string"><text:p>intake-form:742-2018-pl1@1</text:p></table:table-cell></table:table-row></table:table>"#;
    let got = inspector()
        .inspect(&ods_of(tables), WorkbookFormat::Ods)
        .unwrap();
    assert_eq!(got.sheets[0].heading, ["SỞ TÀI CHÍNH"]);
    assert_eq!(got.cells, 2);
    let marker = got.marker.expect("marker");
    assert_eq!((marker.form.as_str(), marker.version), ("742-2018-pl1", 1));
}

#[test]
fn xls_is_read_through_the_child() {
    let stream = biff_workbook("Biểu 1", &[(2, 0, "UBND TỈNH"), (3, 1, "Báo cáo quý")]);
    let bytes = ole_file(&[("Workbook", stream)]);
    assert_eq!(sniff(&bytes, "q.xls"), Some(WorkbookFormat::Xls));
    let got = inspector().inspect(&bytes, WorkbookFormat::Xls).unwrap();
    assert_eq!(got.sheets.len(), 1);
    assert_eq!(got.sheets[0].name, "Biểu 1");
    assert_eq!(got.sheets[0].heading, ["UBND TỈNH", "Báo cáo quý"]);
    assert_eq!(got.cells, 2);
}

#[test]
fn xls_with_garbage_after_the_ole_header_is_unreadable() {
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let mut x = 0x1234_5678u32;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push(x as u8);
    }
    assert_eq!(sniff(&bytes, "broken.xls"), None);
    let got = inspector().inspect(&bytes, WorkbookFormat::Xls);
    assert!(matches!(got, Err(InspectError::Unreadable(_))), "{got:?}");
}

#[test]
fn encrypted_xlsx_is_encrypted() {
    // The streams an encrypted OOXML file holds; their contents do not matter here.
    let mut info = vec![4, 0, 4, 0, 0x40, 0, 0, 0];
    info.resize(4096, 0);
    let bytes = ole_file(&[
        ("EncryptionInfo", info),
        ("EncryptedPackage", vec![0x5A; 8192]),
    ]);
    assert!(is_encrypted_ooxml(&bytes));
    assert_eq!(sniff(&bytes, "secret.xlsx"), Some(WorkbookFormat::Xlsx));
    assert_eq!(sniff(&bytes, "secret.xlsm"), Some(WorkbookFormat::Xlsm));
    // Whatever format the caller believes, the answer is the same, and no reader runs.
    for format in [
        WorkbookFormat::Xlsx,
        WorkbookFormat::Xlsm,
        WorkbookFormat::Xls,
    ] {
        assert_eq!(
            inspector().inspect(&bytes, format),
            Err(InspectError::Encrypted)
        );
    }
}

#[test]
fn the_subcommand_answers_json_on_stdout() {
    let mut child = Command::new(helper())
        .args(["inspect-workbook", "--format", "xlsx"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("intake starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&sparse_bomb())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", out.status);
    let answer: Result<Inspection, InspectError> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer.unwrap().cells, 2);
}

/// Peak memory growth (KiB) and result of one in-process read, measured in a fresh process.
fn measure(bytes: &[u8], format: WorkbookFormat) -> (u64, Inspection) {
    measure_in_fresh_process(
        bytes,
        format,
        "measure_inspection_in_this_process",
        "inspection",
    )
}
