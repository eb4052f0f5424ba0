//! Memory benchmark: peak RSS of intake on the largest workbooks it may be sent.
//!
//! Builds four workbooks in a temporary folder:
//! - a sheet of 1,048,576 one-cell rows (xlsx);
//! - a filled Appendix I with errors beside such a sheet (xlsx): the receipt carries a marked
//!   copy of the whole package;
//! - a workbook of 1.85 million number cells (xlsx, 37,000 rows × 50 columns, 25 MB);
//! - an xls of 1.57 million number cells (three sheets of 65,536 rows × 8 columns), read by
//!   the child process;
//! - a filled Appendix I (xls) whose OLE directory chain loops back on itself;
//!
//! then measures, three times each, the peak RSS of `intake validate FILE` (the intake process
//! and, separately, its largest child, the xls/ods reader) and of `intake run --once` taking in
//! a message that carries the workbook (the receipt, with its marked copy, included), and
//! prints the medians.
//!
//! `cargo build --release && cargo run --release --example bench_memory [rows|cells|xls|loops]`
//! (the xls is written by Python's xlwt: `pip install xlwt`).

#[path = "common/filled.rs"]
mod filled;
#[path = "common/rss.rs"]
mod rss;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use base64::Engine as _;
use rss::{timed, wait_with_peak_rss};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/intake");
    assert!(
        bin.exists(),
        "build the release binary first: cargo build --release"
    );
    let dir = tempfile::tempdir().unwrap();
    // `bench_memory rows` (or cells, xls, loops) measures that workbook alone.
    let only = std::env::args().nth(1).unwrap_or_default();
    let files: [(&str, &dyn Fn() -> PathBuf); 5] = [
        ("1,048,576 one-cell rows", &|| rows(dir.path())),
        ("form beside 1,048,576 rows (marked copy)", &|| {
            form_with_rows(root, dir.path())
        }),
        ("1.85 million number cells", &|| cells(dir.path())),
        ("xls of 1.57 million cells", &|| big_xls(dir.path())),
        ("xls whose directory loops", &|| {
            looping_xls(root, dir.path())
        }),
    ];
    for (label, make) in files {
        if !label.contains(only.as_str()) {
            continue;
        }
        let file = &make();
        let size = std::fs::metadata(file).unwrap().len();
        println!("{label}: {} ({size} bytes)", file.display());
        let mut validate = Vec::new();
        let mut run = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            #[allow(clippy::zombie_processes)] // reaped by wait4 in wait_with_peak_rss
            let child = timed(&bin)
                .args(["validate", file.to_str().unwrap(), "--agency", "so-y-te"])
                .env("RUST_LOG", "off")
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let (code, peak) = wait_with_peak_rss(child.id() as i32);
            assert!(code <= 2, "validate exited {code}");
            validate.push((peak, t.elapsed().as_secs_f64()));

            let store = tempfile::tempdir().unwrap();
            deliver(store.path(), file);
            let t = Instant::now();
            #[allow(clippy::zombie_processes)]
            let child = timed(&bin)
                .args(["--now", "2018-07-08T10:00:00+07:00", "run", "--once"])
                .current_dir(store.path())
                .env("RUST_LOG", "off")
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let (code, peak) = wait_with_peak_rss(child.id() as i32);
            assert_eq!(code, 0, "run --once exited {code}");
            run.push((peak, t.elapsed().as_secs_f64()));
        }
        for (what, mut got) in [("validate", validate), ("run --once", run)] {
            got.sort_by(|a, b| a.0.total_cmp(&b.0));
            let rss = got[1].0;
            got.sort_by(|a, b| a.1.total_cmp(&b.1));
            println!(
                "   {what}: peak RSS {rss:.1} MiB, {:.2} s (medians of 3; the largest of intake and its reader child)",
                got[1].1
            );
        }
        let (child, secs) = child_reader(&bin, file);
        if let Some(child) = child {
            println!("   xls reader child alone: peak RSS {child:.1} MiB, {secs:.2} s");
        }
    }
}

/// The xls/ods reader child run by hand on `file`: its own peak RSS and time.
fn child_reader(bin: &Path, file: &Path) -> (Option<f64>, f64) {
    if file.extension().is_none_or(|e| e != "xls") {
        return (None, 0.0);
    }
    let t = Instant::now();
    #[allow(clippy::zombie_processes)]
    let child = timed(bin)
        .args(["inspect-workbook", "--format", "xls"])
        .env(
            "INTAKE_WORKBOOK_LIMITS",
            r#"{"max_cells":2000000,"max_bytes":52428800,"heading_rows":8,"mode":"cells"}"#,
        )
        .stdin(std::fs::File::open(file).unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (_, peak) = wait_with_peak_rss(child.id() as i32);
    (Some(peak), t.elapsed().as_secs_f64())
}

/// A Maildir under `dir`/var holding one message from Sở Y tế carrying `file`.
fn deliver(dir: &Path, file: &Path) {
    let new = dir.join("var/maildir/new");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join("var/maildir").join(sub)).unwrap();
    }
    let name = file.file_name().unwrap().to_string_lossy();
    let body = base64::engine::general_purpose::STANDARD.encode(std::fs::read(file).unwrap());
    let mut wrapped = String::with_capacity(body.len() + body.len() / 76 * 2);
    for chunk in body.as_bytes().chunks(76) {
        wrapped.push_str(std::str::from_utf8(chunk).unwrap());
        wrapped.push_str("\r\n");
    }
    let message = format!(
        "Received: from mail.langson.example by mx.skhdt.langson.example; Sat, 7 Jul 2018 09:00:00 +0700\r\nFrom: So Y te <so-y-te@langson.example>\r\nTo: skhdt@langson.example\r\nSubject: =?utf-8?q?G=E1=BB=ADi_Ph=E1=BB=A5_l=E1=BB=A5c_I?=\r\nDate: Sat, 07 Jul 2018 09:00:00 +0700\r\nMessage-ID: <bench-memory@langson.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGui phu luc.\r\n--b\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{wrapped}--b--\r\n"
    );
    std::fs::write(new.join("1530930000.bench.host"), message).unwrap();
}

fn rows(dir: &Path) -> PathBuf {
    let path = dir.join("rows-1048576.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for r in 0..1_048_576u32 {
        ws.write_number(r, 0, f64::from(r % 997) * 1.5).unwrap();
    }
    wb.save(&path).unwrap();
    path
}

/// Appendix I, every value cell filled (its sums do not add up: findings, so a marked copy),
/// with the blank form's marker, beside a data sheet of 1,048,576 one-cell rows.
fn form_with_rows(root: &Path, dir: &Path) -> PathBuf {
    let config = intake::config::Config::embedded(root).unwrap();
    let spec = config.campaigns[0]
        .deliverable("pl1")
        .unwrap()
        .spec
        .clone()
        .unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    filled::add_form_sheets(&mut wb, &spec);
    let data = wb.add_worksheet();
    data.set_name("Dữ liệu").unwrap();
    for r in 0..1_048_576u32 {
        data.write_number(r, 0, f64::from(r % 997) * 1.5).unwrap();
    }
    filled::add_marker(&mut wb, &spec);
    let path = dir.join("pl1-beside-1048576-rows.xlsx");
    wb.save(&path).unwrap();
    path
}

fn cells(dir: &Path) -> PathBuf {
    let path = dir.join("cells-1850000.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for r in 0..37_000u32 {
        for c in 0..50u16 {
            // Numbers that do not compress to nothing, as a real data export's.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ws.write_number(r, c, (x % 1_000_000_000_000) as f64 / 7.0)
                .unwrap();
        }
    }
    wb.save(&path).unwrap();
    path
}

fn big_xls(dir: &Path) -> PathBuf {
    let path = dir.join("cells-1570000.xls");
    let script = format!(
        "import xlwt\nwb = xlwt.Workbook()\nfor s in range(3):\n    ws = wb.add_sheet(f'S{{s}}')\n    for r in range(65536):\n        for c in range(8):\n            ws.write(r, c, r * 8 + c + 0.5)\nwb.save({:?})\n",
        path.to_str().unwrap()
    );
    let ok = std::process::Command::new("python3")
        .args(["-c", &script])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "python3 with xlwt is needed: pip install xlwt");
    path
}

/// A real xls of the forms corpus whose directory's FAT entry points at itself.
fn looping_xls(root: &Path, dir: &Path) -> PathBuf {
    let mut bytes =
        std::fs::read(root.join("tests/forms-corpus/pl1-district-float-noise.xls")).unwrap();
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let shift = u16::from_le_bytes([bytes[0x1E], bytes[0x1F]]);
    let sector = 1usize << shift;
    let first_dir = u32_at(&bytes, 0x30) as usize;
    let per_fat_sector = sector / 4;
    let fat_sector = u32_at(&bytes, 0x4C + 4 * (first_dir / per_fat_sector)) as usize;
    let at = (fat_sector + 1) * sector + 4 * (first_dir % per_fat_sector);
    bytes[at..at + 4].copy_from_slice(&(first_dir as u32).to_le_bytes());
    let path = dir.join("looping-directory.xls");
    std::fs::write(&path, bytes).unwrap();
    path
}
