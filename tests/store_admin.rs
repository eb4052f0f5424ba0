//! The store's life across versions and folders, end to end through the binary: commands
//! that only read refuse a folder with no store (and make none), `run` makes it; a store made
//! before schema versions were counted is adopted without loss; a store from a later intake
//! is refused by every command, with the versions and the fix.

mod common;

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

const NOW: &str = "2018-07-12T09:00:00+07:00";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn user_version(store: &Path) -> u32 {
    Connection::open_with_flags(
        store.join("intake.sqlite"),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
    .pragma_query_value(None, "user_version", |r| r.get(0))
    .unwrap()
}

fn set_user_version(store: &Path, v: u32) {
    Connection::open(store.join("intake.sqlite"))
        .unwrap()
        .pragma_update(None, "user_version", v)
        .unwrap();
}

/// Rows of the main tables: what must survive an upgrade.
fn counts(store: &Path) -> Vec<(String, i64)> {
    let conn = Connection::open_with_flags(
        store.join("intake.sqlite"),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    [
        "messages", "files", "versions", "findings", "data", "events", "outbox",
    ]
    .iter()
    .map(|t| {
        (
            t.to_string(),
            conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap(),
        )
    })
    .collect()
}

/// `status --json` without the instant it was made at.
fn status(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&common::intake_ok(dir, &["--now", NOW, "status", "--json"])).unwrap();
    v["now"] = serde_json::Value::Null;
    v
}

fn demo(dir: &Path) {
    common::intake_ok(
        dir,
        &[
            "demo",
            "--fixtures",
            common::fixtures_dir().to_str().unwrap(),
        ],
    );
}

#[test]
fn reading_commands_refuse_a_folder_with_no_store_and_make_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("var/store");
    let out_file = dir.path().join("status.xlsx");
    let reading: [&[&str]; 7] = [
        &["status"],
        &["status", "--json"],
        &["log"],
        &["outbox", "list"],
        &["export", "status", "--out", out_file.to_str().unwrap()],
        &["remind", "--dry-run"],
        &["verify"],
    ];
    for args in reading {
        let mut with_now = vec!["--now", NOW];
        with_now.extend_from_slice(args);
        let out = common::intake(dir.path(), &with_now);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "intake {args:?}: {err}");
        assert!(
            err.contains(&store.display().to_string()),
            "intake {args:?} names the store's path: {err}"
        );
        assert!(
            err.contains("data_dir"),
            "intake {args:?} names the configuration key: {err}"
        );
        assert!(
            !dir.path().join("var").exists(),
            "intake {args:?} made {}",
            dir.path().join("var").display()
        );
        assert!(!out_file.exists());
    }
    // The daemon makes the store where the configuration says.
    common::intake_ok(dir.path(), &["--now", NOW, "run", "--once"]);
    assert!(store.join("intake.sqlite").is_file());
    assert_eq!(user_version(&store), intake::store::schema::CURRENT);
    let status = common::intake_ok(dir.path(), &["--now", NOW, "status", "--json"]);
    assert!(status.contains("742-2018"), "{status}");
}

#[test]
fn a_store_from_before_versions_is_adopted_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let store = dir.path().join("var/store");
    assert_eq!(user_version(&store), intake::store::schema::CURRENT);
    let before = counts(&store);
    assert!(before[0].1 > 20, "the demo files messages: {before:?}");
    let status_before = status(dir.path());
    let log_before = common::intake_ok(dir.path(), &["--now", NOW, "log", "--json"]);

    // As the code before schema versions left it: today's tables, user_version 0.
    set_user_version(&store, 0);
    // A reader while an (older) daemon holds the store cannot upgrade it: it says so.
    let lock = std::fs::File::options()
        .write(true)
        .open(store.join("intake.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let out = common::intake(dir.path(), &["--now", NOW, "status"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("schema version 0") && err.contains("restart the daemon"),
        "{err}"
    );
    assert_eq!(user_version(&store), 0);
    drop(lock);

    // The writer adopts it and brings it to this version: same rows, same status, same log.
    common::intake_ok(dir.path(), &["--now", NOW, "run", "--once"]);
    assert_eq!(user_version(&store), intake::store::schema::CURRENT);
    assert_eq!(counts(&store), before);
    assert!(status(dir.path()) == status_before, "status changed");
    assert!(
        common::intake_ok(dir.path(), &["--now", NOW, "log", "--json"]) == log_before,
        "the log changed"
    );

    // A reader with no daemon running upgrades it too.
    set_user_version(&store, 0);
    assert!(status(dir.path()) == status_before, "status changed");
    assert_eq!(user_version(&store), intake::store::schema::CURRENT);
}

#[test]
fn a_store_from_a_later_intake_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    common::intake_ok(dir.path(), &["--now", NOW, "run", "--once"]);
    let store = dir.path().join("var/store");
    let later = intake::store::schema::CURRENT + 1;
    set_user_version(&store, later);
    let backup = dir.path().join("backup");
    let commands: [&[&str]; 5] = [
        &["run", "--once"],
        &["status"],
        &["log"],
        &["verify"],
        &["backup", backup.to_str().unwrap()],
    ];
    for args in commands {
        let mut with_now = vec!["--now", NOW];
        with_now.extend_from_slice(args);
        let out = common::intake(dir.path(), &with_now);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "intake {args:?}: {err}");
        assert!(
            err.contains(&format!("schema version {later}"))
                && err.contains(&format!(
                    "newer than this intake knows ({})",
                    intake::store::schema::CURRENT
                ))
                && err.contains("upgrade intake"),
            "intake {args:?}: {err}"
        );
        assert_eq!(user_version(&store), later, "intake {args:?} changed it");
    }
    assert!(!backup.join("backup.json").exists());
}
