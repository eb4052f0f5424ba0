//! SIGHUP (`systemctl reload intake`) puts a changed configuration in force without a
//! restart: the worker files mail by the new roster, the board shows the new campaign title.
//! A configuration that fails its checks is refused with the error logged, and the one in
//! force stays; the daemon keeps running either way.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn sighup_reloads_a_sound_configuration_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::shipped_config(dir.path(), common::board_on_free_port)
        .parent()
        .unwrap()
        .to_path_buf();
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
    let page = common::http_get(&board, "/");
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
    let events = common::eventually("the message filed", Duration::from_secs(60), || {
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
    let page = common::http_get(&board, "/");
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
    common::eventually(what, Duration::from_secs(60), || f().then_some(()));
}
