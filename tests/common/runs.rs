//! Running the `intake` binary on a configuration of its own (`--config`), with the store's
//! index or objects on servers the tests start, and reading back what it did: the intake
//! log, the status, the outbox, the files on disk.
#![allow(dead_code)] // each test file uses a different part of this module

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The time every run is told it is.
pub const NOW: &str = "2018-07-12T09:00:00+07:00";

/// Environment variables every run gets (the secrets the configurations name).
pub const ENV: &[(&str, &str)] = &[
    ("INTAKE_TEST_S3_KEY", super::s3::KEY_ID),
    ("INTAKE_TEST_S3_SECRET", super::s3::SECRET),
];

/// Delivers the fixtures, each once, into the Maildir of `dir`'s configuration.
pub fn deliver_fixtures(dir: &Path) {
    let config = super::config(dir);
    let maildir =
        intake::source::maildir::Maildir::open(&config.mailbox.path, config.mailbox.on_filed)
            .unwrap();
    for (n, path) in super::fixtures().iter().enumerate() {
        let raw = std::fs::read(path).unwrap();
        maildir
            .deliver(&format!("{}.objects{n:05}.test", 1_530_000_000 + n), &raw)
            .unwrap();
    }
}

/// Starts `intake run` (the daemon) in `dir` on `config`, at [`NOW`], its log (info) in
/// `dir/<name>.log`.
pub fn daemon(dir: &Path, config: &Path, name: &str) -> Child {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    Command::new(super::bin())
        .arg("--config")
        .arg(config)
        .args(["--now", NOW, "run"])
        .current_dir(dir)
        .envs(ENV.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

pub fn intake(dir: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(super::bin())
        .arg("--config")
        .arg(config)
        .args(["--now", NOW])
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .envs(ENV.iter().copied())
        .output()
        .expect("intake runs")
}

pub fn ok(dir: &Path, config: &Path, args: &[&str]) -> String {
    let out = intake(dir, config, args);
    assert!(
        out.status.success(),
        "intake {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The intake log without the times of its entries (the clock runs on from `--now`).
pub fn log(dir: &Path, config: &Path) -> Vec<serde_json::Value> {
    let mut entries = json(&ok(dir, config, &["log", "--json"]))
        .as_array()
        .cloned()
        .unwrap();
    for e in &mut entries {
        e.as_object_mut().unwrap().remove("at");
    }
    entries
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Every file under `dir`, relative, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The outbox's mails, with what differs between two runs (message ids, dates, boundaries)
/// left out: the recipients, subjects and attachment names, sorted.
pub fn outbox_summary(dir: &Path) -> Vec<String> {
    let outbox = dir.join("var/outbox");
    let mut out: Vec<String> = files(&outbox)
        .into_iter()
        .filter(|f| f.ends_with(".eml") && !f.starts_with('.'))
        .map(|f| {
            let text = std::fs::read_to_string(outbox.join(&f)).unwrap();
            let keep: Vec<&str> = text
                .lines()
                .filter(|l| {
                    l.starts_with("To:")
                        || l.starts_with("Subject:")
                        || l.contains("filename=")
                        || l.contains("filename*")
                })
                .collect();
            keep.join("\n")
        })
        .collect();
    out.sort();
    out
}

/// The shipped configuration in `dir` (its data under `dir/var`), with the index in the
/// PostgreSQL database given and the objects in the bucket given (under the prefix
/// `langson/skhdt`).
pub fn configured(
    dir: &Path,
    index: Option<(&super::postgres::Postgres, &str)>,
    objects: Option<(&super::s3::Moto, &str)>,
) -> PathBuf {
    let mut extra = String::new();
    if let Some((pg, database)) = index {
        let secret = dir.join("pg.secret");
        std::fs::write(&secret, format!("{}\n", super::postgres::PASSWORD)).unwrap();
        extra.push_str(&format!(
            "\n[store]\nkind = \"postgres\"\nurl = \"{}\"\npassword_file = \"{}\"\n",
            pg.url(database),
            secret.display()
        ));
    }
    if let Some((moto, bucket)) = objects {
        extra.push_str(&format!(
            "\n[store.objects]\nkind = \"s3\"\nendpoint = \"{}\"\nbucket = \"{bucket}\"\nprefix = \"langson/skhdt\"\n\
             access_key_id_env = \"INTAKE_TEST_S3_KEY\"\nsecret_access_key_env = \"INTAKE_TEST_S3_SECRET\"\nallow_http = true\n",
            moto.endpoint()
        ));
    }
    super::shipped_config(dir, move |text| {
        if index.is_some() {
            // The shipped [store] table (comments only) gives way to the one above.
            assert!(
                text.contains("[store]\n"),
                "the shipped [store] table moved"
            );
            format!("{}{extra}", text.replacen("[store]\n", "", 1))
        } else {
            format!("{text}{extra}")
        }
    })
}
