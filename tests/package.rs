//! The Debian package, installed on this machine: built by `packaging/build-deb.sh` (from the
//! dev build the tests already have), installed with dpkg, its systemd unit verified, its
//! configuration checked, one pass run as the service user filing a message delivered into
//! its Maildir under /var/lib/intake, then purged, leaving nothing behind. Installing needs
//! root (CI runs as root). One test function: the steps share the machine's package state.

use std::path::Path;
use std::process::{Command, Output};

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn need(program: &str, args: &[&str], install: &str) {
    if Command::new(program).args(args).output().is_err() {
        panic!("{program} is missing: {install} (bash .ci/install-package-tools.sh does it)");
    }
}

const DATA: &str = "/var/lib/intake";

#[test]
fn the_package_installs_runs_a_pass_as_its_user_and_purges_clean() {
    assert!(
        unsafe { libc::geteuid() } == 0,
        "tests/package.rs installs the Debian package with dpkg and must run as root \
         (sudo -E cargo test --test package, or in CI, which runs as root)"
    );
    let cargo_deb = Command::new("cargo").args(["deb", "--version"]).output();
    assert!(
        cargo_deb.is_ok_and(|o| o.status.success()),
        "cargo-deb is missing: cargo install cargo-deb --version 3.8.0 --locked \
         (bash .ci/install-package-tools.sh does it)"
    );
    need("dpkg", &["--version"], "apt-get install dpkg");
    need(
        "systemd-analyze",
        &["--version"],
        "apt-get install systemd (for systemd-analyze)",
    );
    need("runuser", &["--version"], "apt-get install util-linux");
    need("man", &["--version"], "apt-get install man-db");

    // A package left by an earlier interrupted run goes first.
    let _ = run("dpkg", &["--purge", "intake"]);

    // Build it from the binary this test run already built (dev, or release with --release).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tested = Path::new(env!("CARGO_BIN_EXE_intake"));
    let release = tested.parent().is_some_and(|d| d.ends_with("release"));
    let mut args = vec!["--no-build"];
    if !release {
        args.push("--dev");
    }
    let out = Command::new(root.join("packaging/build-deb.sh"))
        .args(&args)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build-deb.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let deb = stdout
        .lines()
        .last()
        .expect("the .deb path")
        .trim()
        .to_string();
    assert!(
        deb.ends_with(".deb") && Path::new(&deb).is_file(),
        "{stdout}"
    );
    let listing = ok("dpkg-deb", &["--contents", &deb]);
    for path in [
        "./usr/bin/intake",
        "./etc/intake/intake.toml",
        "./etc/intake/env",
        "./etc/intake/rosters/langson.toml",
        "./usr/share/man/man1/intake.1.gz",
        "./usr/share/bash-completion/completions/intake",
        "./usr/share/zsh/vendor-completions/_intake",
        "./usr/share/fish/vendor_completions.d/intake.fish",
        "systemd/system/intake.service",
    ] {
        assert!(
            listing.contains(path),
            "{path} not in the package:\n{listing}"
        );
    }

    // Install.
    ok("dpkg", &["-i", &deb]);
    let conffiles = ok(
        "dpkg-query",
        &["--showformat=${Conffiles}", "--show", "intake"],
    );
    for f in [
        "/etc/intake/intake.toml",
        "/etc/intake/env",
        "/etc/intake/templates/receipt.txt",
    ] {
        assert!(conffiles.contains(f), "{f} is not a conffile: {conffiles}");
    }
    let files = ok("dpkg", &["-L", "intake"]);
    let unit = files
        .lines()
        .find(|l| l.ends_with("/systemd/system/intake.service"))
        .expect("the unit is installed")
        .to_string();
    let passwd = ok("getent", &["passwd", "intake"]);
    assert!(
        passwd.contains(":/var/lib/intake:") && passwd.trim_end().ends_with("nologin"),
        "{passwd}"
    );
    let meta = std::fs::metadata(DATA).expect("postinst made the data directory");
    use std::os::unix::fs::MetadataExt;
    let uid: u32 = passwd.split(':').nth(2).unwrap().parse().unwrap();
    assert_eq!(meta.uid(), uid, "{DATA} belongs to the service user");
    assert_eq!(
        std::fs::metadata("/etc/intake/env").unwrap().mode() & 0o777,
        0o600,
        "the secrets file is root's alone"
    );

    // The unit is clean for systemd (the man page it names included), and as asked.
    let verify = run("systemd-analyze", &["verify", &unit]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify {unit}:\n{said}"
    );
    let text = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "ExecStart=/usr/bin/intake --config /etc/intake/intake.toml run",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=intake",
        "StateDirectory=intake",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/intake",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in {unit}");
    }
    assert!(text.lines().any(|l| l.starts_with("WatchdogSec=")));

    // The configuration passes its check, with its data in /var/lib/intake.
    let checked = ok(
        "/usr/bin/intake",
        &["--config", "/etc/intake/intake.toml", "check-config"],
    );
    assert!(
        checked.contains("Cấu hình hợp lệ") && checked.contains("/var/lib/intake/store"),
        "{checked}"
    );
    let man = ok("man", &["-P", "cat", "intake"]);
    assert!(man.contains("intake run"), "{man}");

    // One pass as the service user, on a message delivered into its Maildir.
    let maildir = Path::new(DATA).join("maildir");
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::copy(
        root.join("mailbox-fixtures/01-so-y-te-pl1-outlook.eml"),
        maildir.join("new/1530756000.M1P1.mx"),
    )
    .unwrap();
    ok("chown", &["-R", "intake:intake", maildir.to_str().unwrap()]);
    let pass = run(
        "runuser",
        &[
            "-u",
            "intake",
            "--",
            "/usr/bin/intake",
            "--config",
            "/etc/intake/intake.toml",
            "--now",
            "2018-07-05T09:00:00+07:00",
            "run",
            "--once",
        ],
    );
    assert!(
        pass.status.success(),
        "the pass as user intake failed:\n{}",
        String::from_utf8_lossy(&pass.stderr)
    );
    let filed = Path::new(DATA).join("store/742-2018/so-y-te/pl1/v1-PL1_SoYTe.xlsx");
    assert!(
        filed.is_file(),
        "nothing filed at {}; the pass said: {}",
        filed.display(),
        String::from_utf8_lossy(&pass.stderr)
    );
    assert_eq!(std::fs::metadata(&filed).unwrap().uid(), uid);
    assert!(Path::new(DATA).join("store/intake.sqlite").is_file());
    assert!(
        std::fs::read_dir(maildir.join("cur")).unwrap().count() == 1,
        "the filed message moved to cur/"
    );
    let outbox: Vec<_> = std::fs::read_dir(Path::new(DATA).join("outbox"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .collect();
    assert!(!outbox.is_empty(), "the receipt is in the outbox");

    // Purge: the program, its configuration, its unit and its data are gone.
    ok("dpkg", &["--purge", "intake"]);
    for gone in [
        "/usr/bin/intake",
        "/etc/intake",
        DATA,
        unit.as_str(),
        "/usr/share/man/man1/intake.1.gz",
        "/usr/share/bash-completion/completions/intake",
    ] {
        assert!(
            Path::new(gone).symlink_metadata().is_err(),
            "{gone} is still there after dpkg --purge"
        );
    }
    assert!(
        !run("dpkg", &["-s", "intake"]).status.success(),
        "dpkg still knows intake"
    );
}
