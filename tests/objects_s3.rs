//! The store's objects in an S3-compatible bucket (`[store.objects] kind = "s3"`), against a
//! real S3 endpoint on loopback (moto's server): the same mail taken in with objects in the
//! bucket and on disk gives the same log, status and receipts; nothing lands on local disk
//! but the index; `intake verify` checks the bucket's objects by SHA-256 and finds what was
//! deleted or altered there; a backup brings the objects home, and restores as a local store;
//! a configuration that points the store elsewhere is refused; and while the endpoint is
//! down nothing is filed and nothing is lost.

mod common;

use std::path::{Path, PathBuf};

use common::runs::{self, deliver_fixtures, files, intake, json, log, ok, outbox_summary};
use common::s3::Moto;
const BUCKET: &str = "intake-store";

/// The shipped configuration in `dir`, with objects in the bucket when `moto` is given.
fn configured(dir: &Path, moto: Option<&Moto>) -> PathBuf {
    runs::configured(dir, None, moto.map(|m| (m, BUCKET)))
}

#[test]
fn a_store_with_its_objects_in_a_bucket_works_as_one_on_disk() {
    let moto = Moto::start();
    moto.bucket(BUCKET);

    // The same mail, once with objects on disk and once in the bucket.
    let local = tempfile::tempdir().unwrap();
    let local_cfg = configured(local.path(), None);
    deliver_fixtures(local.path());
    ok(local.path(), &local_cfg, &["run", "--once"]);

    let remote = tempfile::tempdir().unwrap();
    let remote_cfg = configured(remote.path(), Some(&moto));
    deliver_fixtures(remote.path());
    ok(remote.path(), &remote_cfg, &["run", "--once"]);

    // The same outcome: log, status and the receipts with their attachments (read back out
    // of the bucket to be attached).
    assert!(
        log(local.path(), &local_cfg) == log(remote.path(), &remote_cfg),
        "the logs differ"
    );
    assert!(
        ok(local.path(), &local_cfg, &["status"]) == ok(remote.path(), &remote_cfg, &["status"]),
        "the status differs"
    );
    let receipts = outbox_summary(local.path());
    assert!(receipts.len() > 10, "{receipts:?}");
    assert!(
        receipts.iter().any(|r| r.contains("filename")),
        "some receipt carries a file: {receipts:?}"
    );
    assert_eq!(receipts, outbox_summary(remote.path()));

    // Every object in the bucket, under the store's prefix; none on local disk, and no filed
    // tree (a view, made when asked for).
    let keys = moto.keys(BUCKET, "langson/skhdt/objects/");
    let local_objects: Vec<String> = files(&local.path().join("var/store/objects"));
    assert_eq!(keys.len(), local_objects.len(), "{keys:?}");
    assert_eq!(
        keys.iter()
            .map(|k| k.trim_start_matches("langson/skhdt/objects/").to_string())
            .collect::<Vec<_>>(),
        local_objects
    );
    let store_files = files(&remote.path().join("var/store"));
    assert!(
        store_files
            .iter()
            .all(|f| f.starts_with("intake.") || f.ends_with(".json")),
        "only the index and its companions on disk: {store_files:?}"
    );

    // doctor writes, reads back and deletes a probe in the bucket, and leaves nothing there.
    let out = intake(remote.path(), &remote_cfg, &["doctor"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.lines().any(|l| l.starts_with("✔ Kho đối tượng (S3)")
            && l.contains("s3://intake-store/langson/skhdt/")),
        "{said}"
    );
    assert_eq!(
        moto.keys(BUCKET, "langson/skhdt/intake-probe"),
        Vec::<String>::new()
    );

    // verify reads every object back and checks its hash.
    let report = json(&ok(remote.path(), &remote_cfg, &["verify", "--json"]));
    assert_eq!(report["sound"], true, "{report}");
    assert_eq!(report["objects"], keys.len(), "{report}");
    assert_eq!(report["referenced"], keys.len(), "{report}");

    // A store's index and objects belong together: the configuration without the bucket is
    // refused, by readers and by the daemon alike.
    let plain_cfg = local.path().join("config/elsewhere.toml");
    std::fs::write(
        &plain_cfg,
        std::fs::read_to_string(&local_cfg).unwrap().replace(
            "data_dir = \"../var\"",
            &format!("data_dir = \"{}\"", remote.path().join("var").display()),
        ),
    )
    .unwrap();
    for args in [&["status"][..], &["run", "--once"][..]] {
        let out = intake(local.path(), &plain_cfg, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "intake {args:?} took it: {err}");
        assert!(
            err.contains("s3://intake-store/langson/skhdt/") && err.contains("[store.objects]"),
            "{err}"
        );
    }

    // A backup brings every object home; restored, it is a sound store on local disk.
    let backup = remote.path().join("backup");
    ok(
        remote.path(),
        &remote_cfg,
        &["backup", backup.to_str().unwrap()],
    );
    assert_eq!(files(&backup.join("objects")), local_objects);
    let restored = tempfile::tempdir().unwrap();
    let restored_cfg = configured(restored.path(), None);
    ok(
        restored.path(),
        &restored_cfg,
        &["restore", backup.to_str().unwrap()],
    );
    assert!(
        log(restored.path(), &restored_cfg) == log(remote.path(), &remote_cfg),
        "the restored log differs"
    );
    let report = json(&ok(restored.path(), &restored_cfg, &["verify", "--json"]));
    assert_eq!(report["sound"], true, "{report}");

    // Damage done in the bucket is found: one object deleted, one altered.
    moto.delete(BUCKET, &keys[0]);
    moto.overwrite(BUCKET, &keys[1], b"not what was received");
    let out = intake(remote.path(), &remote_cfg, &["verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&String::from_utf8_lossy(&out.stdout));
    let sha = |key: &str| {
        key.trim_start_matches("langson/skhdt/objects/")
            .replace('/', "")
    };
    assert_eq!(
        report["missing"],
        serde_json::json!([sha(&keys[0])]),
        "{report}"
    );
    assert_eq!(
        report["corrupt"],
        serde_json::json!([sha(&keys[1])]),
        "{report}"
    );
}

#[test]
fn while_the_bucket_cannot_be_reached_nothing_is_filed_and_nothing_lost() {
    let mut moto = Moto::start();
    moto.bucket(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let cfg = configured(dir.path(), Some(&moto));
    ok(dir.path(), &cfg, &["run", "--once"]);
    moto.stop();

    deliver_fixtures(dir.path());
    let maildir = dir.path().join("var/maildir/new");
    let waiting = files(&maildir).len();
    assert!(waiting > 10);
    let started = std::time::Instant::now();
    let out = intake(dir.path(), &cfg, &["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "a dead endpoint is given up on in time: {:?}",
        started.elapsed()
    );
    // doctor says what is wrong and where to look.
    let out = intake(dir.path(), &cfg, &["doctor"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.lines().any(|l| l.starts_with("✘ Kho đối tượng (S3)"))
            && said.contains("[store.objects]"),
        "{said}"
    );
    // The pass failed and said why; every message is still waiting, none is in the index.
    assert!(
        err.contains("127.0.0.1"),
        "the failure names the endpoint: {err}"
    );
    assert_eq!(files(&maildir).len(), waiting, "{err}");
    let received = log(dir.path(), &cfg)
        .into_iter()
        .filter(|e| e["source"] == "mailbox")
        .count();
    assert_eq!(received, 0, "nothing from the mailbox is in the log");
}

#[test]
fn a_store_on_disk_moves_its_objects_to_a_bucket() {
    let moto = Moto::start();
    moto.bucket(BUCKET);
    let dir = tempfile::tempdir().unwrap();
    let local_cfg = configured(dir.path(), None);
    deliver_fixtures(dir.path());
    ok(dir.path(), &local_cfg, &["run", "--once"]);
    let before = log(dir.path(), &local_cfg);
    let on_disk = files(&dir.path().join("var/store/objects"));
    assert!(on_disk.len() > 20, "{on_disk:?}");

    // Naming the bucket is not enough: the daemon says how to move the objects.
    let remote_cfg = dir.path().join("config/bucket.toml");
    std::fs::write(
        &remote_cfg,
        std::fs::read_to_string(configured(tempfile::tempdir().unwrap().path(), Some(&moto)))
            .unwrap()
            .replace(
                "data_dir = \"../var\"",
                &format!("data_dir = \"{}\"", dir.path().join("var").display()),
            ),
    )
    .unwrap();
    let out = intake(dir.path(), &remote_cfg, &["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("intake store migrate"),
        "{err}"
    );

    // Not while a daemon holds the store.
    let lock = std::fs::File::options()
        .write(true)
        .open(dir.path().join("var/store/intake.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let out = intake(dir.path(), &remote_cfg, &["store", "migrate"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use"));
    drop(lock);

    // A damaged object on disk stops the move before anything is recorded.
    let damaged = dir.path().join("var/store/objects").join(&on_disk[0]);
    let original = std::fs::read(&damaged).unwrap();
    let mut perms = std::fs::metadata(&damaged).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&damaged, perms).unwrap();
    std::fs::write(&damaged, b"changed on the shared drive").unwrap();
    let out = intake(dir.path(), &remote_cfg, &["store", "migrate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("altered"), "{err}");
    assert!(ok(dir.path(), &local_cfg, &["status"]).contains("Sở"));
    std::fs::write(&damaged, &original).unwrap();

    // The move: every object in the bucket (some copied by the run that stopped), read back.
    let moved = json(&ok(
        dir.path(),
        &remote_cfg,
        &["store", "migrate", "--json"],
    ));
    let moved = &moved["objects"];
    assert_eq!(moved["objects"], on_disk.len(), "{moved}");
    assert_eq!(moved["to"], "s3://intake-store/langson/skhdt/", "{moved}");
    assert!(
        moved["copied"].as_u64().unwrap() < on_disk.len() as u64,
        "the stopped run's copies are not made again: {moved}"
    );
    let keys: Vec<String> = moto
        .keys(BUCKET, "langson/skhdt/objects/")
        .iter()
        .map(|k| k.trim_start_matches("langson/skhdt/objects/").to_string())
        .collect();
    assert_eq!(keys, on_disk);
    let report = json(&ok(dir.path(), &remote_cfg, &["verify", "--json"]));
    assert_eq!(report["sound"], true, "{report}");
    // Once moved, the store is the bucket's: the old configuration is refused, a second move
    // has nothing to do, and intake goes on with the bucket.
    assert!(!intake(dir.path(), &local_cfg, &["status"]).status.success());
    let again = intake(dir.path(), &remote_cfg, &["store", "migrate"]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already where the configuration says")
    );
    assert!(log(dir.path(), &remote_cfg) == before, "the log changed");
    ok(dir.path(), &remote_cfg, &["run", "--once"]);
    let report = json(&ok(dir.path(), &remote_cfg, &["verify", "--json"]));
    assert_eq!(report["sound"], true, "{report}");
}
