//! Receipts and reminders end to end with real servers: agencies' mail goes through a real
//! SMTP relay (aiosmtpd, submitted by Python's smtplib) into the department's mailbox in a
//! private Dovecot; `intake run` (the real binary) takes it over IMAP and sends the receipt
//! over SMTP with STARTTLS and AUTH; the receipt is read back from the agency's own mailbox
//! with Python's imaplib. Also: the relay stopped while receipts are queued, then started
//! (each delivered exactly once); a recipient the server refuses for good (shown to staff);
//! and the reminder schedule run with `intake --now … remind` across a moved clock, one
//! process per run, with an extension and jumps back and forth.

mod common;
#[path = "common/dovecot.rs"]
mod dovecot;
#[path = "common/smtp.rs"]
mod smtp;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dovecot::Dovecot;
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use smtp::{Smtp, SmtpMode};

/// After office hours on 5 July 2018: the campaign is open, no reminder or digest goes.
const NOW: &str = "2018-07-05T18:00:00+07:00";
const SO_Y_TE: &str = "01-so-y-te-pl1-outlook.eml";
const SO_TAI_CHINH: &str = "02-so-tai-chinh-pl2-gmail-rfc2047.eml";
const SO_CONG_THUONG: &str = "03-so-cong-thuong-pl3-thunderbird-rfc2231.eml";
/// Sở Giao thông vận tải has no mailbox on the test server: the relay refuses it (550).
const SO_GTVT: &str = "05-so-gtvt-pl1-forwarded.eml";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join(name)).unwrap()
}

/// The local parts of every agency's addresses in the example roster (their mailboxes).
fn agency_users(except: &[&str]) -> Vec<String> {
    let config = common::config(Path::new("/x"));
    let mut users: Vec<String> = config.campaigns[0]
        .agencies
        .iter()
        .flat_map(|a| a.addresses.iter())
        .filter_map(|a| a.split('@').next().map(str::to_string))
        .filter(|u| !except.contains(&u.as_str()))
        .collect();
    users.sort();
    users.dedup();
    users
}

/// A copy of the shipped configuration in `dir/config`, with the mailbox and outbox set by
/// `mailbox` and `outbox` (TOML tables appended) and `extra` keys replaced.
fn write_config(
    dir: &Path,
    mailbox: Option<String>,
    outbox: &str,
    extra: &[(&str, &str)],
) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let cfg = dir.join("config");
    for sub in ["campaigns", "rosters", "forms", "templates"] {
        std::fs::create_dir_all(cfg.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap().flatten() {
            std::fs::copy(e.path(), cfg.join(sub).join(e.file_name())).unwrap();
        }
    }
    let mut main = std::fs::read_to_string(src.join("intake.toml")).unwrap();
    let replace_line = |text: &mut String, starts: &str, with: &str| {
        let out: Vec<String> = text
            .lines()
            .map(|l| {
                if l.starts_with(starts) {
                    with.to_string()
                } else {
                    l.to_string()
                }
            })
            .collect();
        *text = out.join("\n") + "\n";
    };
    if mailbox.is_some() {
        replace_line(&mut main, "kind = \"maildir\"", "kind = \"imap\"");
    }
    replace_line(&mut main, "kind = \"file\"", "kind = \"smtp\"");
    for (key, value) in extra {
        replace_line(&mut main, &format!("{key} ="), &format!("{key} = {value}"));
    }
    if let Some(m) = mailbox {
        main.push_str(&m);
    }
    main.push_str(outbox);
    let path = cfg.join("intake.toml");
    std::fs::write(&path, main).unwrap();
    path
}

fn imap_table(dc: &Dovecot) -> String {
    format!(
        "\n[mailbox.imap]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nca_file = \"{}\"\nuser = \"{}\"\npassword_file = \"{}\"\non_filed = \"move\"\nmove_to = \"Processed\"\ntimeout_secs = 10\n",
        dc.imaps_port,
        dc.cert.display(),
        dovecot::USER,
        dc.password_file.display()
    )
}

fn smtp_table(relay: &Smtp) -> String {
    format!(
        "\n[outbox.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"{}\"\nca_file = \"{}\"\nuser = \"{}\"\npassword_file = \"{}\"\ntimeout_secs = 5\n",
        relay.port,
        match relay.mode {
            SmtpMode::StartTls => "starttls",
            SmtpMode::Tls => "tls",
        },
        relay.cert.display(),
        relay.user,
        relay.password_file.display()
    )
}

/// `intake --config CONFIG ARGS` in `dir`.
fn intake(dir: &Path, config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(common::bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("intake runs")
}

fn intake_ok(dir: &Path, config: &Path, args: &[&str]) -> String {
    let out = intake(dir, config, args);
    assert!(
        out.status.success(),
        "intake {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `intake run` as a child process, stopped with SIGTERM when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(dir: &Path, config: &Path, now: &str) -> Daemon {
        let log = dir.join(format!("intake-{}.log", std::process::id()));
        let child = Command::new(common::bin())
            .arg("--config")
            .arg(config)
            .args(["--now", now, "run"])
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("intake runs");
        Daemon { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.wait();
    }
}

fn db(dir: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open_with_flags(
        dir.join("var/store/intake.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c
}

fn count(dir: &Path, sql: &str) -> i64 {
    if !dir.join("var/store/intake.sqlite").exists() {
        return 0;
    }
    db(dir).query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

/// What the relay took from intake (not the agencies' own submissions).
fn sent_by_intake(relay: &Smtp) -> Vec<serde_json::Value> {
    relay
        .accepted()
        .into_iter()
        .filter(|a| a["mail_from"] == "intake@skhdt.langson.example")
        .collect()
}

fn header_text(m: &mail_parser::Message<'_>, name: &str) -> String {
    match m.header(name) {
        Some(HeaderValue::Text(t)) => t.to_string(),
        Some(HeaderValue::TextList(l)) => l.join(" "),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

#[test]
fn an_agencys_message_gets_its_receipt_in_the_agencys_own_mailbox() {
    let dc = Dovecot::start_with_users(&["so-y-te", "so-tai-chinh"]);
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), Some(imap_table(&dc)), &smtp_table(&relay), &[]);
    let daemon = Daemon::start(dir.path(), &config, NOW);
    wait_for("the first pass", Duration::from_secs(20), || {
        count(dir.path(), "SELECT count(*) FROM imap_sync") > 0
    });

    // Sở Y tế's message, from its usual client, through the mail system into our mailbox.
    let raw = fixture(SO_Y_TE);
    relay.send("so-y-te@langson.example", &["alice@localhost"], &raw);
    let took = wait_for(
        "the receipt in Sở Y tế's mailbox",
        Duration::from_secs(20),
        || dc.count_new("so-y-te") >= 1,
    );
    eprintln!("receipt delivered {took:?} after the submission");

    let original = MessageParser::default().parse(&raw).unwrap();
    let original_id = original.message_id().unwrap().to_string();
    let got = dc.fetch_all("so-y-te");
    assert_eq!(got.len(), 1, "exactly one receipt");
    let receipt = MessageParser::default().parse(&got[0]).unwrap();
    let subject = receipt.subject().unwrap();
    assert!(
        subject.starts_with("Biên nhận CV 742/SKHĐT-THQH [BN-"),
        "{subject}"
    );
    assert!(subject.contains("Re: "), "{subject}");
    assert_eq!(receipt.in_reply_to().as_text(), Some(original_id.as_str()));
    assert!(
        header_text(&receipt, "References").contains(&original_id),
        "threaded under the agency's message: {:?}",
        receipt.references()
    );
    assert_eq!(header_text(&receipt, "Auto-Submitted"), "auto-replied");
    assert_eq!(
        receipt.from().unwrap().first().unwrap().address(),
        Some("intake@skhdt.langson.example")
    );
    let body = receipt.body_text(0).unwrap();
    assert!(body.contains("Kính gửi: Sở Y tế."), "{body}");
    assert!(body.contains("lần nộp thứ 1"), "{body}");
    assert!(body.contains("Mã biên nhận: BN-"), "{body}");
    // The fixture's workbook has findings by design: the marked copy is attached.
    let names: Vec<String> = receipt
        .attachments()
        .filter_map(|a| a.attachment_name().map(str::to_string))
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("Kết quả kiểm tra") && n.ends_with(".xlsx")),
        "{names:?}\n{body}"
    );
    // Sent once, recorded as sent right after the server took it.
    assert_eq!(sent_by_intake(&relay).len(), 1);
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND delivered_as LIKE 'smtp://%'"
        ),
        1
    );

    // A second agency over the same pooled connection; the first is not sent again.
    relay.send(
        "so-tai-chinh@langson.example",
        &["alice@localhost"],
        &fixture(SO_TAI_CHINH),
    );
    wait_for("the second receipt", Duration::from_secs(20), || {
        dc.count_new("so-tai-chinh") >= 1
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(dc.count_new("so-y-te"), 1);
    assert_eq!(sent_by_intake(&relay).len(), 2, "{}", daemon.log());
}

#[test]
fn receipts_queued_while_the_mail_server_is_down_are_delivered_once_when_it_is_back() {
    let dc = Dovecot::start_with_users(&["so-y-te", "so-tai-chinh", "so-cong-thuong"]);
    let mut relay = Smtp::start(&dc, SmtpMode::Tls);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        Some(imap_table(&dc)),
        &smtp_table(&relay),
        &[("retry_first_secs", "1"), ("retry_max_secs", "2")],
    );
    relay.stop();
    let daemon = Daemon::start(dir.path(), &config, NOW);
    wait_for("the first pass", Duration::from_secs(20), || {
        count(dir.path(), "SELECT count(*) FROM imap_sync") > 0
    });
    for f in [SO_Y_TE, SO_TAI_CHINH, SO_CONG_THUONG, SO_GTVT] {
        dc.deliver(&fixture(f));
    }
    wait_for(
        "four receipts queued and failing",
        Duration::from_secs(30),
        || {
            count(
                dir.path(),
                "SELECT count(*) FROM outbox WHERE kind = 'receipt'",
            ) == 4
                && count(dir.path(), "SELECT count(*) FROM outbox WHERE attempts > 0") >= 1
        },
    );
    // Down for a few retry rounds: nothing is lost, nothing given up.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL"
        ),
        0
    );

    relay.start_again();
    wait_for(
        "the three receipts delivered",
        Duration::from_secs(30),
        || {
            ["so-y-te", "so-tai-chinh", "so-cong-thuong"]
                .iter()
                .all(|u| dc.count_new(u) >= 1)
        },
    );
    // The fourth is refused for good (no such mailbox): logged and shown, not retried.
    wait_for("the refusal recorded", Duration::from_secs(10), || {
        count(
            dir.path(),
            "SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL",
        ) == 1
    });
    std::thread::sleep(Duration::from_secs(3));
    for u in ["so-y-te", "so-tai-chinh", "so-cong-thuong"] {
        assert_eq!(
            dc.count_new(u),
            1,
            "{u}: exactly one receipt\n{}",
            daemon.log()
        );
    }
    let accepted = relay.accepted();
    let mut ids: Vec<String> = accepted
        .iter()
        .filter(|a| {
            a.get("refused")
                .is_none_or(|r| r.as_array().is_none_or(|r| r.is_empty()))
        })
        .map(|a| a["message_id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{accepted:?}");
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
        ),
        3
    );
    let failed: String = db(dir.path())
        .query_row(
            "SELECT last_error FROM outbox WHERE failed_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        failed.starts_with("refused: ") && failed.contains("550"),
        "{failed}"
    );
    drop(daemon);
    let log = intake_ok(dir.path(), &config, &["log", "--agency", "so-gtvt"]);
    assert!(log.contains("không gửi được thư"), "{log}");
    let status = intake_ok(dir.path(), &config, &["--now", NOW, "status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["outbox"]["failed"], 1, "{status}");
}

/// Reminder mail per agency, by mailbox.
fn reminders_by_user(dc: &Dovecot, users: &[String]) -> BTreeMap<String, Vec<String>> {
    users
        .iter()
        .map(|u| {
            let subjects = dc
                .fetch_all(u)
                .iter()
                .filter_map(|raw| {
                    let m = MessageParser::default().parse(raw)?;
                    let s = m.subject()?.to_string();
                    s.contains("Nhắc").then_some(s)
                })
                .collect();
            (u.clone(), subjects)
        })
        .collect()
}

#[test]
fn the_reminder_schedule_run_across_a_moved_clock_sends_each_step_once() {
    let mut users = agency_users(&[]);
    users.push("thqh".into()); // the staff digest's recipient
    let refs: Vec<&str> = users.iter().map(String::as_str).collect();
    let dc = Dovecot::start_with_users(&refs);
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None, &smtp_table(&relay), &[]);
    let d = dir.path();

    // Before the first step, most of the fixture mail arrives: some agencies send everything.
    intake_ok(d, &config, &["--now", "2018-07-03T09:00:00+07:00", "demo"]);
    let status: serde_json::Value = serde_json::from_str(&intake_ok(
        d,
        &config,
        &["--now", "2018-07-03T09:00:00+07:00", "status", "--json"],
    ))
    .unwrap();
    let owing: Vec<String> = status["campaigns"][0]["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["deliverables"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["state"] != "accepted" && c["state"] != "exempt")
        })
        .map(|a| a["code"].as_str().unwrap().to_string())
        .collect();
    let complete: Vec<String> = status["campaigns"][0]["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap().to_string())
        .filter(|c| !owing.contains(c))
        .collect();
    assert!(
        owing.len() > 10 && !complete.is_empty(),
        "{owing:?} {complete:?}"
    );
    let extended = owing[0].clone();
    let exempted = owing[1].clone();

    let remind = |now: &str| -> serde_json::Value {
        let out = intake_ok(d, &config, &["--now", now, "remind", "--json"]);
        serde_json::from_str(&out).unwrap()
    };
    let queued = |v: &serde_json::Value| v["queued"].as_u64().unwrap();

    // The dry run says what would go, and when, and sends nothing.
    let before = relay.accepted().len();
    let dry: serde_json::Value = serde_json::from_str(&intake_ok(
        d,
        &config,
        &[
            "--now",
            "2018-07-04T09:00:00+07:00",
            "remind",
            "--dry-run",
            "--json",
        ],
    ))
    .unwrap();
    let sends = dry["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "send")
        .count();
    assert_eq!(sends, owing.len(), "{dry}");
    assert_eq!(relay.accepted().len(), before);

    // Before 08:00 of the first step's day: nothing. Then -5 to every agency that owes.
    assert_eq!(queued(&remind("2018-07-04T07:00:00+07:00")), 0);
    let first = remind("2018-07-04T09:00:00+07:00");
    assert_eq!(
        queued(&first) as usize,
        owing.len(),
        "{first}\nowing: {owing:?}"
    );
    assert_eq!(
        queued(&remind("2018-07-04T09:30:00+07:00")),
        0,
        "once per step"
    );
    assert_eq!(
        queued(&remind("2018-07-05T09:00:00+07:00")),
        0,
        "no step on 5 July"
    );

    // On 5 July staff extend one agency to the end of 13 July and excuse another from
    // everything. The extended agency's steps that now fall after 5 July go again, on the
    // new schedule (its -5 step moves to Friday 6 July).
    intake_ok(
        d,
        &config,
        &[
            "--now",
            "2018-07-05T10:00:00+07:00",
            "extend",
            "--agency",
            &extended,
            "--until",
            "2018-07-14T00:00:00+07:00",
            "--by",
            "Cán bộ A",
        ],
    );
    for dl in ["pl1", "pl2", "pl3"] {
        intake_ok(
            d,
            &config,
            &[
                "exempt",
                "--agency",
                &exempted,
                "--deliverable",
                dl,
                "--by",
                "Cán bộ A",
            ],
        );
    }
    // Saturday 7 July is no working day; the -2 step went on Friday 6 July.
    assert_eq!(queued(&remind("2018-07-07T09:00:00+07:00")), 0);
    // Friday 6 July, though, is past: the -2 step is the latest due and still useful; the
    // extended agency gets its -5 step of the new schedule.
    assert_eq!(
        queued(&remind("2018-07-06T09:00:00+07:00")) as usize,
        owing.len() - 1
    );
    // The clock goes back: nothing is sent again.
    assert_eq!(queued(&remind("2018-07-04T09:00:00+07:00")), 0);
    // Intake was down from 6 to 12 July: the day-0 and +1 steps are skipped, +3 goes once;
    // the extended agency gets its own -2 step (11 July), the exempted one nothing.
    let r = remind("2018-07-12T09:00:00+07:00");
    assert_eq!(queued(&r) as usize, owing.len() - 1, "{r}");
    assert_eq!(queued(&remind("2018-07-12T10:00:00+07:00")), 0);

    // Each agency's mailbox is named by its code in the example roster.
    let by_user = reminders_by_user(&dc, &users);
    for code in &owing {
        let got = &by_user[code];
        let want = if *code == exempted { 1 } else { 3 };
        assert_eq!(got.len(), want, "{code}: {got:?}");
    }
    // The extended agency's last two reminders are on its own deadline.
    for raw in dc.fetch_all(&extended).iter().rev().take(2) {
        let m = MessageParser::default().parse(raw).unwrap();
        let body = m.body_text(0).unwrap();
        assert!(body.contains("gia hạn"), "{body}");
        assert!(body.contains("14/07/2018"), "{body}");
    }
    for code in &complete {
        assert!(
            by_user[code].is_empty(),
            "{code} sent everything: {:?}",
            by_user[code]
        );
    }
    // A reminder names what is missing and carries the blank forms of it.
    let raw = dc.fetch_all(&owing[2]);
    let last = MessageParser::default().parse(raw.last().unwrap()).unwrap();
    let body = last.body_text(0).unwrap();
    assert!(body.contains("742/SKHĐT-THQH"), "{body}");
    assert!(body.contains("Phụ lục"), "{body}");
    assert_eq!(header_text(&last, "Auto-Submitted"), "auto-generated");
    let forms = last
        .attachments()
        .filter(|a| a.attachment_name().is_some_and(|n| n.ends_with(".xlsx")))
        .count();
    assert!(forms >= 1, "{body}");
    // Every decision is recorded once.
    let decided = count(d, "SELECT count(*) FROM reminders");
    let distinct = count(
        d,
        "SELECT count(DISTINCT campaign || agency || step) FROM reminders",
    );
    assert_eq!(decided, distinct);
    // One staff digest per working day intake ran on (3, 4, 5, 6 and 12 July), never twice,
    // none on the Saturday or when the clock went back.
    let digests: Vec<String> = dc
        .fetch_all("thqh")
        .iter()
        .filter_map(|raw| {
            MessageParser::default()
                .parse(raw)?
                .subject()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(digests.len(), 5, "{digests:?}");
    for day in [
        "03/07/2018",
        "04/07/2018",
        "05/07/2018",
        "06/07/2018",
        "12/07/2018",
    ] {
        assert!(
            digests.iter().any(|s| s.contains(day)),
            "{day}: {digests:?}"
        );
    }
    // The relay took each sent mail once: no repeats across the runs.
    let taken: std::collections::HashSet<String> = relay
        .accepted()
        .iter()
        .map(|a| a["message_id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(relay.accepted().len(), taken.len(), "a mail was sent twice");
    assert_eq!(
        taken.len() as i64,
        count(d, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")
    );
}

/// Sở Y tế's Appendix I workbook (with findings by design) and a report of its own bytes, as
/// a new message: every one is a new version and gets a receipt with the marked copy.
fn numbered_submission(n: usize) -> Vec<u8> {
    use lettre::message::header::ContentType;
    use lettre::message::{Attachment, MultiPart, SinglePart};
    let xlsx = std::fs::read(common::fixtures_dir().join("workbooks/01-PL1_SoYTe.xlsx")).unwrap();
    let pdf = format!("%PDF-1.4\n% báo cáo lần {n}\n%%EOF\n").into_bytes();
    lettre::Message::builder()
        .from("Sở Y tế <so-y-te@langson.example>".parse().unwrap())
        .to("alice@localhost".parse().unwrap())
        .subject(format!("Báo cáo đánh giá giữa kỳ - Phụ lục I (lần {n})"))
        .message_id(Some(format!("<bench-{n}@soyte.langson.example>")))
        .date(std::time::SystemTime::from(common::time(NOW)))
        // Our server's stamp, which intake takes as the arrival (in the campaign's window).
        .raw_header(lettre::message::header::HeaderValue::new(
            lettre::message::header::HeaderName::new_from_ascii_str("Received"),
            "from mail.soyte.langson.example by mx.skhdt.langson.example; Thu, 05 Jul 2018 17:00:00 +0700".into(),
        ))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(
                    "Kính gửi Sở KH&ĐT, gửi kèm báo cáo.".to_string(),
                ))
                .singlepart(
                    Attachment::new("PL1_SoYTe.xlsx".into()).body(
                        xlsx,
                        ContentType::parse(
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        )
                        .unwrap(),
                    ),
                )
                .singlepart(
                    Attachment::new(format!("Bao cao PL1 lan {n}.pdf"))
                        .body(pdf, ContentType::parse("application/pdf").unwrap()),
                ),
        )
        .unwrap()
        .formatted()
}

/// The benchmark of issue 5 (not a timed test): from the end of an agency's message's
/// delivery into the department's mailbox to its receipt being delivered into the agency's
/// own mailbox, over 100 messages delivered one at a time with `intake run` (the release
/// binary when built with --release) watching by IDLE and sending over SMTP with STARTTLS.
/// Run it with `cargo test --release --test smtp -- --ignored --nocapture benchmark`.
#[test]
#[ignore = "a benchmark: run with --release --ignored --nocapture"]
fn benchmark() {
    let dc = Dovecot::start_with_users(&["so-y-te"]);
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        Some(imap_table(&dc)),
        &smtp_table(&relay),
        &[("max_per_address_per_hour", "1000")],
    );
    let daemon = Daemon::start(dir.path(), &config, NOW);
    wait_for("the first pass", Duration::from_secs(20), || {
        count(dir.path(), "SELECT count(*) FROM imap_sync") > 0
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut latencies = Vec::new();
    for n in 0..100 {
        let raw = numbered_submission(n);
        dc.deliver(&raw);
        let delivered = Instant::now();
        let start = Instant::now();
        while dc.count_new("so-y-te") <= n {
            if start.elapsed() > Duration::from_secs(30) {
                let outcomes: Vec<(String, String)> = db(dir.path())
                    .prepare("SELECT outcome, coalesce(detail, '') FROM messages")
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                panic!("no receipt for message {n}: {outcomes:?}\n{}", daemon.log());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies.push(delivered.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    latencies.sort();
    let receipts = count(
        dir.path(),
        "SELECT count(*) FROM outbox WHERE kind = 'receipt' AND sent_at IS NOT NULL",
    );
    let versions = count(dir.path(), "SELECT count(*) FROM versions");
    drop(daemon);
    eprintln!(
        "agency message delivered (LMTP done) → receipt in the agency's mailbox, 100 messages: p50 {:?}, p90 {:?}, p99 {:?}, max {:?} ({receipts} receipts sent, {versions} versions filed)",
        latencies[49], latencies[89], latencies[98], latencies[99]
    );
    assert_eq!(receipts, 100);
}

#[test]
fn doctor_checks_the_submission_server_and_its_login() {
    let dc = Dovecot::start();
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), None, &smtp_table(&relay), &[]);
    let out = intake(dir.path(), &config, &["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "✔ Máy chủ gửi thư smtp://127.0.0.1:{}",
            relay.port
        )),
        "{text}"
    );
    assert!(text.contains("STARTTLS, login accepted"), "{text}");

    std::fs::write(&relay.password_file, "wrong\n").unwrap();
    let out = intake(dir.path(), &config, &["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✘ Máy chủ gửi thư"), "{text}");
    assert!(
        text.contains("535"),
        "the server's refusal is shown: {text}"
    );
}

#[test]
fn a_refused_login_keeps_every_mail_until_the_password_is_fixed() {
    let dc = Dovecot::start_with_users(&["so-y-te", "so-tai-chinh", "so-cong-thuong"]);
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wrong = d.join("smtp-password");
    std::fs::write(&wrong, "not the password\n").unwrap();
    let table = smtp_table(&relay).replace(
        &relay.password_file.display().to_string(),
        &wrong.display().to_string(),
    );
    let config = write_config(d, None, &table, &[]);
    // The fixture mail comes in; every receipt meets "535" at login.
    intake_ok(d, &config, &["--now", NOW, "demo"]);
    let status: serde_json::Value =
        serde_json::from_str(&intake_ok(d, &config, &["--now", NOW, "status", "--json"])).unwrap();
    let waiting = status["outbox"]["waiting"].as_u64().unwrap();
    assert!(waiting > 20, "{}", status["outbox"]);
    assert_eq!(
        status["outbox"]["failed"], 0,
        "nothing given up: {}",
        status["outbox"]
    );
    assert_eq!(status["outbox"]["sent"], 0);
    assert!(
        status["undelivered"][0]["error"]
            .as_str()
            .unwrap()
            .contains("535"),
        "{}",
        status["undelivered"][0]
    );
    assert!(sent_by_intake(&relay).is_empty());

    // Fixed: the next pass sends them all (the retry time has passed an hour later).
    std::fs::write(&wrong, format!("{}\n", relay.password())).unwrap();
    intake_ok(
        d,
        &config,
        &["--now", "2018-07-05T19:00:00+07:00", "run", "--once"],
    );
    let status: serde_json::Value =
        serde_json::from_str(&intake_ok(d, &config, &["--now", NOW, "status", "--json"])).unwrap();
    assert_eq!(status["outbox"]["waiting"], 0, "{}", status["outbox"]);
    let c = &status["outbox"];
    assert_eq!(
        c["sent"].as_u64().unwrap() + c["failed"].as_u64().unwrap(),
        waiting,
        "each waiting mail sent, or refused by its recipient's server: {c}"
    );
    let taken = sent_by_intake(&relay);
    assert_eq!(taken.len() as u64, c["sent"].as_u64().unwrap());
    for u in ["so-y-te", "so-tai-chinh", "so-cong-thuong"] {
        assert!(dc.count_new(u) >= 1, "{u}");
    }
}

#[test]
fn through_the_mail_system_a_forged_submission_is_held_and_a_signed_one_filed() {
    use common::dkim::{DkimKey, sign_dkimpy};
    use common::dns::DnsServer;
    let key = DkimKey::generate();
    let dns = DnsServer::start(&[
        ("sel._domainkey.langson.example", &key.txt()),
        ("_dmarc.langson.example", "v=DMARC1; p=reject"),
    ]);
    let dc = Dovecot::start_with_users(&["so-y-te", "so-tai-chinh"]);
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let dir = tempfile::tempdir().unwrap();
    let auth = format!(
        "1500\nnameservers = [\"{}\"]\ntrusted_authserv_ids = [\"mx.skhdt.langson.example\"]",
        dns.addr()
    );
    let config = write_config(
        dir.path(),
        Some(imap_table(&dc)),
        &smtp_table(&relay),
        &[("timeout_ms", &auth)],
    );
    let daemon = Daemon::start(dir.path(), &config, NOW);
    wait_for("the first pass", Duration::from_secs(20), || {
        count(dir.path(), "SELECT count(*) FROM imap_sync") > 0
    });

    // Someone else writes Sở Tài chính's address in From, with the Reply-To of their own.
    let forged = String::from_utf8(fixture(SO_TAI_CHINH)).unwrap().replacen(
        "\r\nSubject:",
        "\r\nReply-To: attacker@evil.example\r\nSubject:",
        1,
    );
    relay.send(
        "attacker@evil.example",
        &["alice@localhost"],
        forged.as_bytes(),
    );
    // Sở Y tế's own message, signed by its domain.
    let signed = sign_dkimpy(&fixture(SO_Y_TE), "langson.example", "sel", &key);
    relay.send("so-y-te@langson.example", &["alice@localhost"], &signed);

    wait_for(
        "the receipt to Sở Y tế",
        Duration::from_secs(30),
        || dc.count_new("so-y-te") >= 1,
    );
    wait_for(
        "the notice to Sở Tài chính",
        Duration::from_secs(30),
        || dc.count_new("so-tai-chinh") >= 1,
    );
    std::thread::sleep(Duration::from_millis(500));
    let notice = dc.fetch_all("so-tai-chinh");
    assert_eq!(notice.len(), 1, "one notice, no receipt: {}", daemon.log());
    let notice = MessageParser::default().parse(&notice[0]).unwrap();
    let subject = notice.subject().unwrap();
    assert!(
        subject.contains("không qua được kiểm tra người gửi"),
        "{subject}"
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM messages WHERE outcome = 'sender-unverified' AND auth = 'fail'"
        ),
        1
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM versions WHERE agency = 'so-tai-chinh'"
        ),
        0,
        "the forged figures are counted nowhere"
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM messages WHERE agency = 'so-y-te' AND outcome = 'filed' AND auth = 'pass'"
        ),
        1
    );
    // Nothing went to the impostor.
    assert!(
        sent_by_intake(&relay)
            .iter()
            .all(|a| !a.to_string().contains("evil.example")),
        "{:?}",
        sent_by_intake(&relay)
    );
}
