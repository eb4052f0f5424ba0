//! Crash safety: `intake run --once` killed with SIGKILL at many instants of a backlog ingest,
//! then restarted until done, must end exactly where an uninterrupted run ends: every message
//! recorded once with the same outcome, the same versions, the same filed tree, one receipt
//! per queued mail, and nothing left unacknowledged.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use intake::store::Store;
use intake::store::query;

/// A backlog of distinct messages: the fixtures, several times, each with its own Message-ID.
fn backlog(dir: &Path, copies: usize) -> usize {
    let config = common::config(dir);
    let maildir =
        intake::source::maildir::Maildir::open(&config.mailbox.path, config.mailbox.on_filed)
            .unwrap();
    let mut n = 0;
    for copy in 0..copies {
        for path in common::fixtures() {
            let raw = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&raw);
            let mut done = false;
            let rewritten: String = text
                .split_inclusive('\n')
                .map(|line| {
                    if !done && line.to_ascii_lowercase().starts_with("message-id:") {
                        done = true;
                        format!("Message-ID: <backlog-{copy}-{n}@test.langson.example>\r\n")
                    } else {
                        line.to_string()
                    }
                })
                .collect();
            maildir
                .deliver(
                    &format!("{}.backlog{n:05}.test", 1_530_000_000 + n),
                    rewritten.as_bytes(),
                )
                .unwrap();
            n += 1;
        }
    }
    n
}

fn run_once(dir: &Path) -> std::process::Child {
    Command::new(common::bin())
        .args(["--now", "2018-07-12T09:00:00+07:00", "run", "--once"])
        .current_dir(dir)
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// What must be identical: per-message summaries, totals, status and the filed tree.
struct State {
    items: Vec<(String, query::ItemSummary)>,
    totals: query::Totals,
    status: serde_json::Value,
    filed: Vec<String>,
    outbox: Vec<String>,
}

fn state(dir: &Path) -> State {
    let config = common::config(dir);
    let store = Store::open_read(&config.store_dir).unwrap();
    let keys: Vec<String> = common::tree(&config.mailbox.path)
        .iter()
        .map(|p| {
            format!(
                "maildir:{}",
                intake::source::maildir::unique_name(p.rsplit('/').next().unwrap())
            )
        })
        .collect();
    let summaries = keys
        .iter()
        .map(|k| {
            (
                k.clone(),
                query::item_summary(&store, k)
                    .unwrap()
                    .unwrap_or_else(|| panic!("{k} not recorded")),
            )
        })
        .collect();
    let totals = query::totals(&store).unwrap();
    let mut status = serde_json::to_value(
        query::status(&store, &config, common::time("2018-07-12T09:00:00+07:00")).unwrap(),
    )
    .unwrap();
    status["now"] = serde_json::Value::Null;
    // Temporary files a kill left behind (never read) are not part of the store's state.
    let kept =
        |p: &String| !p.starts_with("intake.") && !p.rsplit('/').next().unwrap().starts_with('.');
    let filed: Vec<String> = common::tree(&config.store_dir)
        .into_iter()
        .filter(kept)
        .collect();
    let outbox: Vec<String> = common::tree(&config.outbox_dir)
        .into_iter()
        .filter(|p| !p.starts_with(".staging"))
        .collect();
    State {
        items: summaries,
        totals,
        status,
        filed,
        outbox,
    }
}

#[test]
fn killed_at_any_instant_nothing_is_lost_or_filed_twice() {
    let reference = tempfile::tempdir().unwrap();
    let n = backlog(reference.path(), 6);
    let t0 = Instant::now();
    assert!(run_once(reference.path()).wait().unwrap().success());
    let full = t0.elapsed();

    let crashed = tempfile::tempdir().unwrap();
    assert_eq!(backlog(crashed.path(), 6), n);
    // Kill points spread over the whole ingest, from start-up to the last batch: a
    // deterministic scatter of fractions of an uninterrupted run's time.
    let start = Instant::now();
    let mut kills = 0;
    for i in 0..40u32 {
        let mut child = run_once(crashed.path());
        let delay = (full * ((i * 13) % 17 + 1) / 150).max(Duration::from_millis(3));
        std::thread::sleep(delay);
        match child.try_wait().unwrap() {
            Some(_) => break,
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    assert!(
        kills >= 5,
        "the ingest finished before enough kills ({kills}); grow the backlog"
    );
    assert!(
        run_once(crashed.path()).wait().unwrap().success(),
        "the restart after {kills} kills completes"
    );

    let (want, got) = (state(reference.path()), state(crashed.path()));
    assert_eq!(got.items.len(), n);
    assert_eq!(
        got.items, want.items,
        "per-message outcomes differ after {kills} kills"
    );
    assert_eq!(got.totals, want.totals, "totals differ after {kills} kills");
    assert_eq!(
        got.status, want.status,
        "status differs after {kills} kills"
    );
    assert_eq!(
        got.filed, want.filed,
        "filed tree differs after {kills} kills"
    );
    assert_eq!(
        got.outbox.len(),
        got.totals.queued as usize,
        "one outbox file per queued receipt"
    );
    assert_eq!(
        got.totals.sent, got.totals.queued,
        "every receipt handed over"
    );

    // Nothing filed is left in new/ (only mail intake leaves alone stays there).
    let config = common::config(crashed.path());
    let store = Store::open_read(&config.store_dir).unwrap();
    for name in common::tree(&config.mailbox.path.join("new")) {
        let s = query::item_summary(
            &store,
            &format!("maildir:{}", intake::source::maildir::unique_name(&name)),
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.outcome, "left-alone", "{name} left in new/");
    }
    eprintln!(
        "{n} messages, {kills} kills, uninterrupted run {full:?}, whole test {:?}",
        start.elapsed()
    );
}
