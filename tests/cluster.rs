//! Three daemons, one store: the index in a private PostgreSQL, the objects in moto's S3, the
//! mail in a private Dovecot over IMAP (IDLE), all on loopback. Mail arrives in batches while
//! daemons are SIGKILLed at random and new ones started; at the end every message is filed
//! exactly once (one row per Message-ID, each moved out of the inbox), every message has at
//! most one receipt queued, no receipt was written to the outbox twice, and the store
//! verifies sound against the bucket.

mod common;
#[path = "common/dovecot.rs"]
mod dovecot;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::postgres::Postgres;
use common::runs::{self, json, ok};
use common::s3::Moto;
use dovecot::Dovecot;

/// The fixtures again and again, each with a Message-ID of its own.
fn messages(count: usize) -> Vec<Vec<u8>> {
    let fixtures = common::fixtures();
    (0..count)
        .map(|n| {
            let raw = std::fs::read(&fixtures[n % fixtures.len()]).unwrap();
            common::with_message_id(&raw, &format!("cluster-{n}@test.langson.example"))
        })
        .collect()
}

fn daemon(dir: &Path, cfg: &Path, n: usize) -> Child {
    let log = std::fs::File::create(dir.join(format!("daemon{n}.log"))).unwrap();
    Command::new(common::bin())
        .arg("--config")
        .arg(cfg)
        .args(["--now", runs::NOW, "run"])
        .current_dir(dir)
        .envs(runs::ENV.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

#[test]
fn three_daemons_killed_at_random_file_every_message_once() {
    let pg = Postgres::start();
    pg.database("cluster");
    let moto = Moto::start();
    moto.bucket("cluster");
    let dc = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = runs::configured(dir.path(), Some((&pg, "cluster")), Some((&moto, "cluster")));
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    for (from, to) in [
        ("kind = \"maildir\"", "kind = \"imap\""),
        (
            "enabled = true\nlisten = \"127.0.0.1:8080\"",
            "enabled = false\nlisten = \"127.0.0.1:8080\"",
        ),
    ] {
        assert!(
            text.contains(from),
            "the shipped configuration moved: {from}"
        );
        text = text.replacen(from, to, 1);
    }
    text.push_str(&format!(
        "\n[mailbox.imap]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nca_file = \"{}\"\nuser = \"{}\"\npassword_file = \"{}\"\non_filed = \"move\"\nmove_to = \"Processed\"\ntimeout_secs = 10\n",
        dc.imaps_port,
        dc.cert.display(),
        dovecot::USER,
        dc.password_file.display()
    ));
    std::fs::write(&cfg, text).unwrap();

    let all = messages(120);
    let mut daemons: Vec<Child> = (0..3).map(|n| daemon(dir.path(), &cfg, n)).collect();
    let mut started = 3;
    // A pseudo-random but repeatable choice of whom to kill.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut killed = 0;
    for batch in all.chunks(30) {
        dc.deliver_all(batch);
        std::thread::sleep(Duration::from_millis(300 + next() % 1200));
        let victim = (next() % daemons.len() as u64) as usize;
        let mut d = daemons.remove(victim);
        d.kill().unwrap();
        d.wait().unwrap();
        killed += 1;
        daemons.push(daemon(dir.path(), &cfg, started));
        started += 1;
    }

    // Everything arrives in the end, whoever writes: every message recorded, and moved out of
    // the inbox unless intake leaves it there (personal mail).
    let deadline = Instant::now() + Duration::from_secs(120);
    let count = |sql: &str| -> i64 {
        pg.client("cluster")
            .ok()
            .and_then(|mut c| c.query_one(sql, &[]).ok())
            .map_or(-1, |r| r.get(0))
    };
    loop {
        let inbox = dc.messages("INBOX").len();
        let processed = dc.messages("Processed").len();
        let recorded = count("SELECT count(*) FROM messages");
        let left = count("SELECT count(*) FROM messages WHERE outcome = 'left-alone'");
        if recorded == all.len() as i64
            && processed as i64 + left == all.len() as i64
            && inbox as i64 == left
        {
            break;
        }
        if Instant::now() >= deadline {
            let logs: Vec<String> = (0..started)
                .map(|n| {
                    let text = std::fs::read_to_string(dir.path().join(format!("daemon{n}.log")))
                        .unwrap_or_default();
                    let tail: Vec<&str> = text.lines().rev().take(6).collect();
                    format!("daemon {n}: {}", tail.join(" | "))
                })
                .collect();
            panic!(
                "{inbox} still in the inbox, {processed} processed of {}:\n{}",
                all.len(),
                logs.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    // The outbox drained too: nothing waiting.
    std::thread::sleep(Duration::from_secs(3));
    for mut d in daemons {
        d.kill().unwrap();
        d.wait().unwrap();
    }

    let mut db = pg.client("cluster").unwrap();
    let rows: Vec<(String, Option<String>)> = db
        .query("SELECT source_key, message_id FROM messages", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let ids: BTreeSet<&str> = rows.iter().filter_map(|(_, m)| m.as_deref()).collect();
    assert_eq!(
        rows.len(),
        all.len(),
        "one row per message, {killed} daemons killed"
    );
    assert_eq!(ids.len(), all.len(), "every Message-ID once");
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
    assert!(receipts > 60, "{receipts} receipts");

    // No receipt written out twice: each outbox .eml names its row in its Message-ID.
    let outbox = dir.path().join("var/outbox");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for e in std::fs::read_dir(&outbox).unwrap().flatten() {
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
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mail written twice: {twice:?}");

    let report = json(&ok(dir.path(), &cfg, &["verify", "--json"]));
    assert_eq!(report["sound"], true, "{report}");
    eprintln!(
        "{} messages, {killed} daemons killed, {receipts} receipts, {} mails written",
        all.len(),
        seen.len()
    );
}
