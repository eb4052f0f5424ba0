//! The systemd notification protocol, for real: `intake run` is started as systemd starts a
//! `Type=notify` service with `WatchdogSec=` (NOTIFY_SOCKET naming a Unix datagram socket the
//! test listens on, WATCHDOG_USEC set). It must say READY=1 once it watches its sources, ping
//! WATCHDOG=1 while its worker is alive, stop the pings while the worker is stuck (here: held
//! up by a write lock on the store), resume them once it moves again, report STATUS= after a
//! pass, survive SIGHUP (the unit's ExecReload), and say STOPPING=1 on SIGTERM before it
//! exits.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every datagram received, with when it arrived.
fn listen(socket: UnixDatagram) -> mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = mpsc::channel();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        loop {
            match socket.recv(&mut buf) {
                Ok(n) => {
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    if tx.send((Instant::now(), text)).is_err() {
                        return;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("notify socket: {e}"),
            }
        }
    });
    rx
}

/// Collects datagrams for `d`.
fn collect(rx: &mpsc::Receiver<(Instant, String)>, d: Duration) -> Vec<(Instant, String)> {
    let end = Instant::now() + d;
    let mut got = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(m) => got.push(m),
            Err(_) => break,
        }
    }
    got
}

/// Waits until a datagram has `line` as one of its lines; returns what came before too.
fn wait_for_line(
    rx: &mpsc::Receiver<(Instant, String)>,
    line: &str,
    limit: Duration,
) -> Vec<(Instant, String)> {
    wait_for(rx, line, |l| l == line, limit)
}

fn wait_for(
    rx: &mpsc::Receiver<(Instant, String)>,
    line: &str,
    matches: impl Fn(&str) -> bool,
    limit: Duration,
) -> Vec<(Instant, String)> {
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    loop {
        let left = end
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("no {line} within {limit:?}; received {got:?}"));
        match rx.recv_timeout(left) {
            Ok(m) => {
                let found = m.1.lines().any(&matches);
                got.push(m);
                if found {
                    return got;
                }
            }
            Err(_) => panic!("no {line} within {limit:?}; received {got:?}"),
        }
    }
}

fn pings(got: &[(Instant, String)]) -> Vec<Instant> {
    got.iter()
        .filter(|(_, m)| m.lines().any(|l| l == "WATCHDOG=1"))
        .map(|(at, _)| *at)
        .collect()
}

fn config(dir: &Path) -> std::path::PathBuf {
    let etc = dir.join("etc");
    let out = Command::new(common::bin())
        .args(["init", etc.to_str().unwrap(), "--data-dir"])
        .arg(dir.join("var"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let main = etc.join("intake.toml");
    let text = std::fs::read_to_string(&main).unwrap();
    // Any free port: other tests may hold 8080.
    let text = text.replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"");
    assert!(text.contains("127.0.0.1:0"));
    std::fs::write(&main, text).unwrap();
    main
}

#[test]
fn run_under_systemd_says_ready_pings_the_watchdog_only_while_the_worker_moves_and_says_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let main = config(dir.path());
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let rx = listen(socket);

    let watchdog = Duration::from_secs(1);
    let mut daemon = Command::new(common::bin())
        .args(["--config", main.to_str().unwrap()])
        .args(["--now", "2018-07-02T09:00:00+07:00", "run"])
        .current_dir(dir.path())
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", watchdog.as_micros().to_string())
        .env_remove("WATCHDOG_PID")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let stop = |daemon: &mut std::process::Child| unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    };

    // READY=1 only once the daemon watches its sources: the store and folders exist by then.
    let before = wait_for_line(&rx, "READY=1", Duration::from_secs(60));
    assert!(
        pings(&before).is_empty(),
        "no watchdog ping before READY=1: {before:?}"
    );
    assert!(dir.path().join("var/store/intake.sqlite").exists());
    assert!(dir.path().join("var/maildir/new").is_dir());

    // A status line after the first pass; then, while it idles, pings at half the interval.
    let seen = before
        .iter()
        .any(|(_, m)| m.lines().any(|l| l.starts_with("STATUS=last pass:")));
    if !seen {
        wait_for(
            &rx,
            "STATUS=last pass: …",
            |l| l.starts_with("STATUS=last pass:"),
            Duration::from_secs(60),
        );
    }
    let idle = collect(&rx, Duration::from_secs(3));
    let p = pings(&idle);
    assert!(
        p.len() >= 4,
        "{} pings in 3 s with WATCHDOG_USEC=1 s: {idle:?}",
        p.len()
    );

    // Wedge the worker: hold the store's write lock, then give it a message to file.
    let store = rusqlite::Connection::open(dir.path().join("var/store/intake.sqlite")).unwrap();
    store.execute_batch("BEGIN IMMEDIATE").unwrap();
    let maildir = intake::source::maildir::Maildir::open(
        &dir.path().join("var/maildir"),
        intake::config::OnFiled::Seen,
    )
    .unwrap();
    let fixture = common::fixtures_dir().join("01-so-y-te-pl1-outlook.eml");
    maildir
        .deliver("1530756000.M1P1.mx", &std::fs::read(fixture).unwrap())
        .unwrap();
    let held = Instant::now();
    let stuck = collect(&rx, Duration::from_secs(5));
    store.execute_batch("ROLLBACK").unwrap();
    let released = Instant::now();
    let p = pings(&stuck);
    // The longest stretch without a ping while the lock was held (from the last ping before
    // it, or from when the lock was taken, to the next ping or its release).
    let mut marks = vec![held];
    marks.extend(p.iter().copied());
    marks.push(released);
    let gap = marks
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .max()
        .unwrap();
    if gap < Duration::from_millis(2500) {
        stop(&mut daemon);
        panic!(
            "the watchdog kept being pinged while the worker was stuck: longest gap {gap:?}, pings at {:?}",
            p.iter().map(|t| t.duration_since(held)).collect::<Vec<_>>()
        );
    }

    // Released, the worker files the message and the pings resume.
    let after = collect(&rx, Duration::from_secs(3));
    assert!(
        pings(&after).len() >= 2,
        "the pings resume once the worker moves: {after:?}"
    );
    let filed = dir
        .path()
        .join("var/store/742-2018/so-y-te/pl1/v1-PL1_SoYTe.xlsx");
    let start = Instant::now();
    while !filed.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the message was not filed after the lock was released"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // SIGHUP (`systemctl reload`) does not end it: it goes on pinging.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGHUP) };
    let hup = collect(&rx, Duration::from_secs(2));
    assert!(
        daemon.try_wait().unwrap().is_none(),
        "SIGHUP ended the daemon"
    );
    assert!(pings(&hup).len() >= 2, "pings after SIGHUP: {hup:?}");

    // SIGTERM: STOPPING=1, then a clean exit.
    stop(&mut daemon);
    wait_for_line(&rx, "STOPPING=1", Duration::from_secs(10));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = daemon.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the daemon did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(dir.path().join("daemon.log")).unwrap();
    assert!(status.success(), "exit status {status:?}: {log}");
    assert!(
        log.contains("the ingest worker made no progress"),
        "the stuck worker is logged: {log}"
    );
}
