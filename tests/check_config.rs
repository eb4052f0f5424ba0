//! `check-config` is the truth: a configuration it passes starts and works; one it refuses
//! names the file, the key and the fix, and exits 2. It checks what the service would only
//! find out later: form files, secrets (never printed), addresses, writable folders.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn check(dir: &Path, config: Option<&Path>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(common::bin());
    if let Some(c) = config {
        cmd.args(["--config", c.to_str().unwrap()]);
    }
    cmd.arg("check-config")
        .current_dir(dir)
        .env_remove("INTAKE_CONFIG")
        .env_remove("INTAKE_TEST_IMAP_PW");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn refused(out: &Output, says: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for s in says {
        assert!(err.contains(s), "should say {s:?}: {err}");
    }
}

#[test]
fn the_built_in_example_is_named_as_such_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(dir.path(), None, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("cấu hình mẫu dựng sẵn"), "{text}");
    assert!(!text.contains("config/intake.toml"), "{text}");
    let cfg = common::shipped_config(dir.path(), |s| s);
    let out = check(dir.path(), Some(&cfg), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(cfg.to_str().unwrap()));
}

#[test]
fn a_missing_form_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::shipped_config(dir.path(), |s| s);
    std::fs::remove_file(dir.path().join("config/forms/742-2018-pl2.toml")).unwrap();
    let out = check(dir.path(), Some(&cfg), &[]);
    refused(&out, &["742-2018-pl2.toml", "form"]);
}

#[test]
fn an_unset_imap_password_is_refused_and_a_set_one_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::shipped_config(dir.path(), |s| {
        s.replace(
            "kind = \"maildir\"              # or \"imap\", with a [mailbox.imap] table as below",
            "kind = \"imap\"",
        ) + "\n[mailbox.imap]\nhost = \"mail.example.vn\"\nuser = \"skhdt@example.vn\"\npassword_env = \"INTAKE_TEST_IMAP_PW\"\non_filed = \"keep\"\n"
    });
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains("password_env = \"INTAKE_TEST_IMAP_PW\""),
        "{text}"
    );
    let out = check(dir.path(), Some(&cfg), &[]);
    refused(&out, &["INTAKE_TEST_IMAP_PW is not set", "mailbox.imap"]);
    let out = check(
        dir.path(),
        Some(&cfg),
        &[("INTAKE_TEST_IMAP_PW", "bi-mat-9271")],
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("bi-mat-9271"), "{all}");
}

#[test]
fn bad_addresses_missing_accounts_and_unwritable_folders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::shipped_config(dir.path(), |s| {
        s.replace(
            "reply_from = \"Sở Kế hoạch và Đầu tư Lạng Sơn <intake@skhdt.langson.example>\"",
            "reply_from = \"Sở Kế hoạch và Đầu tư Lạng Sơn <intake@>\"",
        )
        .replace(
            "# accounts = \"board-accounts\"",
            "accounts = \"no-such-accounts\"",
        )
        .replace("data_dir = \"../var\"", "data_dir = \"intake.toml/var\"")
    });
    let out = check(dir.path(), Some(&cfg), &[]);
    refused(
        &out,
        &[
            "department.reply_from",
            "\"Sở Kế hoạch và Đầu tư Lạng Sơn <intake@>\" is not a mail address",
            "board.accounts",
            "no-such-accounts",
            "data_dir",
            "intake.toml is not a folder",
            cfg.to_str().unwrap(),
        ],
    );
}
