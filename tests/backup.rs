//! Backups taken while the daemon works, restored elsewhere and checked; and `intake verify`
//! on damage made by hand: an altered object, a filed-tree file gone, temporary files a
//! crashed writer left.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

const NOW: &str = "2018-07-12T09:00:00+07:00";

/// Delivers `count` distinct messages (the fixtures again and again, each with its own
/// Message-ID) into the Maildir of `dir`'s embedded configuration.
fn backlog(dir: &Path, count: usize) {
    let config = common::config(dir);
    let maildir =
        intake::source::maildir::Maildir::open(&config.mailbox.path, config.mailbox.on_filed)
            .unwrap();
    let fixtures = common::fixtures();
    for n in 0..count {
        let raw = std::fs::read(&fixtures[n % fixtures.len()]).unwrap();
        let rewritten = common::with_message_id(&raw, &format!("backup-{n}@test.langson.example"));
        maildir
            .deliver(
                &format!("{}.backup{n:05}.test", 1_530_000_000 + n),
                &rewritten,
            )
            .unwrap();
    }
}

fn read_only(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// Every row of every table, by table and rowid, as column → value.
type Rows = BTreeMap<String, BTreeMap<i64, BTreeMap<String, Value>>>;

fn rows(db: &Path) -> Rows {
    let conn = read_only(db);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut out = Rows::new();
    for t in tables {
        let mut st = conn
            .prepare(&format!("SELECT rowid AS rowid_, * FROM \"{t}\""))
            .unwrap();
        let names: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
        let table = st
            .query_map([], |r| {
                let mut row = BTreeMap::new();
                for (i, name) in names.iter().enumerate().skip(1) {
                    row.insert(name.clone(), r.get::<_, Value>(i)?);
                }
                Ok((r.get::<_, i64>(0)?, row))
            })
            .unwrap()
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()
            .unwrap();
        out.insert(t, table);
    }
    out
}

/// Columns the daemon may still change after a row is committed (a message acknowledged
/// at its source, a mail sent), with the check that the change only goes forward.
fn later_change_allowed(table: &str, column: &str, then: &Value) -> bool {
    match (table, column) {
        ("messages", "acknowledged") => then == &Value::Integer(0),
        ("outbox", "sent_at") => then == &Value::Null,
        (
            "outbox",
            "attempts" | "last_error" | "delivered_as" | "next_attempt_at" | "failed_at"
            | "claimed_by" | "claimed_until_ms",
        ) => true,
        _ => false,
    }
}

fn sha256_file(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

fn count_messages(db: &Path) -> i64 {
    if !db.exists() {
        return 0;
    }
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)))
        .unwrap_or(0)
}

#[test]
fn a_backup_taken_during_a_500_message_ingest_restores_to_that_instant() {
    const MESSAGES: usize = 500;
    let dir = tempfile::tempdir().unwrap();
    backlog(dir.path(), MESSAGES);
    let store = dir.path().join("var/store");
    let db = store.join("intake.sqlite");
    let mut daemon = Command::new(common::bin())
        .args(["--now", NOW, "run", "--once"])
        .current_dir(dir.path())
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Once the ingest is well under way, and long before it ends.
    let started = Instant::now();
    while count_messages(&db) < 40 {
        assert!(
            daemon.try_wait().unwrap().is_none(),
            "the ingest ended before the backup"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the ingest does not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let backup = dir.path().join("backup");
    let out = common::intake(
        dir.path(),
        &["--now", NOW, "backup", backup.to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        daemon.try_wait().unwrap().is_none(),
        "the backup was taken while the daemon was writing"
    );
    assert!(text.contains("Đã sao lưu kho lưu"), "{text}");
    let status = daemon.wait().unwrap();
    assert!(status.success(), "the ingest ends well: {status}");

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(backup.join("backup.json")).unwrap())
            .unwrap();
    let last = manifest["last_message"].as_i64().unwrap();
    let total = count_messages(&db);
    assert_eq!(total, MESSAGES as i64, "every message recorded");
    assert!(
        last >= 40 && last < total,
        "the backup's instant is inside the ingest: {last} of {total}"
    );
    assert_eq!(manifest["messages"].as_i64().unwrap(), last);
    assert!(text.contains(&intake::core::words::integer(last)), "{text}");

    // The backup is the source as it was at its instant.
    let source = rows(&db);
    let copy = rows(&backup.join("intake.sqlite"));
    assert_eq!(
        source.keys().collect::<Vec<_>>(),
        copy.keys().collect::<Vec<_>>()
    );
    let ids = |r: &Rows| -> Vec<i64> { r["messages"].keys().copied().collect() };
    assert_eq!(
        ids(&copy),
        ids(&source)
            .into_iter()
            .filter(|id| *id <= last)
            .collect::<Vec<_>>(),
        "the backup holds exactly the messages up to its last"
    );
    let mut compared = 0;
    for (table, backed) in &copy {
        for (rowid, row) in backed {
            let now = source[table]
                .get(rowid)
                .unwrap_or_else(|| panic!("{table} row {rowid} of the backup is not in the store"));
            for (column, value) in row {
                let current = &now[column];
                assert!(
                    value == current || later_change_allowed(table, column, value),
                    "{table} row {rowid} column {column}: backup {value:?}, store {current:?}"
                );
            }
            compared += 1;
        }
    }
    assert!(compared > 1000, "rows compared: {compared}");
    eprintln!("backup at message {last} of {total}: {compared} rows equal to the store's");

    // Every object its index refers to, with its hash.
    let conn = read_only(&backup.join("intake.sqlite"));
    let referenced: Vec<String> = conn
        .prepare("SELECT raw_sha256 FROM messages UNION SELECT sha256 FROM files UNION SELECT annotated FROM files WHERE annotated IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(referenced.len() > 50, "{}", referenced.len());
    for sha in &referenced {
        let path = backup.join("objects").join(&sha[..2]).join(&sha[2..]);
        assert_eq!(&sha256_file(&path), sha, "{}", path.display());
    }
    assert_eq!(
        manifest["objects"].as_u64().unwrap() as usize,
        common::tree(&backup.join("objects")).len()
    );

    // Restored into another folder, it verifies, and reads as the source did then.
    let other = tempfile::tempdir().unwrap();
    let restored = common::intake_ok(
        other.path(),
        &["--now", NOW, "restore", backup.to_str().unwrap()],
    );
    assert!(restored.contains("nguyên vẹn"), "{restored}");
    let verified = common::intake_ok(other.path(), &["--now", NOW, "verify"]);
    assert!(verified.contains("Kho lưu nguyên vẹn."), "{verified}");
    let restored_rows = rows(&other.path().join("var/store/intake.sqlite"));
    assert!(restored_rows == copy, "the restored index is the backup's");
    // The filed tree is made again from the index: the files up to the backup's instant.
    let conn = read_only(&other.path().join("var/store/intake.sqlite"));
    let filed: Vec<(String, String)> = conn
        .prepare("SELECT filed_path, sha256 FROM files WHERE filed_path IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(!filed.is_empty());
    for (rel, sha) in &filed {
        assert_eq!(&sha256_file(&other.path().join("var/store").join(rel)), sha);
    }

    // Restoring over a store is refused, then done with --force (the old one set aside).
    let again = common::intake(
        other.path(),
        &["--now", NOW, "restore", backup.to_str().unwrap()],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    common::intake_ok(
        other.path(),
        &["--now", NOW, "restore", "--force", backup.to_str().unwrap()],
    );
    let var: Vec<String> = std::fs::read_dir(other.path().join("var"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        var.iter().any(|n| n.starts_with("store.replaced-")),
        "{var:?}"
    );
}

/// A store made by the demo, in a fresh folder.
fn demo_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    common::intake_ok(
        dir.path(),
        &[
            "demo",
            "--fixtures",
            common::fixtures_dir().to_str().unwrap(),
        ],
    );
    let store = dir.path().join("var/store");
    (dir, store)
}

fn verify(dir: &Path, args: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    let mut with = vec!["--now", NOW, "verify"];
    with.extend_from_slice(args);
    let out = common::intake(dir, &with);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut json_args = with.clone();
    json_args.push("--json");
    let json = if args.contains(&"--repair") {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&common::intake(dir, &json_args).stdout).unwrap()
    };
    (out.status.code(), text, json)
}

fn writable(path: &Path) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)] // to damage an object on purpose
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).unwrap();
}

#[test]
fn verify_finds_an_altered_object_and_backup_refuses_it() {
    let (dir, store) = demo_store();
    let (code, text, _) = verify(dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Kho lưu nguyên vẹn."), "{text}");

    let conn = read_only(&store.join("intake.sqlite"));
    let sha: String = conn
        .query_row(
            "SELECT sha256 FROM files WHERE filed_path IS NOT NULL LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let object = store.join("objects").join(&sha[..2]).join(&sha[2..]);
    writable(&object);
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[0] ^= 0x20;
    // Written in place: the filed tree's hard link shows the damage too.
    std::fs::write(&object, &bytes).unwrap();

    let (code, text, json) = verify(dir.path(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("bị thay đổi nội dung"), "{text}");
    assert!(text.contains(&sha), "{text}");
    assert!(text.contains("khôi phục từ bản sao lưu"), "{text}");
    assert_eq!(json["corrupt"], serde_json::json!([sha]));
    assert_eq!(json["sound"], false);
    // A repair cannot bring it back.
    let (code, text, _) = verify(dir.path(), &["--repair"]);
    assert_eq!(code, Some(1), "{text}");

    let out = common::intake(
        dir.path(),
        &["backup", dir.path().join("backup").to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&sha) && err.contains("intake verify"), "{err}");
    assert!(!dir.path().join("backup/backup.json").exists());
}

#[test]
fn verify_repairs_a_filed_tree_file_that_is_gone() {
    let (dir, store) = demo_store();
    let conn = read_only(&store.join("intake.sqlite"));
    let (rel, sha): (String, String) = conn
        .query_row(
            "SELECT filed_path, sha256 FROM files WHERE filed_path IS NOT NULL ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    std::fs::remove_file(store.join(&rel)).unwrap();

    let (code, text, json) = verify(dir.path(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("thiếu 1"), "{text}");
    assert!(text.contains("intake verify --repair"), "{text}");
    assert_eq!(json["tree_missing"], serde_json::json!([rel]));
    assert!(!store.join(&rel).exists());

    let (code, text, _) = verify(dir.path(), &["--repair"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("đã dựng lại 1"), "{text}");
    assert_eq!(sha256_file(&store.join(&rel)), sha);
    let (code, text, _) = verify(dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
}

fn age(path: &Path, by: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - by)
        .unwrap();
}

#[test]
fn stale_temporary_files_are_removed_and_fresh_ones_of_a_running_writer_kept() {
    let (dir, store) = demo_store();
    let backup = dir.path().join("backup");
    common::intake_ok(dir.path(), &["backup", backup.to_str().unwrap()]);
    let outbox = dir.path().join("var/outbox");
    let objects = store.join("objects");
    let sub = std::fs::read_dir(&objects)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let old_object = sub.join(".0123456789.4242.tmp");
    let fresh_object = sub.join(".abcdefabcd.4243.tmp");
    std::fs::create_dir_all(outbox.join(".staging")).unwrap();
    let old_mail = outbox.join(".staging/0b8e3a1c-old.eml");
    let fresh_mail = outbox.join(".staging/5f1d2c3b-fresh.eml");
    for p in [&old_object, &fresh_object, &old_mail, &fresh_mail] {
        std::fs::write(p, b"half written").unwrap();
    }
    age(&old_object, Duration::from_secs(2 * 3600));
    age(&old_mail, Duration::from_secs(2 * 3600));

    // A writer holds the store: only what is older than an hour is anyone's debris.
    let lock = std::fs::File::options()
        .write(true)
        .open(store.join("intake.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let (code, text, json) = verify(dir.path(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(json["leftovers"].as_array().unwrap().len(), 2, "{json}");
    assert!(text.contains("Tệp tạm sót lại"), "{text}");
    let (code, text, _) = verify(dir.path(), &["--repair"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("đã xoá 2"), "{text}");
    assert!(!old_object.exists() && !old_mail.exists());
    assert!(fresh_object.exists() && fresh_mail.exists());

    // A restore never touches a store a running intake holds.
    let out = common::intake(
        dir.path(),
        &["restore", "--force", backup.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("in use by another intake process"), "{err}");
    assert!(fresh_object.exists(), "the store was left as it was");
    drop(lock);

    // With the writer gone they are debris too; the daemon's start removes them.
    common::intake_ok(dir.path(), &["--now", NOW, "run", "--once"]);
    assert!(!fresh_object.exists() && !fresh_mail.exists());
    let (code, text, _) = verify(dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn a_backup_on_another_file_system_is_a_checked_copy() {
    let (dir, store) = demo_store();
    // tmpfs: a file system of its own on Linux, where hard links from the store cannot go.
    let shm = Path::new("/dev/shm");
    assert!(
        shm.is_dir(),
        "this test needs /dev/shm (a tmpfs) to back up across file systems"
    );
    let other_fs = tempfile::tempdir_in(shm).unwrap();
    let backup = other_fs.path().join("backup");
    let text = common::intake_ok(dir.path(), &["backup", backup.to_str().unwrap()]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(backup.join("backup.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["linked"], 0, "{text}");
    let objects = manifest["objects"].as_u64().unwrap();
    assert!(objects > 50, "{manifest}");
    assert!(
        text.contains(&format!("0 liên kết cứng, {objects} bản chép")),
        "{text}"
    );
    // The copies are the store's objects, byte for byte, and read-only like them.
    for rel in common::tree(&backup.join("objects")) {
        let copy = backup.join("objects").join(&rel);
        assert_eq!(
            std::fs::read(&copy).unwrap(),
            std::fs::read(store.join("objects").join(&rel)).unwrap()
        );
        assert!(std::fs::metadata(&copy).unwrap().permissions().readonly());
    }
    let restored = tempfile::tempdir().unwrap();
    let out = common::intake_ok(restored.path(), &["restore", backup.to_str().unwrap()]);
    assert!(out.contains("nguyên vẹn"), "{out}");
}
