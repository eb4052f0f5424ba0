//! The backlog benchmark, measured against the limit: a backlog of distinct agency workbooks
//! (`common/backlog.rs` says what they are) taken in by `intake run --once` (the release
//! binary, the embedded default), and the bare parse of the same messages — mail-parser, then
//! every cell of every workbook read with calamine, on as many threads as intake uses — run
//! interleaved, three times each. Prints msg/s, CPU-ms per message and peak RSS of each run,
//! the medians, and the ratio of intake's time to the bare parse's.
//!
//! ```sh
//! cargo build --release --example bench_backlog
//! target/release/examples/bench_backlog 1000 10000        # sizes; --seed N (default 742)
//! target/release/examples/bench_backlog 1000 --intake OLD  # another intake binary
//! target/release/examples/bench_backlog 10000 --rounds 1   # fewer rounds (default 3)
//! target/release/examples/bench_backlog 1000 --flawed 100  # every form with a mistake (default 20 %)
//! target/release/examples/bench_backlog generate DIR 1000  # only write the Maildir
//! target/release/examples/bench_backlog bare DIR/new       # only the bare parse
//! ```
//!
//! Run it from the release build (`cargo run --release --example bench_backlog -- 1000` also
//! works): both sides are then optimised alike.

#[path = "common/backlog.rs"]
mod backlog;
#[path = "common/timed.rs"]
mod timed;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use timed::{Run, measure, median};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1))
        .map_or(742, |s| s.parse().expect("--seed takes a number"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let intake = args
        .iter()
        .position(|a| a == "--intake")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| root.join("target/release/intake"), PathBuf::from);
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .map_or(3, |s| s.parse().expect("--rounds takes a number"));
    let flawed: usize = args
        .iter()
        .position(|a| a == "--flawed")
        .and_then(|i| args.get(i + 1))
        .map_or(20, |s| s.parse().expect("--flawed takes a percent"));
    let setting = || backlog::Setting {
        flawed,
        ..backlog::Setting::shipped(root)
    };
    match args.first().map(String::as_str) {
        Some("generate") => {
            let dir = PathBuf::from(&args[1]);
            let n: usize = args[2].parse().expect("a number of messages");
            let counts = backlog::write_maildir(&setting(), seed, n, &dir);
            println!("{n} messages in {}: {}", dir.display(), shapes(counts));
        }
        Some("bare") => {
            let (messages, cells) = bare_parse(Path::new(&args[1]));
            println!("{messages} messages, {cells} cells read");
        }
        _ => {
            let sizes: Vec<usize> = args
                .iter()
                .take_while(|a| !a.starts_with("--"))
                .map(|a| a.parse().expect("sizes are numbers of messages"))
                .collect();
            let sizes = if sizes.is_empty() { vec![1000] } else { sizes };
            for n in sizes {
                compare(&setting(), &intake, seed, n, rounds);
            }
        }
    }
}

fn shapes(counts: [usize; 3]) -> String {
    use backlog::Shape::*;
    [OwnLayout, FilledForm, NoForm]
        .iter()
        .map(|s| format!("{} {}", counts[*s as usize], s.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Generates the backlog once, then runs the bare parse and intake alternately, three times.
fn compare(setting: &backlog::Setting, intake: &Path, seed: u64, n: usize, rounds: usize) {
    assert!(
        intake.exists(),
        "build the release binary first: cargo build --release ({} is missing)",
        intake.display()
    );
    println!("intake: {}", intake.display());
    let me = std::env::current_exe().unwrap();
    let work = tempfile::tempdir().unwrap();
    let template = work.path().join("backlog");
    let start = Instant::now();
    let counts = backlog::write_maildir(setting, seed, n, &template);
    let bytes: u64 = std::fs::read_dir(template.join("new"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "backlog of {n} messages (seed {seed}, {:.0} MB; {}; {} % of forms with a mistake) generated in {:.1} s",
        bytes as f64 / 1e6,
        shapes(counts),
        setting.flawed,
        start.elapsed().as_secs_f64()
    );
    let (mut bare, mut ours) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let b = measure(Command::new(&me).arg("bare").arg(template.join("new")));
        println!("  round {round} bare parse: {}", line(n, b));
        bare.push(b);
        let dir = work.path().join(format!("run{round}"));
        let maildir = dir.join("var/maildir");
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        for e in std::fs::read_dir(template.join("new")).unwrap() {
            let e = e.unwrap();
            std::fs::hard_link(e.path(), maildir.join("new").join(e.file_name())).unwrap();
        }
        let o = measure(
            Command::new(intake)
                .args(["--now", "2018-07-12T09:00:00+07:00", "run", "--once"])
                .env("RUST_LOG", "off")
                .current_dir(&dir),
        );
        println!("  round {round} intake:     {}", line(n, o));
        if round == rounds {
            outcomes(&dir);
        }
        ours.push(o);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let (b, o) = (median(&bare), median(&ours));
    println!("median of {rounds}, {n} messages:");
    println!("  bare parse: {}", line(n, b));
    println!("  intake:     {}", line(n, o));
    println!(
        "  intake / bare parse: {:.2}× the time, {:.2}× the CPU",
        o.wall / b.wall,
        o.cpu / b.cpu
    );
}

fn line(n: usize, r: Run) -> String {
    format!(
        "{:7.2} s, {:6.1} msg/s, {:6.2} CPU-ms/msg, peak RSS {:5.1} MiB",
        r.wall,
        n as f64 / r.wall,
        r.cpu * 1000.0 / n as f64,
        r.rss
    )
}

/// What intake made of the backlog: outcomes, and how each workbook was recognised.
fn outcomes(dir: &Path) {
    let db = walk(dir)
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == "intake.sqlite"))
        .expect("intake made its index");
    let conn = rusqlite::Connection::open(db).unwrap();
    let q = |sql: &str| -> String {
        let mut st = conn.prepare(sql).unwrap();
        st.query_map([], |r| {
            Ok(format!(
                "{} {}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .join(", ")
    };
    println!(
        "    outcomes: {}",
        q("SELECT outcome, count(*) FROM messages GROUP BY outcome ORDER BY 2 DESC")
    );
    println!(
        "    workbooks: {}",
        q(
            "SELECT coalesce(form, 'no form') || ' by ' || coalesce(recognised_by, '-') || (CASE WHEN errors > 0 THEN ' with errors' ELSE '' END), count(*) FROM files GROUP BY 1 ORDER BY 2 DESC"
        )
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The bare parse: every message parsed with mail-parser, every workbook attached opened with
/// calamine and every cell of every sheet read, the messages split over as many threads as
/// the machine has cores (as intake examines them). Returns (messages, non-empty cells).
fn bare_parse(new: &Path) -> (usize, u64) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(new)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = files.len().div_ceil(threads).max(1);
    let cells: u64 = std::thread::scope(|s| {
        files
            .chunks(per)
            .map(|part| s.spawn(move || part.iter().map(|p| parse_one(p)).sum::<u64>()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum()
    });
    (files.len(), cells)
}

fn parse_one(path: &Path) -> u64 {
    use calamine::{Data, Reader};
    use mail_parser::{MessageParser, MimeHeaders};
    let raw = std::fs::read(path).unwrap();
    let message = MessageParser::default().parse(&raw).expect("a message");
    let mut cells = 0u64;
    for part in message.attachments() {
        let name = part.attachment_name().unwrap_or_default().to_lowercase();
        if !(name.ends_with(".xlsx")
            || name.ends_with(".xls")
            || name.ends_with(".xlsm")
            || name.ends_with(".ods"))
        {
            continue;
        }
        let Ok(mut wb) =
            calamine::open_workbook_auto_from_rs(std::io::Cursor::new(part.contents().to_vec()))
        else {
            continue;
        };
        for name in wb.sheet_names() {
            if let Ok(range) = wb.worksheet_range(&name) {
                cells += range
                    .used_cells()
                    .filter(|(_, _, v)| match v {
                        Data::String(s) => !s.is_empty(),
                        Data::Empty => false,
                        _ => true,
                    })
                    .count() as u64;
            }
        }
    }
    cells
}
