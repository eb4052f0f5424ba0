//! The golden corpus: every `mailbox-fixtures/*.eml`, fed in order into one fresh store as
//! real mail arrives (delivered into the Maildir, then a pass), must end in the outcome its
//! `.expected.json` gives: outcome, agency and how it was found, lateness, receipt, and each
//! file's deliverable, version and check.

mod common;

use intake::daemon::Worker;
use intake::source::maildir::Maildir;
use intake::store::query::{self, ItemSummary};

#[test]
fn every_fixture_ends_in_its_expected_outcome() {
    let fixtures = common::fixtures();
    assert!(
        fixtures.len() >= 30,
        "the corpus has {} fixtures; it must not shrink below 30",
        fixtures.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let maildir = Maildir::open(&config.mailbox.path, config.mailbox.on_filed).unwrap();
    let mut worker = Worker::open(
        config.clone(),
        common::inspector(),
        common::clock("2018-07-12T09:00:00+07:00"),
    )
    .unwrap();

    let mut failures = Vec::new();
    for (i, path) in fixtures.iter().enumerate() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let unique = format!("{}.fixture{i:03}.test", 1_530_000_000 + i);
        maildir
            .deliver(&unique, &std::fs::read(path).unwrap())
            .unwrap();
        worker.pass().unwrap();
        let got = query::item_summary(worker.store(), &format!("maildir:{unique}")).unwrap();
        let expected_path = path.with_extension("expected.json");
        let expected: ItemSummary = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|_| panic!("{} has no expected outcome", expected_path.display())),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        match got {
            Some(got) if got == expected => {}
            Some(got) => failures.push(format!(
                "{stem}:\n  expected {}\n  got      {}",
                serde_json::to_string(&expected).unwrap(),
                serde_json::to_string(&got).unwrap()
            )),
            None => failures.push(format!("{stem}: nothing recorded")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n")
    );

    // Every message intake acted on left new/; personal mail stayed there untouched.
    let still_new = common::tree(&config.mailbox.path.join("new"));
    for name in &still_new {
        let key = format!("maildir:{}", name.trim_start_matches("new/"));
        let s = query::item_summary(worker.store(), &key).unwrap().unwrap();
        assert_eq!(
            s.outcome, "left-alone",
            "{name} is still in new/ with outcome {}",
            s.outcome
        );
    }
}
