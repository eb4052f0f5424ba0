//! Shared helpers of the integration tests: a fresh data folder with the embedded example
//! configuration, the fixture corpus, and the `intake` binary.
#![allow(dead_code)] // each test file uses a different part of this module

pub mod dkim;
pub mod dns;
pub mod hostile;
pub mod postgres;
pub mod runs;
pub mod s3;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, FixedOffset};
use intake::clock::Clock;
use intake::config::Config;
use intake::workbook::{Inspector, Limits};

/// The `intake` binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_intake"))
}

/// The repository's fixture folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mailbox-fixtures")
}

/// The `.eml` fixtures, in lexical order.
pub fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("mailbox-fixtures exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    v.sort();
    v
}

/// The embedded example configuration with its data under `dir/var`.
pub fn config(dir: &Path) -> Config {
    Config::embedded(dir).expect("the embedded configuration parses")
}

/// An inspector that reads xls and ods through the real binary's child process.
pub fn inspector() -> Inspector {
    Inspector::new(Limits::default(), Some(bin()))
}

/// A clock set to `at`.
pub fn clock(at: &str) -> Clock {
    Clock::starting_at(time(at))
}

/// Parses an RFC 3339 time.
pub fn time(at: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(at).unwrap()
}

/// Runs `intake ARGS` in `dir` (so the embedded default keeps its data in `dir/var`).
pub fn intake(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("INTAKE_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("intake runs")
}

/// Like [`intake`], asserting success and returning stdout.
pub fn intake_ok(dir: &Path, args: &[&str]) -> String {
    let out = intake(dir, args);
    assert!(
        out.status.success(),
        "intake {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every regular file under `dir`, relative, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A value an agency types into a cell.
pub enum Typed {
    /// A numeric cell.
    Number(f64),
    /// A text cell.
    Text(&'static str),
    /// A numeric cell formatted as a percentage (0.0798 shows as 7,98%).
    Percent(f64),
}

/// Writes a filled form as an agency would, with rust_xlsxwriter: the blank form's layout and
/// marker, and `value(sheet id, row id, column id)` in each value cell.
pub fn filled_form(
    spec: &intake::core::forms::spec::FormSpec,
    agency: &str,
    value: &dyn Fn(&str, &str, &str) -> Option<Typed>,
) -> Vec<u8> {
    use intake::core::forms::blank::Layout;
    let mut wb = rust_xlsxwriter::Workbook::new();
    for sheet in &spec.sheets {
        let layout = Layout::of(spec, sheet);
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).unwrap();
        ws.write_string(
            layout.agency_row,
            0,
            format!("ĐƠN VỊ: {}", agency.to_uppercase()),
        )
        .unwrap();
        for (i, h) in spec.heading.iter().enumerate() {
            ws.write_string(layout.heading_row + i as u32, 0, h)
                .unwrap();
        }
        if let Some(t) = &sheet.title {
            ws.write_string(layout.title_row, 0, t).unwrap();
        }
        ws.write_string(layout.header_row, layout.code_col, &sheet.code_header)
            .unwrap();
        ws.write_string(layout.header_row, layout.label_col, &sheet.label_header)
            .unwrap();
        ws.write_string(layout.header_row, layout.unit_col, &sheet.unit_header)
            .unwrap();
        for (j, c) in sheet.columns.iter().enumerate() {
            ws.write_string(
                layout.header_row,
                layout.first_value_col + j as u16,
                &c.label,
            )
            .unwrap();
        }
        for (i, row) in sheet.rows.iter().enumerate() {
            let r = layout.first_row + i as u32;
            ws.write_string(r, layout.code_col, &row.code).unwrap();
            ws.write_string(r, layout.label_col, &row.label).unwrap();
            ws.write_string(r, layout.unit_col, &row.unit).unwrap();
            for (j, c) in sheet.columns.iter().enumerate() {
                let col = layout.first_value_col + j as u16;
                match value(&sheet.id, &row.id, &c.id) {
                    Some(Typed::Number(n)) => ws.write_number(r, col, n).unwrap(),
                    Some(Typed::Text(t)) => ws.write_string(r, col, t).unwrap(),
                    Some(Typed::Percent(n)) => ws
                        .write_number_with_format(
                            r,
                            col,
                            n,
                            &rust_xlsxwriter::Format::new().set_num_format("0.00%"),
                        )
                        .unwrap(),
                    None => ws,
                };
            }
        }
    }
    let marker = wb.add_worksheet();
    marker.set_name("_intake").unwrap();
    marker
        .write_string(0, 0, intake::core::forms::blank::marker_text(spec))
        .unwrap();
    marker.set_hidden(true);
    wb.save_to_buffer().unwrap()
}

/// A copy of the shipped configuration under `dir/config`, `edit` applied to its
/// `intake.toml`; its data under `dir/var`. Returns the path of `intake.toml`.
pub fn shipped_config(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let cfg = dir.join("config");
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), &cfg);
    let main = cfg.join("intake.toml");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, edit(text)).unwrap();
    main
}

/// The shipped `intake.toml` text with the board on a port the system picks.
pub fn board_on_free_port(text: String) -> String {
    let edited = text.replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"");
    assert!(
        edited.contains("127.0.0.1:0"),
        "the shipped board address moved"
    );
    edited
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            copy_tree(&p, &to.join(p.file_name().unwrap()));
        } else {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// A whole HTTP/1.1 answer (status line, headers and body) to `GET path` from `addr`.
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

/// Polls `f` every 200 ms until it gives a value; fails the test naming `what` after `limit`.
pub fn eventually<T>(
    what: &str,
    limit: std::time::Duration,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// A message with its first Message-ID header replaced by `<id>` (the fixtures delivered
/// again as distinct messages).
pub fn with_message_id(raw: &[u8], id: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let mut done = false;
    text.split_inclusive('\n')
        .map(|line| {
            if !done && line.to_ascii_lowercase().starts_with("message-id:") {
                done = true;
                format!("Message-ID: <{id}>\r\n")
            } else {
                line.to_string()
            }
        })
        .collect::<String>()
        .into_bytes()
}
