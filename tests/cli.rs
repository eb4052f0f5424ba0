//! The command line end to end, as staff use it: the demo on a fresh folder, `status --json`
//! against the filed tree, the log and its filters, `assign` on a probable message, the drop
//! folder, and configuration errors.

mod common;

use std::path::Path;

use serde_json::Value;

fn demo(dir: &Path) -> String {
    common::intake_ok(
        dir,
        &[
            "demo",
            "--fixtures",
            common::fixtures_dir().to_str().unwrap(),
        ],
    )
}

fn status(dir: &Path) -> Value {
    serde_json::from_str(&common::intake_ok(
        dir,
        &["--now", "2018-07-12T09:00:00+07:00", "status", "--json"],
    ))
    .unwrap()
}

#[test]
fn demo_prints_all_38_agencies_and_status_agrees_with_the_filed_tree() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path());
    assert!(out.contains("Công văn 742/SKHĐT-THQH"), "{out}");
    assert!(
        out.contains("Ủy ban nhân dân huyện Đình Lập")
            && out.contains("Văn phòng Ủy ban nhân dân tỉnh")
    );
    assert!(out.contains("Phải nộp: 114"), "{out}");
    assert!(out.contains("var/outbox"));

    let s = status(dir.path());
    let c = &s["campaigns"][0];
    assert_eq!(c["id"], "742-2018");
    assert_eq!(c["deadline"], "2018-07-10T00:00:00+07:00");
    assert_eq!(c["agencies"].as_array().unwrap().len(), 38);
    let store = dir.path().join("var/store/742-2018");
    let mut received = 0;
    for a in c["agencies"].as_array().unwrap() {
        for d in a["deliverables"].as_array().unwrap() {
            let folder = store
                .join(a["code"].as_str().unwrap())
                .join(d["id"].as_str().unwrap());
            let files = common::tree(&folder);
            match d["state"].as_str().unwrap() {
                "missing" => assert!(
                    files.is_empty(),
                    "{folder:?} has files but status says missing"
                ),
                state => {
                    received += 1;
                    assert!(["received", "invalid", "accepted"].contains(&state));
                    let v = d["version"].as_u64().unwrap();
                    assert!(
                        files.iter().any(|f| f.starts_with(&format!("v{v}-"))),
                        "{folder:?} lacks v{v}: {files:?}"
                    );
                    assert!(
                        !files.iter().any(|f| f.starts_with(&format!("v{}-", v + 1))),
                        "{folder:?} has a version beyond v{v}"
                    );
                    assert!(d["received_at"].is_string() && d["late"].is_boolean());
                }
            }
        }
    }
    assert_eq!(c["received"].as_u64().unwrap(), received);
    assert!(
        received >= 20,
        "the fixtures file at least 20 deliverables, got {received}"
    );

    // Running the demo again delivers nothing new and files nothing twice.
    let before = common::tree(&dir.path().join("var/store"));
    demo(dir.path());
    assert_eq!(
        common::tree(&dir.path().join("var/store")).len(),
        before.len()
    );
}

#[test]
fn log_filters_and_assign_a_probable_message() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let log: Vec<Value> = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &["log", "--json", "--limit", "1000"],
    ))
    .unwrap();
    assert!(log.iter().any(|e| e["kind"] == "filed"));
    assert!(
        log.windows(2)
            .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()),
        "newest first"
    );
    let only: Vec<Value> = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &["log", "--json", "--agency", "so-y-te"],
    ))
    .unwrap();
    assert!(!only.is_empty() && only.iter().all(|e| e["agency"] == "so-y-te"));
    let none: Vec<Value> = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &["log", "--json", "--since", "2030-01-01T00:00:00+07:00"],
    ))
    .unwrap();
    assert!(none.is_empty());
    let table = common::intake_ok(dir.path(), &["log", "--agency", "so-y-te"]);
    assert!(
        table.contains("đã lưu") && table.contains("Mã biên nhận"),
        "{table}"
    );

    // A probable message (a personal address, the agency named in the subject) waits for staff.
    let probable = log
        .iter()
        .find(|e| e["kind"] == "probable-agency")
        .expect("a probable message in the fixtures");
    let id = probable["message"].as_i64().unwrap();
    let guess = probable["detail"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .nth(3)
        .unwrap()
        .to_string();
    let receipt = format!("BN-{id:06}");
    // Staff read agencies by name (the digest, the board), so the name does as the code.
    let name = common::config(dir.path())
        .agency(&guess)
        .unwrap()
        .name
        .clone();
    let out = common::intake_ok(
        dir.path(),
        &[
            "--now",
            "2018-07-12T10:00:00+07:00",
            "assign",
            &receipt,
            &name,
            "--by",
            "Nguyễn Văn A",
        ],
    );
    assert!(out.contains("Đã gán thư") && out.contains(&name), "{out}");
    let log: Vec<Value> = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &["log", "--json", "--limit", "5"],
    ))
    .unwrap();
    let assigned = log
        .iter()
        .find(|e| e["kind"] == "assigned")
        .expect("an assigned event");
    assert_eq!(assigned["actor"], "Nguyễn Văn A");
    assert_eq!(assigned["agency"], guess.as_str());
    // Assigning the same message again is refused: it is no longer waiting.
    let again = common::intake(dir.path(), &["assign", &receipt, &guess]);
    assert!(!again.status.success());
    // An unknown agency code is refused with a clear message.
    let bad = common::intake(dir.path(), &["assign", "BN-000001", "so-khong-co"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("so-khong-co"));
}

#[test]
fn a_file_dropped_in_an_agency_folder_is_filed_and_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let drop = dir.path().join("var/drop/so-y-te");
    std::fs::create_dir_all(&drop).unwrap();
    let wb = common::fixtures_dir().join("workbooks/23-PL3_SoYTe.xlsx");
    let dest = drop.join("PL3_SoYTe.xlsx");
    std::fs::copy(&wb, &dest).unwrap();
    std::fs::write(drop.join("~$PL3_SoYTe.xlsx"), b"lock").unwrap();
    // Written "a while ago": settled. (A file still being written is the unit tests' business.)
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&dest)
        .unwrap()
        .set_modified(old)
        .unwrap();

    common::intake_ok(
        dir.path(),
        &["--now", "2018-07-08T10:00:00+07:00", "run", "--once"],
    );
    let s = status(dir.path());
    let row = s["campaigns"][0]["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "so-y-te")
        .unwrap()
        .clone();
    let pl3 = row["deliverables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "pl3")
        .unwrap()
        .clone();
    assert_eq!(pl3["state"], "accepted");
    assert!(!dest.exists(), "the dropped file was moved out of the way");
    assert!(
        drop.join("~$PL3_SoYTe.xlsx").exists(),
        "lock files are left alone"
    );
    let handled = common::tree(&dir.path().join("var/drop/.intake"));
    assert_eq!(handled.len(), 1, "{handled:?}");
    assert!(
        dir.path()
            .join("var/store/742-2018/so-y-te/pl3/v1-PL3_SoYTe.xlsx")
            .exists()
    );
    // A dropped file gets no receipt: there is no one to write to.
    assert!(
        common::tree(&dir.path().join("var/outbox"))
            .iter()
            .all(|f| f.starts_with(".staging"))
    );
}

#[test]
fn configuration_errors_name_the_file_the_key_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for sub in ["campaigns", "rosters", "templates", "forms"] {
        std::fs::create_dir_all(cfg.join(sub)).unwrap();
    }
    for f in [
        "intake.toml",
        "campaigns/742-skhdt-thqh.toml",
        "rosters/langson.toml",
        "forms/742-2018-pl1.toml",
        "forms/742-2018-pl2.toml",
        "forms/742-2018-pl3.toml",
        "templates/receipt.txt",
        "templates/reminder.txt",
        "templates/digest.txt",
    ] {
        std::fs::copy(src.join(f), cfg.join(f)).unwrap();
    }
    let main = cfg.join("intake.toml");
    let ok = common::intake_ok(
        dir.path(),
        &["--config", main.to_str().unwrap(), "check-config"],
    );
    assert!(ok.contains("38 đơn vị × 3 báo cáo"), "{ok}");

    let campaign = cfg.join("campaigns/742-skhdt-thqh.toml");
    let text = std::fs::read_to_string(&campaign)
        .unwrap()
        .replace("2018-07-10T00:00:00+07:00", "10/7/2018");
    std::fs::write(&campaign, text).unwrap();
    let out = common::intake(
        dir.path(),
        &["--config", main.to_str().unwrap(), "check-config"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("742-skhdt-thqh.toml") && err.contains("deadline") && err.contains("RFC 3339"),
        "{err}"
    );
}

#[test]
fn staff_exempt_and_extend_and_status_follows() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let cell = |s: &Value, code: &str, id: &str| -> Value {
        let a = s["campaigns"][0]["agencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .unwrap()
            .clone();
        a["deliverables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .unwrap()
            .clone()
    };
    let before = status(dir.path());
    assert_eq!(before["campaigns"][0]["expected"], 114);
    assert_eq!(cell(&before, "so-y-te", "pl2")["state"], "missing");
    // Đình Lập's Appendix III arrived on 11 July, after the deadline.
    assert_eq!(cell(&before, "ubnd-dinh-lap", "pl3")["late"], true);

    let out = common::intake_ok(
        dir.path(),
        &[
            "exempt",
            "--agency",
            "so-y-te",
            "--deliverable",
            "pl2",
            "--reason",
            "không có số liệu",
            "--by",
            "Trần Thị B",
        ],
    );
    assert!(out.contains("Đã miễn nộp Phụ lục II"), "{out}");
    let out = common::intake_ok(
        dir.path(),
        &[
            "extend",
            "--agency",
            "ubnd-dinh-lap",
            "--until",
            "2018-07-15T00:00:00+07:00",
            "--by",
            "Trần Thị B",
        ],
    );
    assert!(out.contains("Đã gia hạn"), "{out}");

    let after = status(dir.path());
    assert_eq!(
        after["campaigns"][0]["expected"], 113,
        "an exempted deliverable is not expected"
    );
    assert_eq!(cell(&after, "so-y-te", "pl2")["state"], "exempt");
    assert_eq!(
        cell(&after, "ubnd-dinh-lap", "pl3")["late"],
        false,
        "on time under the extension"
    );
    assert_eq!(
        after["campaigns"][0]["on_time"].as_u64().unwrap(),
        before["campaigns"][0]["on_time"].as_u64().unwrap() + 1
    );

    let log: Vec<Value> = serde_json::from_str(&common::intake_ok(
        dir.path(),
        &["log", "--json", "--limit", "2"],
    ))
    .unwrap();
    let kinds: Vec<&str> = log.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["extended", "exempted"]);
    assert!(log.iter().all(|e| e["actor"] == "Trần Thị B"));

    // Unknown codes are refused with a clear message.
    let bad = common::intake(
        dir.path(),
        &["exempt", "--agency", "so-y-te", "--deliverable", "pl9"],
    );
    assert!(
        !bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("pl1, pl2, pl3")
    );
}

#[test]
fn a_bounce_of_a_receipt_marks_it_undelivered_for_staff() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    // A receipt as the outbox wrote it, named by its Message-ID.
    let receipt = common::tree(&dir.path().join("var/outbox"))
        .into_iter()
        .find(|f| f.starts_with("receipt-") && f.ends_with(".eml"))
        .expect("a receipt in the outbox");
    let message_id = receipt.trim_end_matches(".eml").to_string();
    let before = status(dir.path());
    assert_eq!(before["outbox"]["failed"], 0);
    // The agency's server returns it: a delivery report quoting its headers reaches us.
    let dsn = format!(
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.langson.example>\r\n\
To: intake@skhdt.langson.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Date: Thu, 12 Jul 2018 09:05:00 +0700\r\nMessage-ID: <dsn-1@mx.langson.example>\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\nMIME-Version: 1.0\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.langson.example\r\n\r\n\
Final-Recipient: rfc822; so-y-te@langson.example\r\nAction: failed\r\nStatus: 5.2.2\r\n\
Diagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{message_id}>\r\nSubject: Biên nhận\r\n--b--\r\n"
    );
    let config = common::config(dir.path());
    intake::source::maildir::Maildir::open(&config.mailbox.path, config.mailbox.on_filed)
        .unwrap()
        .deliver("1531361100.M1P1.mx", dsn.as_bytes())
        .unwrap();
    common::intake_ok(
        dir.path(),
        &["--now", "2018-07-12T09:10:00+07:00", "run", "--once"],
    );
    let after = status(dir.path());
    assert_eq!(after["outbox"]["failed"], 1, "{}", after["outbox"]);
    let u = &after["undelivered"][0];
    assert!(
        u["error"]
            .as_str()
            .unwrap()
            .contains("552 5.2.2 mailbox full"),
        "{u}"
    );
    let log = common::intake_ok(dir.path(), &["log", "--limit", "20"]);
    assert!(log.contains("thư bị trả lại"), "{log}");
}

#[test]
fn a_closed_pipe_ends_quietly_and_logs_carry_no_colour_off_a_terminal() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    // `intake log --json | head -1`: the reader goes away after one line.
    let mut child = Command::new(common::bin())
        .args(["log", "--json"])
        .current_dir(dir.path())
        .env_remove("INTAKE_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(!first.is_empty());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "{stderr}");

    // Logs written to a pipe (a file, the journal) have no ANSI colour codes, at info level.
    let out = Command::new(common::bin())
        .args(["--now", "2018-07-16T09:00:00+07:00", "run", "--once"])
        .current_dir(dir.path())
        .env_remove("INTAKE_CONFIG")
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}
