//! One vocabulary, end to end: the demo's store as of 09:00 on 12 July 2018 (the fixture mail,
//! the receipts, the "3 days overdue" reminders and the digest), and every surface people
//! read rendered from it: the board's pages over HTTP, `intake status`, `intake log`,
//! `intake remind`, `intake check-config`, the mail in the file outbox (decoded) and the two
//! exports. Each must give the same rates and the same overdue span, word numbers and times
//! the Vietnamese way, say why an invalid workbook is invalid, and show no internal id
//! (agency codes, campaign and form ids, `pl3 lần 1`) nor an RFC 3339 time.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::SocketAddr;
use std::path::Path;

use calamine::{Data, Reader};
use intake::board::BoardServer;
use mail_parser::MimeHeaders;
use unicode_normalization::UnicodeNormalization;

const NOW: &str = "2018-07-12T09:00:00+07:00";

/// A surface: its name, and the text people read on it.
type Surfaces = BTreeMap<String, String>;

fn cli(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["--now", NOW];
    all.extend_from_slice(args);
    common::intake_ok(dir, &all)
}

/// The text of an HTML page as people see it: tags (and so links and form values) removed,
/// the entities the board writes decoded.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut skip = false;
    let lower = html.to_lowercase();
    let mut i = 0;
    while i < html.len() {
        let rest = &lower[i..];
        if rest.starts_with("<script") || rest.starts_with("<style") {
            skip = true;
        }
        if rest.starts_with("</script") || rest.starts_with("</style") {
            skip = false;
        }
        let c = html[i..].chars().next().unwrap();
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag && !skip => out.push(c),
            _ => {}
        }
        i += c.len_utf8();
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// Every string cell and sheet name of a workbook, one per line.
fn xlsx_text(bytes: &[u8]) -> String {
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let mut out = String::new();
    for name in wb.sheet_names() {
        out.push_str(&format!("[{name}]\n"));
        let range = wb.worksheet_range(&name).unwrap();
        for row in range.rows() {
            for cell in row {
                // Row codes ("1.1", "2.3") are outline numbers, not decimals.
                let outline = |s: &str| {
                    s.split('.')
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                };
                if let Data::String(s) = cell
                    && !outline(s)
                {
                    out.push_str(s);
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// The text of every mail of the outbox: subject, decoded body, attachment names.
fn outbox(dir: &Path) -> Surfaces {
    let mut mail = Surfaces::new();
    for e in std::fs::read_dir(dir.join("var/outbox")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "eml") {
            continue;
        }
        let raw = std::fs::read(&path).unwrap();
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let mut text = format!(
            "{}\n\n{}\n",
            m.subject().unwrap_or_default(),
            m.body_text(0).unwrap_or_default()
        );
        for a in m.attachments() {
            text.push_str(&format!(
                "[tệp đính kèm: {}]\n",
                a.attachment_name().unwrap_or("?")
            ));
        }
        mail.insert(
            format!("mail {}", path.file_name().unwrap().to_string_lossy()),
            text,
        );
    }
    mail
}

async fn board_pages(dir: &Path) -> Surfaces {
    let mut config = common::config(dir);
    config.board.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let store_dir = config.store_dir.clone();
    let server = BoardServer::bind(config, store_dir, common::inspector(), common::clock(NOW))
        .await
        .expect("the board binds on loopback");
    let addr = server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server.serve(async {
        let _ = rx.await;
    }));
    let http = reqwest::Client::new();
    let mut pages = Surfaces::new();
    for path in [
        "/",
        "/campaign/742-2018",
        "/agency/so-ngoai-vu",
        "/agency/so-y-te",
        "/agency/so-noi-vu",
        "/quarantine",
        "/log",
        "/unverified",
    ] {
        let r = http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "GET {path}");
        pages.insert(format!("board {path}"), visible(&r.text().await.unwrap()));
    }
    for what in ["status", "consolidated"] {
        let r = http
            .get(format!("http://{addr}/export/742-2018/{what}.xlsx"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "export {what}");
        pages.insert(
            format!("board export {what}.xlsx"),
            xlsx_text(&r.bytes().await.unwrap()),
        );
    }
    let _ = tx.send(());
    served.await.unwrap().unwrap();
    pages
}

/// Words of `text` that are ids: an agency code, campaign id, deliverable or form id, or
/// `pl3 lần`-like wording; e-mail addresses are left out (they are addresses, not ids).
fn ids_in(text: &str, ids: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split_whitespace().filter(|w| !w.contains('@')) {
        for token in
            word.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            let token = token.trim_matches('-');
            let coded = ["so-", "ubnd-", "huyen-"]
                .iter()
                .any(|p| token.len() > p.len() + 1 && token.starts_with(p));
            if coded || ids.iter().any(|id| id == token) {
                found.push(token.to_string());
            }
        }
    }
    let b = text.as_bytes();
    for i in 0..b.len().saturating_sub(4) {
        // `pl3 lần 1`: a deliverable id as the log used to word a version.
        if b[i] == b'p'
            && b[i + 1] == b'l'
            && b[i + 2].is_ascii_digit()
            && text[i + 3..].starts_with(" lần")
        {
            found.push(text[i..i + 3].to_string());
        }
        // `2018-07-10T00:00`: an RFC 3339 time.
        if i + 11 <= b.len()
            && b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i + 4] == b'-'
            && b[i + 5..i + 7].iter().all(u8::is_ascii_digit)
            && b[i + 7] == b'-'
            && b[i + 8..i + 10].iter().all(u8::is_ascii_digit)
            && b[i + 10] == b'T'
        {
            found.push(text[i..i + 11].to_string());
        }
    }
    found
}

/// Numbers written with a decimal point (`96.8`): a dot between digits not followed by
/// exactly three digits (which is the thousands dot).
fn decimal_points(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    for i in 1..b.len().saturating_sub(1) {
        if b[i] == b'.' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit() {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let before = b[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let next = b.get(i + 1 + digits).copied();
            let prev = (i > before).then(|| b[i - before - 1]);
            // Dotted quads (an address) and versions are not numbers people read.
            if digits != 3 && next != Some(b'.') && prev != Some(b'.') && before <= 6 {
                found.push(text[i - before..i + 1 + digits].to_string());
            }
        }
    }
    found
}

/// What follows each `name` on a surface, as far as a `%`: `21,1%`.
fn rates_named(text: &str, name: &str) -> Vec<String> {
    text.match_indices(name)
        .filter_map(|(i, _)| {
            let rest = text[i + name.len()..].trim_start_matches([':', ' ']);
            let value: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.' || *c == '%')
                .collect();
            value.ends_with('%').then_some(value)
        })
        .collect()
}

/// Each `quá hạn …` span on a surface: its numbers and units (`3 ngày`, `2 ngày 9 giờ`).
fn overdue_spans(text: &str) -> Vec<String> {
    text.match_indices("quá hạn ")
        .map(|(i, m)| {
            let words: Vec<&str> = text[i + m.len()..].split_whitespace().take(6).collect();
            let mut span = Vec::new();
            for pair in words.chunks(2) {
                let [n, unit] = pair else { break };
                let unit = unit.trim_end_matches(['.', ',', ')', ';', ':']);
                if !n.chars().all(|c| c.is_ascii_digit())
                    || !["ngày", "giờ", "phút"].contains(&unit)
                {
                    break;
                }
                span.push(format!("{n} {unit}"));
                if unit.len() != pair[1].len() {
                    break;
                }
            }
            span.join(" ")
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// `n / of` as people are told it: one decimal, a decimal comma.
fn share(n: u64, of: u64) -> String {
    format!("{:.1}%", 100.0 * n as f64 / of as f64).replace('.', ",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_surface_words_the_same_facts_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let fixtures = common::fixtures_dir();
    cli(
        dir,
        &["demo", "--once", "--fixtures", fixtures.to_str().unwrap()],
    );

    let status: serde_json::Value = serde_json::from_str(&cli(dir, &["status", "--json"])).unwrap();
    let c = &status["campaigns"][0];
    let n = |k: &str| c[k].as_u64().unwrap();
    assert!(
        n("received") > n("valid"),
        "the demo must tell the two rates apart"
    );
    let expected_rates = [
        ("Tỷ lệ nộp báo cáo", share(n("received"), n("expected"))),
        ("Tỷ lệ hợp lệ", share(n("valid"), n("expected"))),
        ("Tỷ lệ đúng hạn", share(n("on_time"), n("expected"))),
    ];

    let mut surfaces = Surfaces::new();
    surfaces.insert("intake status".into(), cli(dir, &["status"]));
    surfaces.insert("intake log".into(), cli(dir, &["log", "--limit", "500"]));
    surfaces.insert(
        "intake remind".into(),
        cli(dir, &["remind", "--dry-run", "--agency", "so-ngoai-vu"]),
    );
    surfaces.insert("intake check-config".into(), cli(dir, &["check-config"]));
    for what in ["status", "consolidated"] {
        let out = dir.join(format!("{what}.xlsx"));
        cli(dir, &["export", what, "--out", out.to_str().unwrap()]);
        surfaces.insert(
            format!("intake export {what}"),
            xlsx_text(&std::fs::read(&out).unwrap()),
        );
    }
    let mail = outbox(dir);
    assert!(
        mail.keys().any(|k| k.contains("digest")),
        "no digest in {mail:?}"
    );
    assert!(mail.keys().any(|k| k.contains("reminder")));
    assert!(mail.keys().any(|k| k.contains("receipt")));
    surfaces.extend(mail.clone());
    surfaces.extend(board_pages(dir).await);
    // WORDS_DUMP=DIR keeps every surface as text, to read them side by side.
    if let Some(out) = std::env::var_os("WORDS_DUMP") {
        let out = Path::new(&out);
        std::fs::create_dir_all(out).unwrap();
        for (name, text) in &surfaces {
            let file: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            std::fs::write(out.join(format!("{file}.txt")), text).unwrap();
        }
    }

    // The three rates: the same name and value wherever one is shown, and shown on the board,
    // the CLI, the digest and the status export.
    for (name, value) in &expected_rates {
        for (surface, text) in &surfaces {
            for got in rates_named(text, name) {
                assert_eq!(&got, value, "{surface}: {name}");
            }
        }
        for surface in [
            "intake status",
            "board /",
            "board /campaign/742-2018",
            "intake export status",
        ] {
            assert!(
                rates_named(&surfaces[surface], name).contains(value),
                "{surface} does not show {name} {value}:\n{}",
                surfaces[surface]
            );
        }
        let digest = mail.iter().find(|(k, _)| k.contains("digest")).unwrap().1;
        assert!(
            rates_named(digest, name).contains(value),
            "digest: {name}\n{digest}"
        );
    }

    // Overdue: the last day was 09/07, so at 09:00 on 12/07 it is 3 days, on every surface
    // that says it (the campaign, and an agency that sent nothing).
    let mut spans = Vec::new();
    for (surface, text) in &surfaces {
        for s in overdue_spans(text) {
            spans.push((surface.clone(), s));
        }
    }
    for must in ["intake status", "board /", "board /agency/so-ngoai-vu"] {
        assert!(
            spans.iter().any(|(s, _)| s == must),
            "{must} says nothing overdue"
        );
    }
    assert!(spans.iter().any(|(s, _)| s.contains("digest")));
    assert!(spans.iter().any(|(s, _)| s.contains("reminder")));
    for (surface, span) in &spans {
        assert_eq!(span, "3 ngày", "{surface}");
    }

    // The digest: arrival times as the receipts give them, and why each is invalid.
    let digest = mail.iter().find(|(k, _)| k.contains("digest")).unwrap().1;
    let invalid: Vec<&str> = digest
        .lines()
        .skip_while(|l| !l.contains("KHÔNG HỢP LỆ"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("- ["))
        .collect();
    assert!(invalid.len() >= 2, "{digest}");
    assert!(!digest.contains(" 0 lỗi"), "{digest}");
    assert!(
        invalid.iter().any(|l| l.contains("không có số liệu")),
        "{digest}"
    );
    for line in &invalid {
        let number = &line[line.find('[').unwrap()..=line.find(']').unwrap()];
        let arrived = line.rsplit("nhận lúc ").next().unwrap().trim();
        let receipt = mail
            .values()
            .find(|m| m.lines().next().unwrap().contains(number))
            .unwrap_or_else(|| panic!("no receipt {number}"));
        assert!(
            receipt.contains(&format!("lúc {arrived}")),
            "{number}: the digest says {arrived}, the receipt:\n{receipt}"
        );
    }

    // Reminders give the same reason as the digest: Sở Nội vụ's workbook holds no data.
    let noi_vu = mail
        .values()
        .find(|m| m.contains("Kính gửi: Sở Nội vụ.") && m.starts_with("Nhắc nộp"))
        .expect("Sở Nội vụ is reminded");
    assert!(
        noi_vu.contains("chưa dùng được (không có số liệu)"),
        "{noi_vu}"
    );

    // Blank forms are named by label and agency.
    let ngoai_vu = mail
        .values()
        .find(|m| m.contains("Kính gửi: Sở Ngoại vụ.") && m.starts_with("Nhắc nộp"))
        .expect("Sở Ngoại vụ is reminded");
    assert!(
        ngoai_vu.contains("[tệp đính kèm: Phụ lục II - Sở Ngoại vụ.xlsx]"),
        "{ngoai_vu}"
    );

    // No id, no RFC 3339 time, no decimal point, and NFC, anywhere.
    let config = common::config(dir);
    let mut ids: Vec<String> = config.agencies().iter().map(|a| a.code.clone()).collect();
    for c in &config.campaigns {
        ids.push(c.id.clone());
        for d in &c.deliverables {
            ids.push(d.id.clone());
            ids.extend(d.form.clone());
        }
    }
    assert!(ids.iter().any(|i| i == "so-y-te") && ids.iter().any(|i| i == "742-2018-pl2"));
    for (surface, text) in &surfaces {
        let found = ids_in(text, &ids);
        assert!(found.is_empty(), "{surface} shows ids {found:?}:\n{text}");
        if surface != "intake check-config" {
            let found = decimal_points(text);
            assert!(found.is_empty(), "{surface} writes {found:?}:\n{text}");
        }
        assert!(text.nfc().eq(text.chars()), "{surface} is not NFC");
    }
}

#[test]
fn the_checks_of_this_test_can_fail() {
    let ids = ["so-y-te".to_string(), "742-2018".to_string()];
    assert_eq!(ids_in("cho đơn vị so-y-te.", &ids), ["so-y-te"]);
    assert!(ids_in("so-y-te@langson.example", &ids).is_empty());
    assert_eq!(ids_in("Đợt 742-2018", &ids), ["742-2018"]);
    assert_eq!(ids_in("(so-khong-co)", &ids), ["so-khong-co"]);
    assert_eq!(ids_in("x.xlsx → pl3 lần 1", &ids), ["pl3"]);
    assert_eq!(
        ids_in("hạn 2018-07-10T00:00:00+07:00", &ids),
        ["2018-07-10T"]
    );
    assert_eq!(decimal_points("975 so với 96.8"), ["96.8"]);
    assert!(decimal_points("1.234.567 và 127.0.0.1").is_empty());
    assert_eq!(
        rates_named("Tỷ lệ hợp lệ: 17,5% · x", "Tỷ lệ hợp lệ"),
        ["17,5%"]
    );
    assert_eq!(overdue_spans("(đã quá hạn 2 ngày 9 giờ)"), ["2 ngày 9 giờ"]);
    assert_eq!(visible("<p class=\"so-y-te\">Sở &amp; Y</p>"), " Sở & Y ");
}
