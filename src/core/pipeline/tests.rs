//! Tests of examining and planning items.

use super::*;
use crate::config::Config;
use crate::workbook::Inspector;
use crate::workbook::Limits;
use std::path::Path;

fn config() -> Config {
    Config::embedded(Path::new("/x")).unwrap()
}

fn message(
    from: &str,
    subject: &str,
    extra_headers: &str,
    attachment: Option<(&str, &[u8])>,
) -> Vec<u8> {
    use base64::Engine;
    let encode = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut m = format!(
        "Received: from mx by mx.skhdt.langson.example; Thu, 5 Jul 2018 09:00:00 +0700\r\nFrom: {from}\r\nTo: skhdt@langson.example\r\nSubject: {subject}\r\nMessage-ID: <{}@x.example>\r\n{extra_headers}MIME-Version: 1.0\r\n",
        subject.len()
    );
    match attachment {
        None => m.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\nXin chào\r\n"),
        Some((name, bytes)) => m.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nGửi báo cáo\r\n--b\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
            encode(bytes)
        )),
    }
    m.into_bytes()
}

fn inbound(raw: Vec<u8>) -> Inbound {
    Inbound {
        source: SourceKind::Mailbox,
        key: "maildir:test".into(),
        raw,
        seen_at: DateTime::parse_from_rfc3339("2018-07-05T09:00:00+07:00").unwrap(),
        file_name: None,
        folder_agency: None,
        oversize: None,
        auth: None,
    }
}

fn decide(raw: Vec<u8>, prior: &Prior, config: &Config) -> (Examined, Plan) {
    let ex = examine(
        &inbound(raw),
        config,
        &Inspector::new(Limits::default(), None),
        None,
        None,
    );
    let plan = plan(&ex, config, prior);
    (ex, plan)
}

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

#[test]
fn a_report_alone_is_received_and_a_known_one_is_a_duplicate() {
    let config = config();
    let raw = message(
        "so-y-te@langson.example",
        "Báo cáo",
        "",
        Some(("Bao cao KH 2019.pdf", PDF)),
    );
    let (ex, p) = decide(raw.clone(), &Prior::default(), &config);
    assert_eq!(p.outcome, Outcome::Filed);
    assert_eq!(
        p.versions,
        vec![NewVersion {
            deliverable: "pl3".into(),
            version: 1,
            files: vec![0],
            state: VersionState::Received,
            late: false,
            warnings: 0
        }]
    );
    assert_eq!(p.receipt_to.as_deref(), Some("so-y-te@langson.example"));

    // The same content already filed for that deliverable: no new version.
    let mut prior = Prior::default();
    prior.versions.insert(
        "pl3".into(),
        (
            1,
            [ex.files[0].sha256.clone()].into(),
            Some(VersionState::Received),
        ),
    );
    let (_, p) = decide(raw.clone(), &prior, &config);
    assert_eq!((p.outcome, p.versions.len()), (Outcome::Duplicate, 0));

    // Another file: version 2.
    let other = message(
        "so-y-te@langson.example",
        "Báo cáo",
        "",
        Some(("Bao cao KH 2019 (sua).pdf", b"%PDF-1.4\n% v2\n%%EOF\n")),
    );
    let (_, p) = decide(other, &prior, &config);
    assert_eq!(p.versions[0].version, 2);
}

#[test]
fn no_receipt_to_automatic_mail_or_to_ourselves() {
    let config = config();
    let bulk = message(
        "so-y-te@langson.example",
        "Bản tin",
        "Precedence: bulk\r\n",
        Some(("PL3.pdf", PDF)),
    );
    // List and bulk mail with files is neither filed nor answered.
    let (_, p) = decide(bulk, &Prior::default(), &config);
    assert_eq!((p.outcome, p.receipt_to), (Outcome::ListIgnored, None));
    let ooo = message(
        "so-y-te@langson.example",
        "Tự động trả lời: Báo cáo",
        "Auto-Submitted: auto-replied\r\n",
        None,
    );
    let (_, p) = decide(ooo, &Prior::default(), &config);
    assert_eq!((p.outcome, p.receipt_to), (Outcome::AutoReplyIgnored, None));
    let person = message("ban.doc@gmail.example", "Hỏi thăm", "", None);
    assert_eq!(
        decide(person, &Prior::default(), &config).1.outcome,
        Outcome::LeftAlone
    );
    let empty = message("so-y-te@langson.example", "Báo cáo", "", None);
    let (_, p) = decide(empty, &Prior::default(), &config);
    assert_eq!(
        (p.outcome, p.receipt_to.is_some()),
        (Outcome::NoWorkbook, true)
    );
}

#[test]
fn an_oversized_message_is_an_outcome_with_a_receipt_for_a_known_agency() {
    let mut config = config();
    config.limits.max_message_bytes = 500;
    let big = message(
        "so-y-te@langson.example",
        "Báo cáo",
        "",
        Some(("PL1.pdf", &[b'%'; 2000])),
    );
    let (ex, p) = decide(big, &Prior::default(), &config);
    assert_eq!(p.outcome, Outcome::TooLarge);
    assert!(ex.files.is_empty(), "an oversized message is not unpacked");
    assert_eq!(p.receipt_to.as_deref(), Some("so-y-te@langson.example"));
    let junk = decide(
        b"\x00\x01garbage".to_vec(),
        &Prior::default(),
        &self::config(),
    )
    .1;
    assert_eq!(junk.outcome, Outcome::Unreadable);
}

#[test]
fn mail_after_the_deadline_is_late() {
    let config = config();
    let raw = message(
        "so-y-te@langson.example",
        "Báo cáo",
        "",
        Some(("PL3.pdf", PDF)),
    );
    let raw = String::from_utf8(raw).unwrap().replace(
        "Thu, 5 Jul 2018 09:00:00 +0700",
        "Tue, 10 Jul 2018 00:00:01 +0700",
    );
    let (ex, p) = decide(raw.into_bytes(), &Prior::default(), &config);
    assert_eq!(ex.arrived.to_rfc3339(), "2018-07-10T00:00:01+07:00");
    assert_eq!(p.late, Some(true));
    // Under an extension staff granted, the same arrival is on time.
    let extended = Prior {
        extension: Some(DateTime::parse_from_rfc3339("2018-07-15T00:00:00+07:00").unwrap()),
        ..Prior::default()
    };
    assert_eq!(plan(&ex, &config, &extended).late, Some(false));
}
#[test]
fn a_corrected_file_under_a_reused_message_id_is_not_a_duplicate() {
    let config = config();
    let raw = message(
        "so-y-te@langson.example",
        "Báo cáo",
        "",
        Some(("Bao cao KH 2019.pdf", PDF)),
    );
    let mut prior = Prior {
        same_message_id: Some(["0".repeat(64)].into()),
        ..Prior::default()
    };
    assert_eq!(
        decide(raw.clone(), &prior, &config).1.outcome,
        Outcome::Filed
    );
    let (ex, _) = decide(raw.clone(), &Prior::default(), &config);
    prior.same_message_id = Some([ex.files[0].sha256.clone()].into());
    assert_eq!(decide(raw, &prior, &config).1.outcome, Outcome::Duplicate);
}

#[test]
fn personal_mail_that_is_too_big_or_broken_is_left_where_it_is() {
    let mut config = config();
    config.limits.max_message_bytes = 500;
    let photos = message(
        "ban.be@gmail.example",
        "Ảnh đi chơi",
        "",
        Some(("anh.pdf", &[b'%'; 2000])),
    );
    let (_, p) = decide(photos, &Prior::default(), &config);
    assert_eq!(
        (p.outcome, p.acknowledge, p.receipt_to),
        (Outcome::TooLarge, false, None)
    );
    let theirs = message(
        "so-y-te@langson.example",
        "Báo cáo",
        "",
        Some(("PL1.pdf", &[b'%'; 2000])),
    );
    assert!(decide(theirs, &Prior::default(), &config).1.acknowledge);
}

#[test]
fn a_report_no_deliverable_claims_waits_for_staff() {
    let config = config();
    let raw = message(
        "so-y-te@langson.example",
        "Gửi văn bản",
        "",
        Some(("scan0001.pdf", PDF)),
    );
    let (ex, p) = decide(raw, &Prior::default(), &config);
    assert_eq!(ex.files[0].deliverable, None);
    assert_eq!(p.outcome, Outcome::Unclassified);
    assert!(p.outcome.quarantines());
    assert!(
        p.receipt_to.is_some(),
        "the agency hears that staff will look at it"
    );
}

#[test]
fn an_implausible_arrival_stamp_is_not_believed() {
    let config = config();
    for broken in [
        "Mon, 9 Jul 18 10:00:00 +0700",
        "Mon, 9 Jul 2018 25:00:00 +0700",
    ] {
        let raw = message(
            "so-y-te@langson.example",
            "Báo cáo",
            "",
            Some(("PL3.pdf", PDF)),
        );
        let raw = String::from_utf8(raw)
            .unwrap()
            .replace("Thu, 5 Jul 2018 09:00:00 +0700", broken);
        let (ex, _) = decide(raw.into_bytes(), &Prior::default(), &config);
        assert_eq!(
            ex.arrived.to_rfc3339(),
            "2018-07-05T09:00:00+07:00",
            "{broken}: the file time is used"
        );
    }
}

#[test]
fn attachments_in_text_parts_and_tnef_are_handled() {
    use base64::Engine;
    let config = config();
    let b64 = base64::engine::general_purpose::STANDARD.encode(PDF);
    let raw = format!(
        "Received: from mx by mx.skhdt.langson.example; Thu, 5 Jul 2018 09:00:00 +0700\r\nFrom: so-y-te@langson.example\r\nSubject: BC\r\nMessage-ID: <t@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; name=\"KH 2019.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\neJ8+IgAAAA==\r\n--b--\r\n"
    );
    let (ex, p) = decide(raw.into_bytes(), &Prior::default(), &config);
    assert_eq!(ex.files.len(), 1);
    assert_eq!(ex.files[0].bytes, PDF, "decoded, not the base64 text");
    assert!(
        ex.skipped
            .iter()
            .any(|s| s.name == "winmail.dat" && s.reason.contains("TNEF"))
    );
    assert_eq!(p.outcome, Outcome::Filed);
}

#[test]
fn receipts_to_one_address_are_limited_per_hour() {
    let config = config();
    let m = || {
        message(
            "so-y-te@langson.example",
            "Báo cáo",
            "",
            Some(("PL3.pdf", PDF)),
        )
    };
    let below = Prior {
        recent_receipts: config.receipts_per_hour - 1,
        ..Prior::default()
    };
    let (_, p) = decide(m(), &below, &config);
    assert_eq!(p.receipt_to.as_deref(), Some("so-y-te@langson.example"));
    let at_limit = Prior {
        recent_receipts: config.receipts_per_hour,
        ..Prior::default()
    };
    let (_, p) = decide(m(), &at_limit, &config);
    assert_eq!(p.outcome, Outcome::Filed, "the filing itself goes ahead");
    assert_eq!(p.receipt_to, None);
    assert_eq!(
        p.receipt_withheld.as_deref(),
        Some("so-y-te@langson.example")
    );
}

/// A clerk's forward as Outlook writes it in HTML only (no text part), with a report.
fn html_forward(header_block: &str) -> Vec<u8> {
    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD.encode(PDF);
    format!(
        "Received: from mx by mx.skhdt.langson.example; Thu, 5 Jul 2018 11:00:00 +0700\r\nFrom: =?utf-8?B?VsSDbiB0aMawIFPhu58=?= <van-thu@skhdt.langson.example>\r\nTo: skhdt@langson.example\r\nSubject: FW: Bao cao\r\nMessage-ID: <html-fwd@skhdt.langson.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Chuyển phòng THQH.</p><div style=\"border-top:solid #E1E1E1 1.0pt\"><p><b>{header_block}</p></div><p>Kính gửi Sở KH&amp;ĐT.</p></body></html>\r\n--b\r\nContent-Type: application/pdf; name=\"Bao cao KH2019.pdf\"\r\nContent-Disposition: attachment; filename=\"Bao cao KH2019.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n--b--\r\n"
    )
    .into_bytes()
}

#[test]
fn a_clerks_html_forward_is_the_agencys() {
    let config = config();
    for block in [
        "From:</b> Sở Y tế &lt;so-y-te@langson.example&gt;<br><b>Sent:</b> Monday, July 2, 2018 10:15 AM<br><b>To:</b> skhdt@langson.example<br><b>Subject:</b> Báo cáo KH 2019",
        "Từ:</b> Sở Y tế [mailto:so-y-te@langson.example]<br><b>Đã gửi:</b> Thứ Hai, ngày 2 tháng 7 năm 2018 10:15 SA<br><b>Đến:</b> skhdt@langson.example<br><b>Chủ đề:</b> Báo cáo KH 2019",
    ] {
        let (ex, p) = decide(html_forward(block), &Prior::default(), &config);
        assert!(
            matches!(&ex.agency, crate::core::identify::AgencyMatch::Forwarded { code, .. } if code == "so-y-te"),
            "{:?}",
            ex.agency
        );
        assert_eq!(ex.arrived.to_rfc3339(), "2018-07-02T10:15:00+07:00");
        assert_eq!(p.receipt_to.as_deref(), Some("so-y-te@langson.example"));
        assert_eq!(
            p.receipt_cc.as_deref(),
            Some("van-thu@skhdt.langson.example")
        );
    }
}

/// Sở LĐ-TB&XH's own Phụ lục I: the form's heading and columns, only the rows it must fill
/// (`rows`: code, label), numbered its own way.
fn labour_own_table(rows: &[(&str, &str)]) -> Vec<u8> {
    let spec = config()
        .campaigns
        .iter()
        .flat_map(|c| &c.deliverables)
        .find_map(|d| d.spec.clone().filter(|s| s.id == "742-2018-pl1"))
        .unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI")
        .unwrap();
    for (r, line) in (2u32..).zip(&spec.heading) {
        ws.write_string(r, 0, line).unwrap();
    }
    let mut headers = vec!["STT", "Chỉ tiêu", "Đơn vị tính"];
    headers.extend(spec.sheets[0].columns.iter().map(|c| c.label.as_str()));
    for (c, h) in (0u16..).zip(&headers) {
        ws.write_string(7, c, *h).unwrap();
    }
    for (r, (code, label)) in (8u32..).zip(rows) {
        ws.write_string(r, 0, *code).unwrap();
        ws.write_string(r, 1, *label).unwrap();
        // Shares of the labour structure add to 100: 60 + 20 + 20.
        let v = if label.contains("nông") { 60.0 } else { 20.0 };
        for c in 3u16..8 {
            ws.write_number(r, c, v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn a_departments_own_table_of_its_rows_is_filed_as_the_form_it_owes() {
    let config = config();
    let mut rows = vec![
        ("1", "Tỷ lệ hộ nghèo"),
        ("2", "Mức giảm tỷ lệ hộ nghèo"),
        ("3", "Số lao động được tạo việc làm mới"),
        ("4", "Lao động nông, lâm nghiệp và thủy sản"),
        ("5", "Lao động công nghiệp - xây dựng"),
        ("6", "Lao động dịch vụ"),
        ("7", "Tỷ lệ lao động qua đào tạo"),
    ];
    let send = |rows: &[(&str, &str)]| {
        let raw = message(
            "so-ld-tbxh@langson.example",
            "Gửi số liệu",
            "",
            Some(("So lieu LDTBXH.xlsx", &labour_own_table(rows))),
        );
        decide(raw, &Prior::default(), &config)
    };
    // The sender is known from its address, so its 7 rows are Phụ lục I (deliverable pl1).
    let (ex, p) = send(&rows);
    assert_eq!(p.outcome, Outcome::Filed);
    assert_eq!(p.versions.len(), 1);
    assert_eq!(p.versions[0].deliverable, "pl1");
    let v = ex.files[0].validation.as_ref().unwrap();
    assert_eq!(
        (v.form.as_deref(), v.by, v.valid),
        (Some("742-2018-pl1"), Some("content"), true),
        "{:?}",
        v.findings
    );
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(v.data.len(), 7 * 5);
    // One of its rows left out: that row is missing, named by its label; no other row is.
    rows.retain(|(_, l)| *l != "Số lao động được tạo việc làm mới");
    let (ex, _) = send(&rows);
    let v = ex.files[0].validation.as_ref().unwrap();
    assert_eq!(v.form.as_deref(), Some("742-2018-pl1"));
    let rules: Vec<(&str, Option<&str>)> = v
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.indicator.as_deref()))
        .collect();
    assert_eq!(rules, [("thieu-chi-tieu", Some("viec-lam"))]);
    assert!(!v.valid);
    assert!(
        v.findings[0]
            .message
            .contains("\"Số lao động được tạo việc làm mới\""),
        "{}",
        v.findings[0].message
    );
}

/// What examining found of each file, to compare two examinations.
fn facts(ex: &Examined) -> Vec<String> {
    let mut out = vec![format!(
        "{:?} {:?} {:?}",
        ex.agency, ex.campaign, ex.failure
    )];
    for f in &ex.files {
        let v = f.validation.as_ref();
        out.push(format!(
            "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {} {:?} | {:?} {:?} {:?} {:?} {:?} {:?}",
            f.name,
            f.sha256,
            f.check,
            f.deliverable,
            f.marker,
            f.headings,
            f.sheets,
            f.copy_digest,
            f.returned_copy,
            f.kind,
            v.map(|v| &v.form),
            v.map(|v| v.by),
            v.map(|v| v.valid),
            v.map(|v| &v.findings),
            v.map(|v| v.data.len()),
            v.and_then(|v| v.annotated.as_ref().map(|a| sha256_hex(a))),
        ));
    }
    out
}

/// A file examined before is taken from the memo, and what the memo answers is what reading
/// and checking it again would find: for every fixture message, examined a first time (the
/// memo learns), a second time (the memo answers), and from another agency (read from the
/// memo, checked anew).
#[test]
fn the_memo_answers_as_examining_again() {
    let config = config();
    let inspector = Inspector::new(Limits::default(), None);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("mailbox-fixtures");
    let mut names: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    let memo = Memo::default();
    let mut checked = 0;
    for path in &names {
        let item = inbound(std::fs::read(path).unwrap());
        let fresh = examine(&item, &config, &inspector, None, None);
        let first = examine(&item, &config, &inspector, None, Some(&memo));
        let again = examine(&item, &config, &inspector, None, Some(&memo));
        assert_eq!(facts(&first), facts(&fresh), "{}", path.display());
        assert_eq!(facts(&again), facts(&fresh), "{}", path.display());
        let other = examine(&item, &config, &inspector, Some("so-tai-chinh"), None);
        let other_memo = examine(
            &item,
            &config,
            &inspector,
            Some("so-tai-chinh"),
            Some(&memo),
        );
        assert_eq!(facts(&other_memo), facts(&other), "{}", path.display());
        checked += fresh
            .files
            .iter()
            .filter(|f| f.validation.is_some())
            .count();
    }
    assert!(
        checked > 20,
        "the fixtures' workbooks are checked: {checked}"
    );
    let inner = memo.checked_count();
    assert!(inner > 20, "the memo learnt the checks: {inner}");
}
