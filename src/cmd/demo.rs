//! # `intake demo`: the example campaign, end to end
//!
//! Delivers the fixture mail into the example's Maildir, runs one pass and says where
//! everything went; from a terminal it then goes on as the daemon, with the board.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset};

use intake::clock::Clock;
use intake::config::Config;
use intake::daemon::Worker;
use intake::source::maildir::Maildir;
use intake::store::query;

use super::common::inspector;

/// `intake demo [--once | --serve]`: the pass, then the daemon when asked or at a terminal.
pub fn demo(
    config: Config,
    now: Option<DateTime<FixedOffset>>,
    fixtures: Option<PathBuf>,
    once: bool,
    serve: bool,
) -> Result<ExitCode> {
    use std::io::IsTerminal;
    let serve = serve || (!once && std::io::stdout().is_terminal());
    pass_then_serve(config, now, fixtures, serve)
}

fn pass_then_serve(
    config: Config,
    now: Option<DateTime<FixedOffset>>,
    fixtures: Option<PathBuf>,
    serve: bool,
) -> Result<ExitCode> {
    // The example campaign ran in July 2018; unless told otherwise, look at it from just after.
    let clock = Clock::starting_at(match now {
        Some(at) => at,
        None => DateTime::parse_from_rfc3339("2018-07-12T09:00:00+07:00")?,
    });
    let dir = fixtures.unwrap_or_else(|| {
        let here = PathBuf::from("mailbox-fixtures");
        if here.is_dir() {
            here
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("mailbox-fixtures")
        }
    });
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read the fixtures in {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    if names.is_empty() {
        bail!("no .eml fixtures in {}", dir.display());
    }
    let maildir = Maildir::open(&config.mailbox.path, config.mailbox.on_filed)?;
    let mut delivered = 0;
    for (i, path) in names.iter().enumerate() {
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let unique = format!("{:010}.demo{i:03}.{stem}", 1_530_000_000 + i);
        let known = ["new", "cur"].iter().any(|sub| {
            std::fs::read_dir(config.mailbox.path.join(sub))
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(&unique))
        });
        if !known {
            maildir.deliver(&unique, &std::fs::read(path)?)?;
            delivered += 1;
        }
    }
    let inspector = inspector(&config)?;
    let mut worker = Worker::open(config.clone(), inspector, clock)?;
    let (report, sent) = worker.pass()?;
    let status = query::status(worker.store(), &config, clock.now())?;
    print!(
        "{}",
        intake::report::status_table(&status, &config, clock.now())
    );
    println!(
        "Thư mẫu đã chuyển vào hộp thư: {delivered} (trong {})",
        dir.display()
    );
    let by_kind: Vec<String> = worker
        .store()
        .sent_by_kind()?
        .iter()
        .map(|(kind, n)| {
            let what = match kind.as_str() {
                "receipt" => "biên nhận",
                "reminder" => "thư nhắc (kèm biểu mẫu trống)",
                "digest" => "thư tổng hợp cho cán bộ",
                other => other,
            };
            format!("{n} {what}")
        })
        .collect();
    println!("{}", super::run::pass_summary(&report));
    println!(
        "Thư đã gửi lần này: {sent}; hộp thư đi đến nay: {}.",
        if by_kind.is_empty() {
            "chưa có thư".to_string()
        } else {
            by_kind.join(", ")
        }
    );
    println!(
        "Kho lưu (cây thư mục theo đợt/đơn vị/báo cáo): {}",
        config.store_dir.display()
    );
    println!(
        "Chỉ mục và nhật ký: {}  (xem: intake log)",
        config.store_dir.join("intake.sqlite").display()
    );
    println!(
        "Hộp thư đi (biên nhận, thư nhắc, thư tổng hợp; .eml): {}",
        config.outbox_dir.display()
    );
    println!(
        "Lịch nhắc: intake --now {} remind --dry-run",
        clock
            .now()
            .with_timezone(&config.timezone)
            .format("%Y-%m-%dT%H:%M:%S%:z")
    );
    println!("Hộp thư (Maildir): {}", config.mailbox.path.display());
    if !serve {
        return Ok(ExitCode::SUCCESS);
    }
    // Go on as the daemon, so that the board shows the example campaign at once.
    drop(worker);
    println!(
        "\nintake chạy tiếp như dịch vụ (thư mới vào {} được tiếp nhận ngay).",
        config.mailbox.path.display()
    );
    super::run::run_daemon(config, clock, false, None)
}
