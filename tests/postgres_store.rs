//! The store's index in PostgreSQL (`[store] kind = "postgres"`), against a real PostgreSQL on
//! loopback that the test starts: the same mail taken in with the index in SQLite and in
//! PostgreSQL gives the same log, status and receipts, with the objects on disk and with them
//! in an S3 bucket (moto); `intake verify` and `intake doctor` work on it; daemons started
//! together share the sources, and one takes over the sources of another that dies; a database
//! that cannot be reached stops a pass with a clear error and loses nothing.

mod common;

use std::path::Path;

use common::postgres::Postgres;
use common::runs::{self, deliver_fixtures, files, intake, json, log, ok, outbox_summary};
use common::s3::Moto;

/// Takes the fixture mail into a store configured by `config` in `dir`.
fn take_in(dir: &Path, config: &Path) {
    deliver_fixtures(dir);
    ok(dir, config, &["run", "--once"]);
}

#[test]
fn the_same_mail_gives_the_same_store_in_sqlite_and_in_postgres() {
    let pg = Postgres::start();
    let moto = Moto::start();
    moto.bucket("intake-store");

    let embedded = tempfile::tempdir().unwrap();
    let embedded_cfg = runs::configured(embedded.path(), None, None);
    take_in(embedded.path(), &embedded_cfg);

    pg.database("disk");
    let shared = tempfile::tempdir().unwrap();
    let shared_cfg = runs::configured(shared.path(), Some((&pg, "disk")), None);
    take_in(shared.path(), &shared_cfg);

    pg.database("bucket");
    let remote = tempfile::tempdir().unwrap();
    let remote_cfg = runs::configured(
        remote.path(),
        Some((&pg, "bucket")),
        Some((&moto, "intake-store")),
    );
    take_in(remote.path(), &remote_cfg);

    let expected_log = log(embedded.path(), &embedded_cfg);
    assert!(expected_log.len() > 40, "{}", expected_log.len());
    let expected_status = ok(embedded.path(), &embedded_cfg, &["status"]);
    let expected_mail = outbox_summary(embedded.path());
    for (dir, cfg) in [(shared.path(), &shared_cfg), (remote.path(), &remote_cfg)] {
        assert!(
            log(dir, cfg) == expected_log,
            "the log differs in {}",
            cfg.display()
        );
        assert_eq!(ok(dir, cfg, &["status"]), expected_status);
        assert_eq!(outbox_summary(dir), expected_mail);
        let report = json(&ok(dir, cfg, &["verify", "--json"]));
        assert_eq!(report["sound"], true, "{report}");
        assert!(report["referenced"].as_u64().unwrap() > 20, "{report}");
        // No SQLite index was made beside the shared one.
        assert!(!dir.join("var/store/intake.sqlite").exists());
        let said = ok(dir, cfg, &["doctor"]);
        assert!(said.contains("✔ Chỉ mục kho lưu (PostgreSQL)"), "{said}");
    }
    // The bucket's store has nothing on disk but what is not the index or an object.
    let on_disk = files(&remote.path().join("var/store"));
    assert!(
        on_disk
            .iter()
            .all(|f| f.ends_with(".json") || f == "intake.lock"),
        "{on_disk:?}"
    );
    // A second pass over the same mail files nothing twice.
    ok(shared.path(), &shared_cfg, &["run", "--once"]);
    assert!(log(shared.path(), &shared_cfg) == expected_log);
}

/// A daemon alive, as `intake status --json` says: its pid and the sources it works.
type Holding = (i64, Vec<String>);

#[test]
fn daemons_share_the_sources_and_one_takes_over_what_a_dead_one_held() {
    let pg = Postgres::start();
    pg.database("intake");
    let dir = tempfile::tempdir().unwrap();
    let cfg = runs::configured(dir.path(), Some((&pg, "intake")), None);
    // No board: the daemons' only business here is the store.
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replacen(
        "enabled = true\nlisten = \"127.0.0.1:8080\"",
        "enabled = false\nlisten = \"127.0.0.1:8080\"",
        1,
    );
    assert!(
        text.contains("enabled = false"),
        "the shipped [board] moved"
    );
    std::fs::write(&cfg, text).unwrap();
    ok(dir.path(), &cfg, &["run", "--once"]);

    let daemon = |name: &str| runs::daemon(dir.path(), &cfg, name);
    let said = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}.log"))).unwrap_or_default()
    };
    // Who works what, as `intake status --json` says: (pid, sources) per daemon alive.
    let holds = || -> Vec<Holding> {
        let status = json(&ok(dir.path(), &cfg, &["status", "--json"]));
        status["daemons"]
            .as_array()
            .map(|ds| {
                ds.iter()
                    .map(|d| {
                        let holds = d["holds"].as_array().unwrap();
                        (
                            d["pid"].as_i64().unwrap(),
                            holds
                                .iter()
                                .map(|s| s.as_str().unwrap().to_string())
                                .collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let wait = |what: &str, ok: &dyn Fn(&[Holding]) -> bool| {
        common::eventually(what, std::time::Duration::from_secs(30), || {
            let h = holds();
            ok(&h).then_some(h)
        })
    };

    // One daemon works both sources (the mailbox and the drop folder).
    let mut first = daemon("first");
    wait("the first daemon works both sources", &|h| {
        h.len() == 1 && h[0].1.len() == 2
    });
    // A second one joins: each works one, the first giving up what is more than its share.
    let mut second = daemon("second");
    let shared = wait("the two daemons share the sources", &|h| {
        h.len() == 2 && h.iter().all(|(_, s)| s.len() == 1)
    });
    let mut sources: Vec<&String> = shared.iter().flat_map(|(_, s)| s).collect();
    sources.sort();
    assert_eq!(sources, ["drop", "mailbox"]);
    let table = ok(dir.path(), &cfg, &["status"]);
    assert!(table.contains("Tiến trình intake đang chạy: 2"), "{table}");
    // One pass beside them takes nothing they hold, and fails nothing.
    ok(dir.path(), &cfg, &["run", "--once"]);

    // The first is killed: the second takes its source over and takes in what arrives there,
    // each message once.
    first.kill().unwrap();
    first.wait().unwrap();
    let killed = std::time::Instant::now();
    deliver_fixtures(dir.path());
    let expected = common::fixtures().len();
    // Every message becomes one row of the store, whatever its outcome (some stay in new/).
    let recorded = || {
        log(dir.path(), &cfg)
            .into_iter()
            .filter(|e| e["source"] == "mailbox")
            .filter_map(|e| e["message"].as_i64())
            .collect::<std::collections::BTreeSet<i64>>()
            .len()
    };
    let mut took_over = None;
    for _ in 0..600 {
        if recorded() >= expected {
            took_over = Some(killed.elapsed());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let took_over = took_over.unwrap_or_else(|| {
        panic!(
            "the mail was not taken in ({} of {expected}): {}",
            recorded(),
            said("second")
        )
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(recorded(), expected, "each message once");
    assert!(second.try_wait().unwrap().is_none(), "the second stopped");
    let left = holds();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].1.len(), 2, "{left:?}");
    eprintln!(
        "the surviving daemon took over and took in {expected} messages {took_over:?} after the other was killed"
    );
    assert!(
        took_over < std::time::Duration::from_secs(30),
        "{took_over:?}"
    );

    // Stopped in turn (SIGTERM), it gives its leases up: the next pass has them at once.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    second.wait().unwrap();
    assert!(holds().is_empty(), "{:?}", holds());
    let out = ok(dir.path(), &cfg, &["run", "--once"]);
    let _ = out;
}

#[test]
fn a_database_that_cannot_be_reached_stops_the_pass_and_loses_nothing() {
    let mut pg = Postgres::start();
    pg.database("intake");
    let dir = tempfile::tempdir().unwrap();
    let cfg = runs::configured(dir.path(), Some((&pg, "intake")), None);
    ok(dir.path(), &cfg, &["run", "--once"]);
    pg.stop();
    deliver_fixtures(dir.path());
    let waiting = files(&dir.path().join("var/maildir/new")).len();
    let out = intake(dir.path(), &cfg, &["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&pg.url("intake")) && !err.contains(common::postgres::PASSWORD),
        "{err}"
    );
    assert_eq!(files(&dir.path().join("var/maildir/new")).len(), waiting);
    let out = intake(dir.path(), &cfg, &["doctor"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("✘ Chỉ mục kho lưu (PostgreSQL)"), "{said}");
}

/// A whole HTTP/1.1 answer to `GET path`, as bytes (downloads are not text).
fn get(addr: &str, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    answer
}

/// Every page of the board, as served from the store configured by `config`.
async fn board_pages(config: &Path, pages: &[&str]) -> Vec<(String, u16, String)> {
    let mut config = intake::config::Config::load(config).unwrap();
    config.board.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let store_dir = config.store_dir.clone();
    let server = intake::board::BoardServer::bind(
        config,
        store_dir,
        common::inspector(),
        common::clock(runs::NOW),
    )
    .await
    .expect("the board binds");
    let addr = server.local_addr().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server.serve(async {
        let _ = rx.await;
    }));
    let mut out = Vec::new();
    for page in pages {
        let addr = addr.clone();
        let page = page.to_string();
        let path = page.clone();
        let answer = tokio::task::spawn_blocking(move || get(&addr, &path))
            .await
            .unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        // What differs between two boards by design: the session's CSRF token.
        let body: String = body
            .split("name=\"csrf\" value=\"")
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part.to_string()
                } else {
                    part.split_once('"')
                        .map_or(part.to_string(), |(_, rest)| rest.to_string())
                }
            })
            .collect();
        out.push((page, status, body));
    }
    let _ = tx.send(());
    let _ = served.await;
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_board_shows_a_postgresql_store_as_it_shows_an_embedded_one() {
    let pg = tokio::task::spawn_blocking(|| {
        let pg = Postgres::start();
        pg.database("board");
        pg
    })
    .await
    .unwrap();
    let embedded = tempfile::tempdir().unwrap();
    let embedded_cfg = runs::configured(embedded.path(), None, None);
    let shared = tempfile::tempdir().unwrap();
    let shared_cfg = runs::configured(shared.path(), Some((&pg, "board")), None);
    for (dir, cfg) in [
        (embedded.path(), &embedded_cfg),
        (shared.path(), &shared_cfg),
    ] {
        let (dir, cfg) = (dir.to_path_buf(), cfg.clone());
        tokio::task::spawn_blocking(move || take_in(&dir, &cfg))
            .await
            .unwrap();
    }
    let pages = [
        "/",
        "/campaign/742-2018",
        "/campaign/742-2018?kind=district",
        "/campaign/742-2018?only=missing",
        "/agency/so-y-te",
        "/agency/ubnd-huu-lung",
        "/quarantine",
        "/log",
        "/log?agency=so-y-te",
        "/log?since=2018-07-01",
        "/unverified",
        "/left-alone",
        "/export/742-2018/status.xlsx",
        "/export/742-2018/consolidated.xlsx",
    ];
    let want = board_pages(&embedded_cfg, &pages).await;
    let got = board_pages(&shared_cfg, &pages).await;
    for ((page, status, body), (_, got_status, got_body)) in want.iter().zip(&got) {
        assert_eq!(*status, 200, "{page} on SQLite: {body}");
        assert_eq!(got_status, status, "{page} on PostgreSQL: {got_body}");
        // The folders differ (each store has its own); the rest is the same.
        let here = |text: &str, dir: &Path| text.replace(&dir.display().to_string(), "DIR");
        if !page.starts_with("/export") {
            assert!(
                here(got_body, shared.path()) == here(body, embedded.path()),
                "{page} differs"
            );
        }
    }
    // A filed file downloads the same bytes from either.
    let agency = &want[4].2;
    let link = agency
        .split("href=\"/download/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|l| format!("/download/{l}"))
        .expect("the agency page links a download");
    let a = board_pages(&embedded_cfg, &[&link]).await;
    let b = board_pages(&shared_cfg, &[&link]).await;
    assert_eq!(a[0].1, 200);
    assert_eq!(a[0].1, b[0].1);
    assert!(a[0].2 == b[0].2, "the downloads differ");
}

#[test]
fn an_embedded_store_moves_up_to_postgresql_and_a_bucket() {
    let pg = Postgres::start();
    pg.database("moved");
    let moto = Moto::start();
    moto.bucket("intake-store");
    let dir = tempfile::tempdir().unwrap();
    let embedded_cfg = runs::configured(dir.path(), None, None);
    take_in(dir.path(), &embedded_cfg);
    let before = log(dir.path(), &embedded_cfg);
    let status = ok(dir.path(), &embedded_cfg, &["status"]);

    // The same store's folder, the index and objects named elsewhere.
    let up = tempfile::tempdir().unwrap();
    let up_cfg = runs::configured(
        up.path(),
        Some((&pg, "moved")),
        Some((&moto, "intake-store")),
    );
    let text = std::fs::read_to_string(&up_cfg).unwrap().replace(
        "data_dir = \"../var\"",
        &format!("data_dir = \"{}\"", dir.path().join("var").display()),
    );
    std::fs::write(&up_cfg, text).unwrap();

    let moved = json(&ok(dir.path(), &up_cfg, &["store", "migrate", "--json"]));
    assert_eq!(moved["index"]["to"], pg.url("moved"), "{moved}");
    assert!(
        moved["index"]["rows"]["messages"].as_u64().unwrap() >= 30,
        "{moved}"
    );
    assert!(
        moved["objects"]["objects"].as_u64().unwrap() > 20,
        "{moved}"
    );

    // Everything as it was, from the new places.
    assert!(log(dir.path(), &up_cfg) == before, "the log changed");
    assert_eq!(ok(dir.path(), &up_cfg, &["status"]), status);
    let report = json(&ok(dir.path(), &up_cfg, &["verify", "--json"]));
    assert_eq!(report["sound"], true, "{report}");
    assert_eq!(
        report["objects"], moved["objects"]["objects"],
        "every object in the bucket: {report}"
    );

    // The embedded index is the store's no more; a second move has nothing to do.
    let out = intake(dir.path(), &embedded_cfg, &["status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("was moved to the database"),
        "{err}"
    );
    let out = intake(dir.path(), &up_cfg, &["store", "migrate"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already where the configuration says"));

    // And intake goes on there: new ids after the copied ones.
    let maildir = intake::source::maildir::Maildir::open(
        &dir.path().join("var/maildir"),
        intake::config::OnFiled::Seen,
    )
    .unwrap();
    let raw = std::fs::read(&common::fixtures()[0]).unwrap();
    let raw = String::from_utf8_lossy(&raw).replacen("Message-ID:", "X-Old-Message-ID:", 1);
    let raw = format!("Message-ID: <after-the-move@test.langson.example>\r\n{raw}");
    maildir
        .deliver("1540000000.after-move.test", raw.as_bytes())
        .unwrap();
    ok(dir.path(), &up_cfg, &["run", "--once"]);
    let after = log(dir.path(), &up_cfg);
    let newest = after
        .iter()
        .filter_map(|e| e["message"].as_i64())
        .max()
        .unwrap();
    let before_max = before
        .iter()
        .filter_map(|e| e["message"].as_i64())
        .max()
        .unwrap();
    assert_eq!(
        newest,
        before_max + 1,
        "the new message follows the copied ones"
    );
}

#[test]
fn the_index_over_tls_checks_the_servers_certificate() {
    let pg = Postgres::start_with_tls();
    pg.database("tls");
    let dir = tempfile::tempdir().unwrap();
    let cfg = runs::configured(dir.path(), Some((&pg, "tls")), None);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let with = |url_tail: &str, ca: &Path| {
        text.replace(
            &format!("url = \"{}\"", pg.url("tls")),
            &format!(
                "url = \"{}{url_tail}\"\nca_file = \"{}\"",
                pg.url("tls"),
                ca.display()
            ),
        )
    };
    // Required and checked against the server's own certificate: it works.
    std::fs::write(&cfg, with("?sslmode=require", &pg.certificate())).unwrap();
    deliver_fixtures(dir.path());
    ok(dir.path(), &cfg, &["run", "--once"]);
    ok(dir.path(), &cfg, &["status"]);
    // Another certificate as the trust anchor: refused, saying why.
    let other = Postgres::start_with_tls();
    std::fs::write(&cfg, with("?sslmode=require", &other.certificate())).unwrap();
    let out = intake(dir.path(), &cfg, &["status"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
}

/// One HTTP/1.1 exchange: (status, the session cookie set if any, body).
fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> (u16, Option<String>, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: intake_board={c}\r\n"));
    }
    let body = form.unwrap_or_default();
    if form.is_some() {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    write!(s, "{head}\r\n{body}").unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let set = head
        .lines()
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: intake_board=")
        })
        .filter_map(|l| {
            l.split_once('=')
                .map(|(_, v)| v.split(';').next().unwrap_or_default().to_string())
        })
        .find(|v| !v.is_empty());
    (status, set, body.to_string())
}

fn csrf(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form with a CSRF token")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_on_one_daemons_board_holds_on_anothers() {
    let pg = tokio::task::spawn_blocking(|| {
        let pg = Postgres::start();
        pg.database("sessions");
        pg
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = runs::configured(dir.path(), Some((&pg, "sessions")), None);
    {
        let (dir, cfg) = (dir.path().to_path_buf(), cfg.clone());
        tokio::task::spawn_blocking(move || take_in(&dir, &cfg))
            .await
            .unwrap();
    }
    let accounts = dir.path().join("accounts");
    std::fs::write(
        &accounts,
        format!(
            "{}\n",
            intake::board::auth::account_line("can-bo-a", "mat-khau-dung")
        ),
    )
    .unwrap();
    // Two daemons' boards on one store.
    let mut servers = Vec::new();
    for _ in 0..2 {
        let mut config = intake::config::Config::load(&cfg).unwrap();
        config.board.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        config.board.accounts = Some(accounts.clone());
        let store_dir = config.store_dir.clone();
        let server = intake::board::BoardServer::bind(
            config,
            store_dir,
            common::inspector(),
            common::clock(runs::NOW),
        )
        .await
        .expect("the board binds");
        let addr = server.local_addr().to_string();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(server.serve(async {
            let _ = rx.await;
        }));
        servers.push((addr, tx, served));
    }
    let (a, b) = (servers[0].0.clone(), servers[1].0.clone());
    tokio::task::spawn_blocking(move || {
        // Logged in on the first board…
        let (status, visitor, page) = exchange(&a, "GET", "/login", None, None);
        assert_eq!(status, 200, "{page}");
        let visitor = visitor.expect("a session for the login form");
        let form = format!(
            "name=can-bo-a&password=mat-khau-dung&next=%2F&csrf={}",
            csrf(&page)
        );
        let (status, staff, page) = exchange(&a, "POST", "/login", Some(&visitor), Some(&form));
        assert_eq!(status, 303, "{page}");
        let staff = staff.expect("a new session at login");
        // …the second board knows the session: no login asked, the same CSRF token.
        let (status, _, on_a) = exchange(&a, "GET", "/", Some(&staff), None);
        assert_eq!(status, 200);
        let (status, set, on_b) = exchange(&b, "GET", "/", Some(&staff), None);
        assert_eq!(status, 200, "the other board asks for a login: {on_b}");
        assert!(
            set.is_none(),
            "the other board started a session of its own"
        );
        assert!(on_b.contains("can-bo-a"), "{on_b}");
        assert_eq!(csrf(&on_a), csrf(&on_b));
        // A session no board made is not let in.
        let (status, _, _) = exchange(&b, "GET", "/", Some(&"ab".repeat(32)), None);
        assert_eq!(status, 303);
        // Logged out on the second board: out on the first too.
        let form = format!("csrf={}", csrf(&on_b));
        let (status, _, _) = exchange(&b, "POST", "/logout", Some(&staff), Some(&form));
        assert_eq!(status, 303);
        let (status, _, _) = exchange(&a, "GET", "/", Some(&staff), None);
        assert_eq!(status, 303, "the first board still lets the session in");
        // Wrong passwords on the first board count on the second: five, and it waits.
        for _ in 0..5 {
            let (_, visitor, page) = exchange(&a, "GET", "/login", None, None);
            let form = format!("name=can-bo-a&password=sai&next=%2F&csrf={}", csrf(&page));
            let (status, _, _) = exchange(&a, "POST", "/login", visitor.as_deref(), Some(&form));
            assert_eq!(status, 401);
        }
        let (_, visitor, page) = exchange(&b, "GET", "/login", None, None);
        let form = format!(
            "name=can-bo-a&password=mat-khau-dung&next=%2F&csrf={}",
            csrf(&page)
        );
        let (status, _, _) = exchange(&b, "POST", "/login", visitor.as_deref(), Some(&form));
        assert_eq!(status, 429, "the other board did not count the failures");
        // Only a hash of the cookie's id is kept in the index.
        let mut db = pg.client("sessions").unwrap();
        let kept: i64 = db
            .query_one(
                "SELECT count(*) FROM board_sessions WHERE id_hash = $1 OR body LIKE $2",
                &[&staff, &format!("%{staff}%")],
            )
            .unwrap()
            .get(0);
        assert_eq!(kept, 0);
    })
    .await
    .unwrap();
    for (_, tx, served) in servers {
        let _ = tx.send(());
        let _ = served.await;
    }
}
