//! Three daemons, one store, as a province-wide service runs them: the index in a private
//! PostgreSQL, the objects in moto's S3, six department mailboxes in a private Dovecot over
//! IMAP (IDLE), all on loopback. 3,000 messages arrive in batches while one daemon is
//! SIGKILLed and another stopped and started again. At the end every message is filed exactly
//! once (one row per Message-ID, each moved out of its inbox), every receipt was queued and
//! written exactly once (as many as a single daemon writes for the same mail, none twice),
//! each reminder step was decided once and mailed at most once, the store verifies sound
//! against the bucket, and the campaigns' status is the one a single daemon gives for the same
//! mail. `INTAKE_CLUSTER_MESSAGES` sets another count (for a quick look).

mod common;
#[path = "common/dovecot.rs"]
mod dovecot;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::postgres::Postgres;
use common::runs::{self, json, ok};
use common::s3::Moto;
use dovecot::Dovecot;

/// The departments' mailboxes (Dovecot users), each leased on its own.
const MAILBOXES: [&str; 6] = ["so-y-te", "so-gd", "so-tc", "so-nn", "so-xd", "so-ct"];

/// The fixtures again and again, each with a Message-ID of its own, and the mailbox each goes
/// to: all of one sender's mail to one mailbox, as a department's agencies write to it, so
/// that each agency's versions arrive in one order whoever reads them.
fn messages(count: usize) -> Vec<(usize, Vec<u8>)> {
    let fixtures = common::fixtures();
    (0..count)
        .map(|n| {
            let raw = std::fs::read(&fixtures[n % fixtures.len()]).unwrap();
            let from = String::from_utf8_lossy(&raw)
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("from:"))
                .unwrap_or_default()
                .to_string();
            // The address alone: one sender's headers may be encoded differently each time.
            let address = from
                .rsplit_once('<')
                .map_or(from.as_str(), |(_, a)| a.trim_end_matches(['>', ' ', '\r']))
                .to_ascii_lowercase();
            let mailbox = address.bytes().map(usize::from).sum::<usize>() % MAILBOXES.len();
            (
                mailbox,
                common::with_message_id(&raw, &format!("cluster-{n}@test.langson.example")),
            )
        })
        .collect()
}

/// The shipped configuration with the six mailboxes (of users named `prefix` + department),
/// the board off, and the index and objects where `configured` puts them.
fn configuration(
    dir: &Path,
    dc: &Dovecot,
    prefix: &str,
    index: Option<(&Postgres, &str)>,
    objects: Option<(&Moto, &str)>,
) -> std::path::PathBuf {
    let cfg = runs::configured(dir, index, objects);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    let shipped = "[mailbox]\nkind = \"maildir\"";
    let start = text.find(shipped).expect("the shipped [mailbox] moved");
    let end = start + text[start..].find("on_filed = \"seen\"\n").unwrap() + 18;
    text.replace_range(start..end, "");
    let board = "enabled = true\nlisten = \"127.0.0.1:8080\"";
    assert!(text.contains(board), "the shipped [board] moved");
    text = text.replacen(board, "enabled = false\nlisten = \"127.0.0.1:8080\"", 1);
    for m in MAILBOXES {
        text.push_str(&format!(
            "\n[[mailbox]]\nname = \"{m}\"\nkind = \"imap\"\n\n[mailbox.imap]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nca_file = \"{}\"\nuser = \"{prefix}{m}\"\npassword_file = \"{}\"\non_filed = \"move\"\nmove_to = \"Processed\"\ntimeout_secs = 20\n",
            dc.imaps_port,
            dc.cert.display(),
            dc.password_file.display()
        ));
    }
    std::fs::write(&cfg, text).unwrap();
    cfg
}

fn daemon(dir: &Path, cfg: &Path, n: usize) -> Child {
    runs::daemon(dir, cfg, &format!("daemon{n}"))
}

/// The `.eml` files of an outbox, by Message-ID, with how often each was written.
fn written(outbox: &Path) -> BTreeMap<String, usize> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for e in std::fs::read_dir(outbox).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "eml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let id = text
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .unwrap_or_default()
            .to_string();
        *seen.entry(id).or_default() += 1;
    }
    seen
}

/// What the status says of the campaigns (figures and matrix), without the instant it is for.
fn campaigns(dir: &Path, cfg: &Path) -> serde_json::Value {
    json(&ok(dir, cfg, &["status", "--json"]))["campaigns"].clone()
}

/// Where two JSON values differ, by path.
fn differences(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Vec<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter()
                .flat_map(|k| {
                    let here = format!("{at}.{k}");
                    let (p, q) = (&x.get(k), &y.get(k));
                    match (p, q) {
                        (Some(p), Some(q)) => differences(p, q, &here),
                        _ => vec![format!("{here}: {p:?} / {q:?}")],
                    }
                })
                .collect()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .flat_map(|(n, (p, q))| {
                let name = p["code"]
                    .as_str()
                    .or(p["id"].as_str())
                    .map_or(n.to_string(), str::to_string);
                differences(p, q, &format!("{at}[{name}]"))
            })
            .collect(),
        _ if a == b => Vec::new(),
        _ => vec![format!("{at}: {a} / {b}")],
    }
}

#[test]
fn three_daemons_on_six_mailboxes_file_every_message_and_receipt_once() {
    let count: usize = std::env::var("INTAKE_CLUSTER_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let users: Vec<String> = MAILBOXES
        .iter()
        .flat_map(|m| [format!("c-{m}"), format!("s-{m}")])
        .collect();
    let dc = Dovecot::start_with_users(&users.iter().map(String::as_str).collect::<Vec<_>>());
    let pg = Postgres::start();
    pg.database("cluster");
    let moto = Moto::start();
    moto.bucket("cluster");
    let all = messages(count);
    let per_mailbox = |batch: &[(usize, Vec<u8>)], prefix: &str| {
        for (n, m) in MAILBOXES.iter().enumerate() {
            let mine: Vec<Vec<u8>> = batch
                .iter()
                .filter(|(to, _)| *to == n)
                .map(|(_, raw)| raw.clone())
                .collect();
            if !mine.is_empty() {
                dc.deliver_all_to(&format!("{prefix}{m}"), &mine);
            }
        }
    };

    // The same mail, read by one daemon alone (the embedded store, one pass).
    let solo = tempfile::tempdir().unwrap();
    let solo_cfg = configuration(solo.path(), &dc, "s-", None, None);
    per_mailbox(&all, "s-");
    let started = Instant::now();
    ok(solo.path(), &solo_cfg, &["run", "--once"]);
    let solo_time = started.elapsed();

    // Three daemons on the shared store, the mail arriving in ten batches; after the third
    // one daemon is SIGKILLed (a new one started), after the sixth another is stopped
    // (SIGTERM) and started again.
    let dir = tempfile::tempdir().unwrap();
    let cfg = configuration(
        dir.path(),
        &dc,
        "c-",
        Some((&pg, "cluster")),
        Some((&moto, "cluster")),
    );
    let mut daemons: Vec<Child> = (0..3).map(|n| daemon(dir.path(), &cfg, n)).collect();
    let mut started_daemons = 3;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let begun = Instant::now();
    for (b, batch) in all.chunks(count.div_ceil(10).max(1)).enumerate() {
        per_mailbox(batch, "c-");
        std::thread::sleep(Duration::from_millis(500 + next() % 1500));
        if b == 2 {
            let victim = (next() % daemons.len() as u64) as usize;
            let mut d = daemons.remove(victim);
            d.kill().unwrap();
            d.wait().unwrap();
            daemons.push(daemon(dir.path(), &cfg, started_daemons));
            started_daemons += 1;
        }
        if b == 5 {
            let victim = (next() % daemons.len() as u64) as usize;
            let mut d = daemons.remove(victim);
            let _ = Command::new("kill")
                .args(["-TERM", &d.id().to_string()])
                .status();
            let stopped = d.wait().unwrap();
            assert!(
                stopped.success(),
                "a stopped daemon exits cleanly: {stopped}"
            );
            daemons.push(daemon(dir.path(), &cfg, started_daemons));
            started_daemons += 1;
        }
    }

    // Everything is filed in the end, whoever works which mailbox.
    let deadline = Instant::now() + Duration::from_secs(900);
    let count_of = |sql: &str| -> i64 {
        pg.client("cluster")
            .ok()
            .and_then(|mut c| c.query_one(sql, &[]).ok())
            .map_or(-1, |r| r.get(0))
    };
    loop {
        let recorded = count_of("SELECT count(*) FROM messages");
        let unacked = count_of("SELECT count(*) FROM messages WHERE acknowledged = 0");
        let unsent = count_of(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND kind = 'receipt'",
        );
        if recorded == all.len() as i64 && unacked == 0 && unsent == 0 {
            break;
        }
        if Instant::now() >= deadline {
            let logs: Vec<String> = (0..started_daemons)
                .map(|n| {
                    let text = std::fs::read_to_string(dir.path().join(format!("daemon{n}.log")))
                        .unwrap_or_default();
                    let tail: Vec<&str> = text.lines().rev().take(6).collect();
                    format!("daemon {n}: {}", tail.join(" | "))
                })
                .collect();
            panic!(
                "{recorded} of {} recorded, {unacked} not acknowledged, {unsent} receipts unsent:\n{}",
                all.len(),
                logs.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let cluster_time = begun.elapsed();
    // How the leases moved, from the daemons' logs (for the figures, not asserted).
    let said: String = (0..started_daemons)
        .map(|n| {
            std::fs::read_to_string(dir.path().join(format!("daemon{n}.log"))).unwrap_or_default()
        })
        .collect();
    for what in [
        "lease taken",
        "lease given up",
        "lease lost",
        "leases not kept",
        "not given up yet",
        "left to it",
        "pass failed",
    ] {
        eprintln!("daemons' logs: {} × \"{what}\"", said.matches(what).count());
    }
    // The sources were shared: every daemon alive works some.
    let status = json(&ok(dir.path(), &cfg, &["status", "--json"]));
    let working = status["daemons"].as_array().cloned().unwrap_or_default();
    assert_eq!(working.len(), 3, "{status}");
    assert!(
        working
            .iter()
            .all(|d| !d["holds"].as_array().unwrap().is_empty()),
        "a daemon works no source: {working:?}"
    );
    std::thread::sleep(Duration::from_secs(3));
    for mut d in daemons {
        d.kill().unwrap();
        d.wait().unwrap();
    }

    // Every message once, moved out of its inbox unless intake leaves it there.
    let mut db = pg.client("cluster").unwrap();
    let rows: Vec<(String, Option<String>, String)> = db
        .query("SELECT source_key, message_id, outcome FROM messages", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let ids: BTreeSet<&str> = rows.iter().filter_map(|(_, m, _)| m.as_deref()).collect();
    assert_eq!(rows.len(), all.len(), "one row per message");
    assert_eq!(ids.len(), all.len(), "every Message-ID once");
    let left_alone = rows.iter().filter(|(_, _, o)| o == "left-alone").count();
    let (mut inbox, mut processed) = (0, 0);
    for m in MAILBOXES {
        let user = format!("c-{m}");
        inbox += dc.messages_of(&user, "INBOX").len();
        if dc
            .doveadm(&["mailbox", "list", "-u", &user])
            .contains("Processed")
        {
            processed += dc.messages_of(&user, "Processed").len();
        }
    }
    assert_eq!(
        inbox, left_alone,
        "only what intake leaves alone stays in the inboxes"
    );
    assert_eq!(processed + left_alone, all.len());

    // Every receipt once: none queued twice for a message, none written twice, and as many as
    // the single daemon wrote for the same mail.
    let doubled: i64 = db
        .query_one(
            "SELECT count(*) FROM (SELECT message FROM outbox WHERE kind = 'receipt' GROUP BY message HAVING count(*) > 1) d",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(doubled, 0, "a message with two receipts");
    let receipts: i64 = db
        .query_one("SELECT count(*) FROM outbox WHERE kind = 'receipt'", &[])
        .unwrap()
        .get(0);
    let solo_db = rusqlite::Connection::open(solo.path().join("var/store/intake.sqlite")).unwrap();
    let solo_receipts: i64 = solo_db
        .query_row(
            "SELECT count(*) FROM outbox WHERE kind = 'receipt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        receipts, solo_receipts,
        "receipts: three daemons, one alone"
    );
    let seen = written(&dir.path().join("var/outbox"));
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mail written twice: {twice:?}");
    assert!(
        seen.len() as i64 >= receipts,
        "{} mails written",
        seen.len()
    );

    // Each reminder step decided once (the key allows no other) and mailed at most once.
    let steps: i64 = db
        .query_one(
            "SELECT count(*) FROM (SELECT campaign, agency, step FROM reminders GROUP BY 1, 2, 3 HAVING count(*) > 1) d",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(steps, 0);
    let reminder_mails: i64 = db
        .query_one(
            "SELECT count(*) FROM (SELECT r.outbox FROM reminders r WHERE r.outbox IS NOT NULL GROUP BY r.outbox HAVING count(*) > 1) d",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(reminder_mails, 0, "one outbox row mailed for two steps");

    // The campaigns' status: the single daemon's.
    let (ours, theirs) = (
        campaigns(dir.path(), &cfg),
        campaigns(solo.path(), &solo_cfg),
    );
    assert!(
        ours == theirs,
        "the status differs from a single daemon's: {:?}",
        differences(&ours, &theirs, "")
    );
    let report = json(&ok(dir.path(), &cfg, &["verify", "--json"]));
    assert_eq!(report["sound"], true, "{report}");
    eprintln!(
        "{} messages in six mailboxes: three daemons (one killed, one restarted) {cluster_time:?}, one daemon alone {solo_time:?}; {receipts} receipts, {} mails written",
        all.len(),
        seen.len()
    );
}
