//! Board page-time benchmark: a campaign of 3,000 agencies × the example's three deliverables,
//! the board served in-process from the release build, and the main pages requested over
//! HTTP/1.1 N times each; prints p50 and p95 per page (the target: p95 ≤ 100 ms for the
//! matrix).
//!
//! The store is filled the way intake fills it: the fixture mail goes through the real binary
//! (`intake --config … demo`), then every other agency's submissions are cloned from the
//! filed ones (messages, files, findings, values, versions, log events and receipts, in one
//! transaction) for a realistic share of the cells: about 70 % sent, most accepted, some
//! invalid, some report-only, some sent twice, some late; then `intake remind` queues the
//! 12 July reminder of every agency that still owes something.
//!
//! `cargo run --release --example bench_board -- [N] [AGENCIES]` (N requests per page, default
//! 200; 3,000 agencies by default). With `BENCH_BOARD_DIR=DIR` the configuration and store are
//! generated in DIR and kept, and a later run with the same DIR measures them again at once.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeDelta};
use rusqlite::{Connection, params};

use intake::board::BoardServer;
use intake::clock::Clock;
use intake::config::Config;
use intake::workbook::{Inspector, Limits};

/// The time the board is looked at: three days after the deadline, in office hours.
const NOW: &str = "2018-07-12T09:00:00+07:00";
/// When the fixture mail is taken in: after office hours, so that no reminder goes then.
const FIXTURES_AT: &str = "2018-07-11T18:00:00+07:00";
const CAMPAIGN: &str = "742-2018";

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200);
    let agencies: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/intake");
    // Under `cargo run` the binary the fixtures go through is brought up to date first.
    if let Ok(cargo) = std::env::var("CARGO") {
        let ok = Command::new(cargo)
            .args(["build", "--release", "--quiet", "--bin", "intake"])
            .current_dir(root)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cargo build --release --bin intake failed");
    }
    assert!(
        bin.exists(),
        "build the release binary first: cargo build --release"
    );

    // BENCH_BOARD_DIR: generate there and keep it, or reuse what an earlier run left there.
    let temp;
    let dir = match std::env::var_os("BENCH_BOARD_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            temp = tempfile::tempdir().unwrap();
            temp.path().to_path_buf()
        }
    };
    let config_path = dir.join("config/intake.toml");
    if config_path.exists() && dir.join("var/store/intake.sqlite").exists() {
        println!("reusing {}", dir.display());
    } else {
        generate(root, &bin, &dir, agencies);
    }
    let config = Config::load(&config_path).expect("the generated configuration loads");
    let agencies = config.campaign(CAMPAIGN).unwrap().agencies.len();
    print_store(&config.store_dir);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut config = config;
    config.board.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let store_dir = config.store_dir.clone();
    let inspector = Inspector::new(Limits::default(), Some(bin.clone()));
    let clock = Clock::starting_at(DateTime::parse_from_rfc3339(NOW).unwrap());
    let server = rt
        .block_on(BoardServer::bind(config, store_dir, inspector, clock))
        .expect("the board binds");
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = rt.spawn(server.serve(async {
        let _ = stopped.await;
    }));
    println!("board on http://{addr}/, {n} requests per page, one client at a time\n");

    // The session cookie of the first answer, sent with every request as a browser would.
    let cookie = session_cookie(addr);
    let agency = format!("xa-{:05}", agencies / 2);
    let pages: Vec<(&str, String)> = vec![
        ("front page", "/".to_string()),
        ("campaign page (matrix)", format!("/campaign/{CAMPAIGN}")),
        ("agency page", format!("/agency/{agency}")),
        ("intake log", "/log".to_string()),
        ("quarantine", "/quarantine".to_string()),
    ];
    println!(
        "{:<32} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "page", "p50 ms", "p95 ms", "max ms", "req/s", "bytes"
    );
    for (name, path) in &pages {
        let (status, body) = get(addr, path, &cookie);
        assert_eq!(status, 200, "GET {path}: {status}\n{}", head(&body));
        for _ in 0..3 {
            get(addr, path, &cookie);
        }
        let mut times = Vec::with_capacity(n);
        let start = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            let (status, _) = get(addr, path, &cookie);
            times.push(t.elapsed());
            assert_eq!(status, 200, "GET {path}");
        }
        let rate = n as f64 / start.elapsed().as_secs_f64();
        times.sort();
        println!(
            "{:<32} {:>9.1} {:>9.1} {:>9.1} {:>9.0} {:>10}   GET {path}",
            name,
            ms(percentile(&times, 50)),
            ms(percentile(&times, 95)),
            ms(*times.last().unwrap()),
            rate,
            body.len()
        );
    }
    let _ = stop.send(());
    rt.block_on(serving).unwrap().unwrap();
    println!(
        "\nmachine: {} cores; target: p95 ≤ 100 ms for the matrix",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}

/// Writes the configuration into `dir` and fills its store: the fixtures through the real
/// binary, the clones, then the 12 July reminders.
fn generate(root: &Path, bin: &Path, dir: &Path, agencies: usize) {
    let config_path = write_config(root, dir, agencies);
    let intake = |args: &[&str]| {
        let t = Instant::now();
        let out = Command::new(bin)
            .arg("--config")
            .arg(&config_path)
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "intake {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.elapsed().as_secs_f64()
    };
    let fixtures = root.join("mailbox-fixtures");
    // After office hours on 11 July: the fixtures are taken in, no reminder goes yet.
    let secs = intake(&[
        "--now",
        FIXTURES_AT,
        "demo",
        "--fixtures",
        fixtures.to_str().unwrap(),
    ]);
    println!("intake demo (the fixture mail) on {agencies} agencies: {secs:.1} s");

    let config = Config::load(&config_path).expect("the generated configuration loads");
    let t = Instant::now();
    let filled = fill(&config);
    println!(
        "cloned {} submissions ({} versions, {} messages) in {:.1} s",
        filled.submissions,
        filled.versions,
        filled.messages,
        t.elapsed().as_secs_f64()
    );
    // The 12 July step for the agencies that still owe something, as the daemon would.
    let secs = intake(&["--now", NOW, "remind"]);
    println!("intake remind on 12 July: {secs:.1} s");
}

/// The shipped configuration with a roster of `agencies` units: the 38 of Lạng Sơn (the
/// fixtures' senders, and the codes the forms name) and communes after them.
fn write_config(root: &Path, dir: &Path, agencies: usize) -> PathBuf {
    let config = dir.join("config");
    copy_tree(&root.join("config"), &config);
    let roster = std::fs::read_to_string(config.join("rosters/langson.toml")).unwrap();
    let base = roster.matches("[[agency]]").count();
    let mut text = roster.clone();
    text.push_str("\n# Generated for the board benchmark.\n");
    for i in base..agencies {
        let district = DISTRICTS[i % DISTRICTS.len()];
        let commune = COMMUNES[(i / DISTRICTS.len()) % COMMUNES.len()];
        let kind = if i % 10 == 0 {
            "department"
        } else {
            "district"
        };
        text.push_str(&format!(
            "\n[[agency]]\ncode = \"xa-{i:05}\"\nname = \"Ủy ban nhân dân xã {commune} số {i}, huyện {district}\"\nkind = \"{kind}\"\naddresses = [\"xa-{i:05}@langson.example\"]\n"
        ));
    }
    std::fs::write(config.join("rosters/bench.toml"), text).unwrap();
    let campaign_file = config.join("campaigns/742-skhdt-thqh.toml");
    let campaign = std::fs::read_to_string(&campaign_file).unwrap();
    assert!(campaign.contains("roster = \"../rosters/langson.toml\""));
    std::fs::write(
        &campaign_file,
        campaign.replace("../rosters/langson.toml", "../rosters/bench.toml"),
    )
    .unwrap();
    config.join("intake.toml")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

const DISTRICTS: [&str; 10] = [
    "Tràng Định",
    "Bình Gia",
    "Văn Lãng",
    "Cao Lộc",
    "Văn Quan",
    "Bắc Sơn",
    "Hữu Lũng",
    "Chi Lăng",
    "Lộc Bình",
    "Đình Lập",
];
const COMMUNES: [&str; 12] = [
    "Tân Thành",
    "Hồng Phong",
    "Quang Trung",
    "Hoàng Văn Thụ",
    "Đồng Tiến",
    "Minh Khai",
    "Hòa Bình",
    "Xuân Long",
    "Yên Bình",
    "Thống Nhất",
    "Chiến Thắng",
    "Bình Trung",
];

/// What was cloned.
struct Filled {
    submissions: usize,
    versions: usize,
    messages: usize,
}

/// A filed message of the fixtures to copy for one deliverable in one state.
struct Template {
    message: i64,
    files: Vec<i64>,
}

/// Clones the fixtures' filed submissions onto the agencies that sent nothing, in one
/// transaction, with a deterministic spread of states, resubmissions and lateness.
fn fill(config: &Config) -> Filled {
    let campaign = config.campaign(CAMPAIGN).expect("the example campaign");
    let deadline = campaign.deadline;
    let mut db = Connection::open(config.store_dir.join("intake.sqlite")).unwrap();
    db.pragma_update(None, "journal_mode", "WAL").unwrap();
    let tx = db.transaction().unwrap();

    let mut templates: BTreeMap<(String, &str), Template> = BTreeMap::new();
    for d in &campaign.deliverables {
        for state in ["accepted", "invalid"] {
            let message: i64 = tx
                .query_row(
                    "SELECT v.message FROM versions v WHERE v.campaign = ?1 AND v.deliverable = ?2 AND v.state = ?3
                     AND NOT EXISTS (SELECT 1 FROM files f WHERE f.message = v.message AND f.deliverable <> ?2)
                     ORDER BY v.message LIMIT 1",
                    params![CAMPAIGN, d.id, state],
                    |r| r.get(0),
                )
                .unwrap_or_else(|e| panic!("no {state} {} in the fixtures: {e}", d.id));
            let files = ids(
                &tx,
                "SELECT id FROM files WHERE message = ?1 AND deliverable = ?2 ORDER BY seq",
                params![message, d.id],
            );
            templates.insert((d.id.clone(), state), Template { message, files });
        }
    }
    // The templates' rows in temporary tables with their own index (temp: not the store's
    // schema): the store has no index on data(file) or outbox(message), and copying from the
    // growing tables would scan them once per clone.
    let messages: Vec<String> = templates.values().map(|t| t.message.to_string()).collect();
    let messages = messages.join(",");
    tx.execute_batch(&format!(
        "CREATE TEMP TABLE tpl_data AS SELECT * FROM data WHERE file IN (SELECT id FROM files WHERE message IN ({messages}));
         CREATE INDEX temp.tpl_data_file ON tpl_data(file);
         CREATE TEMP TABLE tpl_receipt AS SELECT * FROM outbox WHERE kind = 'receipt' AND message IN ({messages});
         CREATE INDEX temp.tpl_receipt_message ON tpl_receipt(message);"
    ))
    .unwrap();
    let taken: std::collections::HashSet<String> = ids_text(
        &tx,
        "SELECT DISTINCT agency FROM versions WHERE campaign = ?1",
        params![CAMPAIGN],
    );

    let mut filled = Filled {
        submissions: 0,
        versions: 0,
        messages: 0,
    };
    let opens = DateTime::parse_from_rfc3339("2018-06-30T07:30:00+07:00").unwrap();
    let mut seq = 0u64;
    for (ai, agency) in campaign.agencies.iter().enumerate() {
        if taken.contains(&agency.code) {
            continue;
        }
        for (di, d) in campaign.deliverables.iter().enumerate() {
            let roll = mix(ai as u64 * 7 + di as u64) % 100;
            if roll >= 70 {
                continue; // not sent yet
            }
            filled.submissions += 1;
            let versions = if roll < 10 { 2 } else { 1 };
            for version in 1..=versions {
                let last = version == versions;
                let state = match roll % 10 {
                    _ if !last => "invalid",
                    0 | 1 => "invalid",
                    2 => "received",
                    _ => "accepted",
                };
                // Within the 9 days before the deadline (a first version a day earlier per resubmission);
                // one last version in eight in the 2 days after it.
                let late = mix(seq ^ 0x5eed).is_multiple_of(8) && last;
                let minutes = if late {
                    (mix(seq) % (2 * 24 * 60)) as i64
                } else {
                    -((mix(seq) % (9 * 24 * 60)) as i64 + 60 * (versions - version) as i64 * 24)
                };
                let arrived = deadline + TimeDelta::minutes(minutes);
                let arrived = if arrived < opens { opens } else { arrived };
                let tpl = &templates[&(
                    d.id.clone(),
                    if state == "invalid" {
                        "invalid"
                    } else {
                        "accepted"
                    },
                )];
                clone_submission(
                    &tx,
                    tpl,
                    &agency.code,
                    &d.id,
                    version,
                    state,
                    arrived,
                    arrived > deadline,
                    seq,
                );
                seq += 1;
                filled.versions += 1;
                filled.messages += 1;
            }
        }
    }
    tx.execute_batch("DROP TABLE temp.tpl_data; DROP TABLE temp.tpl_receipt;")
        .unwrap();
    tx.commit().unwrap();
    db.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    filled
}

/// Copies one filed message (`tpl`) as `agency`'s version `version` of `deliverable`, with its
/// files (only the documents for a report-only `received`), findings, values, version row,
/// log events and receipt.
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn clone_submission(
    tx: &rusqlite::Transaction<'_>,
    tpl: &Template,
    agency: &str,
    deliverable: &str,
    version: u32,
    state: &str,
    arrived: DateTime<FixedOffset>,
    late: bool,
    seq: u64,
) {
    let processed = arrived + TimeDelta::seconds(4);
    let message_id = format!("bench-{seq}@{agency}.langson.example");
    let from = format!("{agency}@langson.example");
    tx.execute(
        "INSERT INTO messages (source, source_key, message_id, raw_sha256, raw_size, from_addr, from_name, subject, arrived_at, processed_at, campaign, agency, agency_match, probable, evidence, outcome, auto_mail, detail, acknowledged)
         SELECT source, ?2, ?3, raw_sha256, raw_size, ?4, from_name, subject, ?5, ?6, campaign, ?7, agency_match, NULL, evidence, outcome, auto_mail, detail, 1 FROM messages WHERE id = ?1",
        params![
            tpl.message,
            format!("maildir:{}.bench{seq:06}.host", 1_530_000_000 + seq),
            message_id,
            from,
            arrived.to_rfc3339(),
            processed.to_rfc3339(),
            agency,
        ],
    )
    .unwrap();
    let message = tx.last_insert_rowid();
    let mut files_json = Vec::new();
    let mut warnings = 0i64;
    for &file in &tpl.files {
        let (kind, name): (String, String) = tx
            .query_row("SELECT kind, name FROM files WHERE id = ?1", [file], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        if state == "received" && kind == "workbook" {
            continue;
        }
        let filed = format!("{CAMPAIGN}/{agency}/{deliverable}/v{version}-{name}");
        tx.execute(
            "INSERT INTO files (message, seq, name, kind, origin, sha256, size, check_result, check_detail, deliverable, matched_by, version, filed_path, form, form_version, recognised_by, errors, warnings, annotated)
             SELECT ?2, seq, name, kind, origin, sha256, size, check_result, check_detail, deliverable, matched_by, ?3, ?4, form, form_version, recognised_by, errors, warnings, annotated FROM files WHERE id = ?1",
            params![file, message, version, filed],
        )
        .unwrap();
        let new = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO findings (file, rule, severity, sheet, cell, indicator, label, col, value, expected, message)
             SELECT ?2, rule, severity, sheet, cell, indicator, label, col, value, expected, message FROM findings WHERE file = ?1 ORDER BY id",
            params![file, new],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO data (file, campaign, agency, deliverable, version, form, form_version, sheet, indicator, col, value, low, high, text, unit, cell)
             SELECT ?2, campaign, ?3, deliverable, ?4, form, form_version, sheet, indicator, col, value, low, high, text, unit, cell FROM temp.tpl_data WHERE file = ?1",
            params![file, new, agency, version],
        )
        .unwrap();
        let row: (String, Option<String>, Option<i64>, Option<i64>, String) = tx
            .query_row(
                "SELECT check_result, form, errors, warnings, kind FROM files WHERE id = ?1",
                [new],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        warnings += row.3.unwrap_or(0);
        files_json.push(serde_json::json!({
            "check": row.0, "deliverable": deliverable, "errors": row.2, "form": row.1,
            "kind": row.4, "name": name, "version": version, "warnings": row.3,
        }));
    }
    tx.execute(
        "INSERT INTO versions (campaign, agency, deliverable, version, message, received_at, state, late, warnings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![CAMPAIGN, agency, deliverable, version, message, arrived.to_rfc3339(), state, late, warnings],
    )
    .unwrap();
    let at = processed.to_utc().to_rfc3339();
    let subject: String = tx
        .query_row(
            "SELECT subject FROM messages WHERE id = ?1",
            [message],
            |r| r.get(0),
        )
        .unwrap();
    tx.execute(
        "INSERT INTO events (at, kind, source, message, message_id, agency, campaign, files, detail, actor) VALUES (?1, 'received', 'mailbox', ?2, ?3, ?4, ?5, NULL, ?6, NULL)",
        params![at, message, message_id, agency, CAMPAIGN, format!("{from}: {subject}")],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO events (at, kind, source, message, message_id, agency, campaign, files, detail, actor) VALUES (?1, 'filed', 'mailbox', ?2, ?3, ?4, ?5, ?6, NULL, NULL)",
        params![at, message, message_id, agency, CAMPAIGN, serde_json::Value::Array(files_json).to_string()],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO outbox (created_at, kind, message, agency, to_addr, subject, body, in_reply_to, refs, sent_at, attempts, last_error, delivered_as, attachments, next_attempt_at, failed_at)
         SELECT ?2, kind, ?3, ?4, ?5, subject, body, ?6, ?6, ?2, 1, NULL, NULL, attachments, NULL, NULL FROM temp.tpl_receipt WHERE message = ?1",
        params![tpl.message, at, message, agency, from, message_id],
    )
    .unwrap();
}

fn ids(tx: &rusqlite::Transaction<'_>, sql: &str, p: impl rusqlite::Params) -> Vec<i64> {
    let mut st = tx.prepare(sql).unwrap();
    st.query_map(p, |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn ids_text(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    p: impl rusqlite::Params,
) -> std::collections::HashSet<String> {
    let mut st = tx.prepare(sql).unwrap();
    st.query_map(p, |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The store's row counts, to show what the pages read.
fn print_store(store: &Path) {
    let db = Connection::open(store.join("intake.sqlite")).unwrap();
    let counts: Vec<String> = [
        "messages",
        "files",
        "versions",
        "findings",
        "data",
        "events",
        "outbox",
        "reminders",
    ]
    .iter()
    .map(|t| {
        let n: i64 = db
            .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap();
        format!("{t} {n}")
    })
    .collect();
    println!("store: {}", counts.join(", "));
}

/// A 64-bit mix (splitmix64): a fixed, well-spread pseudo-random number per input.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One HTTP/1.1 GET on a new connection with the session cookie; the status and the body.
fn get(addr: SocketAddr, path: &str, cookie: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = request(addr, path, cookie);
    (status, body)
}

/// The `name=value` of the session cookie the board sets on a first visit.
fn session_cookie(addr: SocketAddr) -> String {
    let (_, head, _) = request(addr, "/", "");
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie")
                .then(|| v.trim().split(';').next().unwrap_or("").to_string())
        })
        .expect("the board sets a session cookie")
}

/// One HTTP/1.1 GET on a new connection: the status, the header and the body.
fn request(addr: SocketAddr, path: &str, cookie: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_nodelay(true).unwrap();
    let cookie = if cookie.is_empty() {
        String::new()
    } else {
        format!("Cookie: {cookie}\r\n")
    };
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\n{cookie}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = buf[end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return (status, head, dechunk(&body));
    }
    (status, head, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[i + 2 + size + 2..];
    }
    out
}

fn head(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(600)]).into_owned()
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let i = ((sorted.len() * p).div_ceil(100)).saturating_sub(1);
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
