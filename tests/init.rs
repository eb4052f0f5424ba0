//! `intake init`: the configuration an installer starts from. What it writes passes
//! `check-config`, puts the data where it was told, has a comment above every key, and an
//! existing file is never overwritten.

mod common;

use std::path::Path;
use std::process::Command;

fn intake(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(common::bin())
        .args(args)
        .current_dir(dir)
        .env_remove("INTAKE_CONFIG")
        .output()
        .expect("intake runs")
}

#[test]
fn init_writes_a_configuration_that_check_config_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc/intake");
    let data = dir.path().join("lib/intake");
    let out = intake(
        dir.path(),
        &[
            "init",
            etc.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.contains("Đã ghi 11 tệp cấu hình"), "{said}");
    assert!(said.contains("check-config"), "{said}");

    // Every file the embedded example is made of, and the format notes.
    let written = common::tree(&etc);
    for name in [
        "intake.toml",
        "campaigns/742-skhdt-thqh.toml",
        "rosters/langson.toml",
        "forms/742-2018-pl1.toml",
        "forms/742-2018-pl2.toml",
        "forms/742-2018-pl3.toml",
        "forms/README.md",
        "templates/receipt.txt",
        "templates/reminder.txt",
        "templates/digest.txt",
        "templates/README.md",
    ] {
        assert!(
            written.iter().any(|w| w == name),
            "{name} missing: {written:?}"
        );
    }
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    assert_eq!(
        std::fs::read(etc.join("rosters/langson.toml")).unwrap(),
        std::fs::read(shipped.join("rosters/langson.toml")).unwrap()
    );

    // check-config passes on it, from another folder, and puts the data under --data-dir.
    let main = etc.join("intake.toml");
    let elsewhere = tempfile::tempdir().unwrap();
    let out = intake(
        elsewhere.path(),
        &["--config", main.to_str().unwrap(), "check-config"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Cấu hình hợp lệ"), "{text}");
    for sub in ["maildir", "drop", "store", "outbox"] {
        assert!(
            text.contains(&data.join(sub).display().to_string()),
            "{sub} not under {}: {text}",
            data.display()
        );
    }
    let config = intake::config::Config::load(&main).unwrap();
    assert_eq!(config.data_dir, data);
    assert_eq!(config.campaigns.len(), 1);
    assert_eq!(config.agencies().len(), 38);

    // A comment above every key of intake.toml, and the keys of the example all set alike.
    let toml = std::fs::read_to_string(&main).unwrap();
    let lines: Vec<&str> = toml.lines().collect();
    let mut keys = 0;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with('[') {
            continue;
        }
        keys += 1;
        assert!(
            i > 0 && lines[i - 1].trim_start().starts_with('#'),
            "no comment above line {}: {line}",
            i + 1
        );
    }
    assert!(keys >= 40, "only {keys} keys set");
    let example: toml::Table =
        toml::from_str(&std::fs::read_to_string(shipped.join("intake.toml")).unwrap()).unwrap();
    let mut ours: toml::Table = toml::from_str(&toml).unwrap();
    assert_eq!(
        ours.remove("data_dir").unwrap().as_str(),
        Some(data.to_str().unwrap())
    );
    let mut example = example;
    example.remove("data_dir");
    assert_eq!(
        ours, example,
        "the annotated file sets what the example sets"
    );
}

#[test]
fn init_refuses_to_overwrite_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("conf");
    std::fs::create_dir_all(etc.join("templates")).unwrap();
    std::fs::write(etc.join("templates/receipt.txt"), "của cán bộ").unwrap();
    let out = intake(dir.path(), &["init", etc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&etc.join("templates/receipt.txt").display().to_string())
            && err.contains("không ghi đè"),
        "{err}"
    );
    // Nothing written, the staff's file untouched.
    assert_eq!(
        common::tree(&etc),
        vec!["templates/receipt.txt".to_string()]
    );
    assert_eq!(
        std::fs::read_to_string(etc.join("templates/receipt.txt")).unwrap(),
        "của cán bộ"
    );

    // Without --data-dir the data goes where the service keeps it.
    let fresh = dir.path().join("fresh");
    let out = intake(dir.path(), &["init", fresh.to_str().unwrap()]);
    assert!(out.status.success());
    let toml = std::fs::read_to_string(fresh.join("intake.toml")).unwrap();
    assert!(toml.contains("data_dir = \"/var/lib/intake\""), "{toml}");
    // A relative --data-dir is taken from where the command is typed.
    let rel = dir.path().join("rel");
    let out = intake(
        dir.path(),
        &["init", rel.to_str().unwrap(), "--data-dir", "var"],
    );
    assert!(out.status.success());
    let config = intake::config::Config::load(&rel.join("intake.toml")).unwrap();
    assert_eq!(
        config.data_dir,
        std::fs::canonicalize(dir.path()).unwrap().join("var")
    );
}
