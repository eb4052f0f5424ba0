//! Shell completions and the man page, generated from the command line itself (the Debian
//! package installs them): each names the subcommands staff use.

mod common;

use std::process::Command;

fn output(args: &[&str]) -> String {
    let out = Command::new(common::bin())
        .args(args)
        .env_remove("INTAKE_CONFIG")
        .output()
        .expect("intake runs");
    assert!(
        out.status.success(),
        "intake {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_subcommands() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef intake"),
        ("fish", "complete -c intake"),
    ] {
        let script = output(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        for sub in ["run", "status", "check-config", "init", "board-account"] {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let bad = Command::new(common::bin())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_man_page_is_roff_and_documents_each_subcommand() {
    let page = output(&["manpage"]);
    assert!(page.contains(".TH intake 1"), "{page}");
    for sub in ["RUN", "STATUS", "CHECK-CONFIG", "INIT", "COMPLETIONS"] {
        assert!(
            page.contains(&format!(".SH \"INTAKE {sub}\"")),
            "no section for {sub}"
        );
    }
    assert!(page.contains("\\-\\-once") && page.contains("\\-\\-data\\-dir"));
    // The list names subcommands as they are typed, not as pages that do not exist.
    assert!(!page.contains("intake\\-run(1)"));
    // man renders it without warnings.
    let child = Command::new("man")
        .args(["--warnings", "-l", "-"])
        .env("MANWIDTH", "100")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        panic!("man is missing: apt-get install man-db (or bash .ci/install-package-tools.sh)");
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INTAKE RUN") && text.contains("intake run"),
        "{text}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
