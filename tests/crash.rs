//! Crash safety: `intake run --once` killed with SIGKILL at many instants of a backlog ingest,
//! then restarted until done, must end exactly where an uninterrupted run ends: every message
//! recorded once with the same outcome, the same versions, the same filed tree, one receipt
//! per queued mail, and nothing left unacknowledged.
//!
//! The kills come in rounds: a round delivers a backlog to two stores, ingests it in one
//! uninterrupted run in the first and under kills in the second, and compares them. `cargo
//! test` makes one round of [`SHORT_KILLS`]; the ignored `two_hundred_kills` (run by
//! `.ci/run`) makes [`LONG_KILLS`] in as many rounds as it takes; `INTAKE_CRASH_KILLS` sets
//! the number of kills for either.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use intake::store::Store;
use intake::store::query;

/// Kills of the run `cargo test` makes.
const SHORT_KILLS: usize = 40;
/// Kills of the long run.
const LONG_KILLS: usize = 200;
/// Most kills in one round, before the ingest is let finish and compared.
const KILLS_PER_ROUND: usize = 40;

/// A backlog of distinct messages: the fixtures, several times, each with its own Message-ID
/// (and unlike those of earlier rounds).
fn backlog(dir: &Path, round: usize, copies: usize) -> usize {
    let config = common::config(dir);
    let maildir =
        intake::source::maildir::Maildir::open(&config.mailbox.path, config.mailbox.on_filed)
            .unwrap();
    let mut n = 0;
    for copy in 0..copies {
        for path in common::fixtures() {
            let raw = std::fs::read(&path).unwrap();
            let rewritten = common::with_message_id(
                &raw,
                &format!("backlog-{round}-{copy}-{n}@test.langson.example"),
            );
            maildir
                .deliver(
                    &format!(
                        "{}.backlog{round:03}-{n:05}.test",
                        1_530_000_000 + round * 100_000 + n
                    ),
                    &rewritten,
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

/// Kills wanted: `INTAKE_CRASH_KILLS`, or `default`.
fn kills_wanted(default: usize) -> usize {
    match std::env::var("INTAKE_CRASH_KILLS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("INTAKE_CRASH_KILLS={v:?} is not a number")),
        Err(_) => default,
    }
}

#[test]
fn killed_at_any_instant_nothing_is_lost_or_filed_twice() {
    crash_rounds(kills_wanted(SHORT_KILLS), 6, false);
}

/// The long run: `cargo test --test crash -- --ignored` (`.ci/run` runs it).
#[test]
#[ignore = "minutes long; .ci/run runs it"]
fn two_hundred_kills() {
    crash_rounds(kills_wanted(LONG_KILLS), 2, true);
}

/// When to kill the `attempt`th run of a backlog an uninterrupted run ingests in `full`: a
/// deterministic scatter over the start-up and the first batch's reading (up to 11 % of
/// `full`), where most of the work is; with `wide`, every fourth kill anywhere in the whole
/// run (5 to 100 %), so that commits, links, acknowledgements and the outbox are hit too.
fn kill_point(full: Duration, attempt: u32, wide: bool) -> Duration {
    let point = if wide && attempt % 4 == 3 {
        full * ((attempt * 7) % 20 + 1) / 20
    } else {
        full * ((attempt * 13) % 17 + 1) / 150
    };
    point.max(Duration::from_millis(3))
}

/// Rounds of `copies` copies of the fixtures each, until `wanted` kills were made (kill
/// points as [`kill_point`] says); after every round, the killed store must equal the
/// uninterrupted one.
fn crash_rounds(wanted: usize, copies: usize, wide: bool) {
    let reference = tempfile::tempdir().unwrap();
    let crashed = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let (mut kills, mut attempts, mut n) = (0, 0u32, 0);
    let mut round = 0;
    while kills < wanted {
        let added = backlog(reference.path(), round, copies);
        assert_eq!(backlog(crashed.path(), round, copies), added);
        n += added;
        let t0 = Instant::now();
        assert!(run_once(reference.path()).wait().unwrap().success());
        let full = t0.elapsed();

        let before = kills;
        while kills < wanted && kills - before < KILLS_PER_ROUND {
            let mut child = run_once(crashed.path());
            let delay = kill_point(full, attempts, wide);
            attempts += 1;
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
        let made = kills - before;
        assert!(
            made >= 1,
            "round {round}: the ingest finished before any kill; grow the backlog"
        );
        assert!(
            run_once(crashed.path()).wait().unwrap().success(),
            "the restart after {kills} kills completes"
        );
        compare(reference.path(), crashed.path(), n, kills);
        eprintln!(
            "round {round}: {added} messages, {made} kills, uninterrupted run {full:?}; {kills} kills in {:?}",
            start.elapsed()
        );
        round += 1;
    }
    eprintln!(
        "{n} messages, {kills} kills in {round} rounds, whole test {:?}",
        start.elapsed()
    );
}

/// The killed store equals the uninterrupted one, every receipt was handed over once, and
/// nothing filed is left in the mailbox.
fn compare(reference: &Path, crashed: &Path, n: usize, kills: usize) {
    let (want, got) = (state(reference), state(crashed));
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
    let config = common::config(crashed);
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
}
