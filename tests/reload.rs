//! SIGHUP (`systemctl reload intake`) puts a changed configuration in force without a
//! restart: the worker files mail by the new roster, the board shows the new campaign title.
//! A configuration that fails its checks is refused with the error logged, and the one in
//! force stays; the daemon keeps running either way.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn sighup_reloads_a_sound_configuration_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let mut daemon = Command::new(common::bin())
        .args([
            "--config",
            cfg.join("intake.toml").to_str().unwrap(),
            "--now",
            "2018-07-05T09:00:00+07:00",
            "run",
        ])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(daemon.stdout.take().unwrap());
    let board = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "the daemon ended");
        if let Some(at) = line.split("http://").nth(1) {
            break at.split('/').next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let log = Arc::new(Mutex::new(String::new()));
    {
        let log = log.clone();
        let err = daemon.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
    }

    // The roster gains an address for Sở Y tế and the campaign a new title; reload.
    let roster = cfg.join("rosters/langson.toml");
    let text = std::fs::read_to_string(&roster).unwrap().replace(
        "addresses = [\"so-y-te@langson.example\"]",
        "addresses = [\"so-y-te@langson.example\", \"van-phong-syt@langson.example\"]",
    );
    std::fs::write(&roster, text).unwrap();
    let campaign = cfg.join("campaigns/742-skhdt-thqh.toml");
    let text = std::fs::read_to_string(&campaign).unwrap().replacen(
        "title = \"Khung hướng dẫn",
        "title = \"Đã đổi tên: Khung hướng dẫn",
        1,
    );
    std::fs::write(&campaign, text).unwrap();
    hup(&daemon);
    wait_for("the reload", || {
        log.lock().unwrap().contains("configuration reloaded")
    });
    let page = get(&board, "/");
    assert!(page.contains("Đã đổi tên: Khung hướng dẫn"), "{page}");

    // Mail from the new address is filed as Sở Y tế's, by the worker's reloaded roster.
    let raw = std::fs::read_to_string(common::fixtures_dir().join("01-so-y-te-pl1-outlook.eml"))
        .unwrap()
        .replace(
            "<so-y-te@langson.example>",
            "<van-phong-syt@langson.example>",
        );
    let new = dir.path().join("var/maildir/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(dir.path().join("var/maildir/tmp-1"), raw).unwrap();
    std::fs::rename(
        dir.path().join("var/maildir/tmp-1"),
        new.join("1530000000.reload.host"),
    )
    .unwrap();
    let events = wait_for_value("the message filed", || {
        let out = common::intake(
            dir.path(),
            &[
                "--config",
                cfg.join("intake.toml").to_str().unwrap(),
                "log",
                "--json",
            ],
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        let events = v.as_array()?.clone();
        events
            .iter()
            .any(|e| e["kind"] != "received" && e["message"].is_number())
            .then_some(events)
    });
    // Filed as the agency's own, not held as a probable or unknown sender.
    assert!(
        events
            .iter()
            .any(|e| e["agency"] == "so-y-te" && e["kind"] == "filed"),
        "{events:?}"
    );

    // A broken file is refused; the daemon runs on with the configuration in force.
    std::fs::write(cfg.join("intake.toml"), "this is = not [valid toml").unwrap();
    hup(&daemon);
    wait_for("the refusal", || {
        log.lock()
            .unwrap()
            .contains("the new configuration is refused")
    });
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon stopped");
    let page = get(&board, "/");
    assert!(page.contains("Đã đổi tên: Khung hướng dẫn"), "{page}");

    unsafe {
        libc::kill(daemon.id() as i32, libc::SIGTERM);
    }
    let status = daemon.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

fn hup(child: &std::process::Child) {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGHUP);
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    wait_for_value(what, || f().then_some(()));
}

fn wait_for_value<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: not within 60 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

/// The shipped configuration under `dir/config`, its board on a free port.
fn config(dir: &Path) -> PathBuf {
    let cfg = dir.join("config");
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), &cfg);
    let main = std::fs::read_to_string(cfg.join("intake.toml"))
        .unwrap()
        .replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"");
    std::fs::write(cfg.join("intake.toml"), main).unwrap();
    cfg
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            copy_tree(&p, &to.join(p.file_name().unwrap()));
        } else {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}
