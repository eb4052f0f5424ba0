//! The daemon as it runs unattended: `intake run` sees a message delivered into the Maildir
//! and a file dropped into an agency's folder without being told, and stops cleanly on
//! SIGTERM.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

fn filed(dir: &Path, rel: &str) -> bool {
    dir.join("var/store/742-2018").join(rel).exists()
}

#[test]
fn the_daemon_takes_in_mail_and_dropped_files_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Command::new(common::bin())
        .args(["--now", "2018-07-05T09:00:00+07:00", "run"])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The daemon creates its folders and holds the store lock once it is up.
    wait_for("start-up", Duration::from_secs(20), || {
        dir.path().join("var/store/intake.sqlite").exists()
            && dir.path().join("var/maildir/new").is_dir()
    });
    std::thread::sleep(Duration::from_millis(300));

    // Mail, delivered as an MTA does (tmp/ then rename into new/).
    let config = common::config(dir.path());
    let maildir =
        intake::source::maildir::Maildir::open(&config.mailbox.path, config.mailbox.on_filed)
            .unwrap();
    let fixture = common::fixtures_dir().join("01-so-y-te-pl1-outlook.eml");
    maildir
        .deliver("1530756000.M1P1.mx", &std::fs::read(fixture).unwrap())
        .unwrap();
    let took = wait_for(
        "the delivered message being filed",
        Duration::from_secs(10),
        || filed(dir.path(), "so-y-te/pl1/v1-PL1_SoYTe.xlsx"),
    );
    eprintln!("message filed {took:?} after delivery");
    wait_for("the receipt", Duration::from_secs(5), || {
        common::tree(&dir.path().join("var/outbox"))
            .iter()
            .any(|f| f.ends_with(".eml") && !f.starts_with(".staging"))
    });

    // A file dropped into an agency's folder, written in two steps like a slow copy.
    let drop = dir.path().join("var/drop/ubnd-dinh-lap");
    std::fs::create_dir_all(&drop).unwrap();
    let bytes =
        std::fs::read(common::fixtures_dir().join("workbooks/35-PL3_DinhLap.xlsx")).unwrap();
    let target = drop.join("PL3_DinhLap.xlsx");
    std::fs::write(&target, &bytes[..bytes.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(&target, &bytes).unwrap();
    let took = wait_for(
        "the dropped file being filed",
        Duration::from_secs(15),
        || filed(dir.path(), "ubnd-dinh-lap/pl3/v1-PL3_DinhLap.xlsx"),
    );
    eprintln!("dropped file filed {took:?} after its last write");
    assert_eq!(
        std::fs::read(
            dir.path()
                .join("var/store/742-2018/ubnd-dinh-lap/pl3/v1-PL3_DinhLap.xlsx")
        )
        .unwrap(),
        bytes,
        "the whole file, not a half-written one"
    );

    // SIGTERM: a clean stop.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    let status = loop {
        if let Some(s) = daemon.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the daemon did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn on_a_network_share_the_drop_folder_is_polled() {
    let dir = tempfile::tempdir().unwrap();
    // The shipped configuration, with the drop folder polled as on a network share.
    let cfg = dir.path().join("config");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for sub in ["campaigns", "rosters", "forms", "templates"] {
        std::fs::create_dir_all(cfg.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, cfg.join(sub).join(p.file_name().unwrap())).unwrap();
        }
    }
    let main = std::fs::read_to_string(src.join("intake.toml"))
        .unwrap()
        .replace("watch = \"native\"", "watch = \"poll\"")
        .replace("poll_interval_secs = 5", "poll_interval_secs = 1")
        .replace("settle_secs = 3", "settle_secs = 1");
    assert!(main.contains("watch = \"poll\""));
    std::fs::write(cfg.join("intake.toml"), main).unwrap();

    let mut daemon = Command::new(common::bin())
        .args([
            "--config",
            cfg.join("intake.toml").to_str().unwrap(),
            "--now",
            "2018-07-05T18:00:00+07:00",
            "run",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("start-up", Duration::from_secs(20), || {
        dir.path().join("var/store/intake.sqlite").exists()
    });
    std::thread::sleep(Duration::from_millis(300));
    let drop = dir.path().join("var/drop/so-y-te");
    std::fs::create_dir_all(&drop).unwrap();
    std::fs::copy(
        common::fixtures_dir().join("workbooks/23-PL3_SoYTe.xlsx"),
        drop.join("PL3_SoYTe.xlsx"),
    )
    .unwrap();
    let took = wait_for(
        "the polled file being filed",
        Duration::from_secs(15),
        || filed(dir.path(), "so-y-te/pl3/v1-PL3_SoYTe.xlsx"),
    );
    eprintln!("polled file filed {took:?} after it was dropped");
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    assert!(daemon.wait().unwrap().success());
}
