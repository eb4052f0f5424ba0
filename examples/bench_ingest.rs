//! Backlog ingest benchmark: N messages (copies of the fixtures, each with its own
//! Message-ID) in the Maildir, then `intake run --once` with the release binary. Three runs;
//! prints each and the medians of messages per second and peak RSS.
//!
//! `cargo build --release && cargo run --release --example bench_ingest -- 1000`

#[path = "common/rss.rs"]
mod rss;

use rss::{timed, wait_with_peak_rss};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/intake");
    assert!(
        bin.exists(),
        "build the release binary first: cargo build --release"
    );
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root.join("mailbox-fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    fixtures.sort();
    let raws: Vec<String> = fixtures
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect();

    let mut rates = Vec::new();
    let mut rss = Vec::new();
    for run in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("var/maildir/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::create_dir_all(dir.path().join("var/maildir/cur")).unwrap();
        std::fs::create_dir_all(dir.path().join("var/maildir/tmp")).unwrap();
        for i in 0..n {
            let raw = &raws[i % raws.len()];
            let mut done = false;
            let text: String = raw
                .split_inclusive('\n')
                .map(|l| {
                    if !done && l.to_ascii_lowercase().starts_with("message-id:") {
                        done = true;
                        format!("Message-ID: <bench-{i}@bench.langson.example>\r\n")
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            std::fs::write(
                new.join(format!("{}.bench{i:06}.host", 1_530_000_000 + i)),
                text,
            )
            .unwrap();
        }
        let start = Instant::now();
        #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its peak RSS
        let child = timed(&bin)
            .args(["--now", "2018-07-12T09:00:00+07:00", "run", "--once"])
            .current_dir(dir.path())
            .env("RUST_LOG", "off")
            .spawn()
            .unwrap();
        let (code, peak) = wait_with_peak_rss(child.id() as i32);
        let ok = code == 0;
        let secs = start.elapsed().as_secs_f64();
        assert!(ok, "intake run --once failed");
        let rate = n as f64 / secs;
        println!(
            "run {}: {n} messages in {secs:.2} s = {rate:.0} msg/s; peak RSS of intake {peak:.1} MiB",
            run + 1
        );
        rates.push(rate);
        rss.push(peak);
    }
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rss.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "median: {:.0} msg/s, peak RSS {:.1} MiB (the intake process; workbook readers run in bounded child processes)",
        rates[1], rss[1]
    );
}
