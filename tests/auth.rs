//! Trusted senders end to end with real parts: a private DNS server (dnsmasq on loopback)
//! publishes DKIM keys and DMARC policies, test mail is signed by an independent signer
//! (dkimpy) and by mail-auth, and the real `intake` binary takes it in from its Maildir with
//! `[auth] nameservers` pointed at that server. What the store, the intake log and the file
//! outbox say afterwards is checked: forged submissions never counted nor answered, clerks'
//! forwards filed as the agency's, list mail and our own copies never filed, resends and
//! out-of-round mail answered.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::dkim::{DkimKey, sign_dkimpy, sign_mail_auth};
use common::dns::DnsServer;
use intake::store::Store;
use intake::store::query::{self, ItemSummary, LogFilter};

/// During the round, after office hours on 5 July 2018: no reminder or digest goes.
const NOW: &str = "2018-07-05T18:00:00+07:00";
const OUR_MX: &str = "mx.skhdt.langson.example";
const CLERK: &str = "van-thu@skhdt.langson.example";

/// A test installation: the shipped configuration copied, `[auth]` pointed at `dns`.
struct Site {
    dir: tempfile::TempDir,
    config: PathBuf,
    delivered: usize,
}

impl Site {
    fn new(dns: &DnsServer) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let cfg = dir.path().join("config");
        for sub in ["campaigns", "rosters", "forms", "templates"] {
            std::fs::create_dir_all(cfg.join(sub)).unwrap();
            for e in std::fs::read_dir(src.join(sub)).unwrap().flatten() {
                std::fs::copy(e.path(), cfg.join(sub).join(e.file_name())).unwrap();
            }
        }
        let main = std::fs::read_to_string(src.join("intake.toml"))
            .unwrap()
            .replace(
                "\n[auth]\n",
                &format!(
                    "\n[auth]\nnameservers = [\"{}\"]\ntrusted_authserv_ids = [\"{OUR_MX}\"]\n",
                    dns.addr()
                ),
            )
            .replace("timeout_ms = 2000", "timeout_ms = 1500")
            .replace("[board]\n", "[board]\nenabled = false\n")
            .replace("\nenabled = true\n", "\n");
        let config = cfg.join("intake.toml");
        std::fs::write(&config, main).unwrap();
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(dir.path().join("var/maildir").join(sub)).unwrap();
        }
        Site {
            dir,
            config,
            delivered: 0,
        }
    }

    /// Puts a message into the mailbox; returns its source key.
    fn deliver(&mut self, raw: &[u8]) -> String {
        self.delivered += 1;
        let unique = format!(
            "{}.auth{:03}.test",
            1_530_000_000 + self.delivered,
            self.delivered
        );
        let tmp = self.dir.path().join("var/maildir/tmp").join(&unique);
        std::fs::write(&tmp, raw).unwrap();
        std::fs::rename(&tmp, self.dir.path().join("var/maildir/new").join(&unique)).unwrap();
        format!("maildir:{unique}")
    }

    fn intake(&self, args: &[&str]) -> std::process::Output {
        self.intake_at(NOW, args)
    }

    fn intake_at(&self, now: &str, args: &[&str]) -> std::process::Output {
        let mut all = vec!["--config", self.config.to_str().unwrap(), "--now", now];
        all.extend_from_slice(args);
        common::intake(self.dir.path(), &all)
    }

    /// One pass of the daemon; returns how long it took.
    fn run(&self) -> Duration {
        let started = Instant::now();
        let out = self.intake(&["run", "--once"]);
        assert!(
            out.status.success(),
            "intake run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    }

    fn store(&self) -> Store {
        Store::open_read(&self.dir.path().join("var/store")).unwrap()
    }

    fn item(&self, key: &str) -> ItemSummary {
        query::item_summary(&self.store(), key)
            .unwrap()
            .unwrap_or_else(|| panic!("{key} was not recorded"))
    }

    /// The intake log's newest event of a message's outcome, with its authentication.
    fn outcome_event(&self, key: &str) -> query::Event {
        let item = self.item(key);
        query::events(&self.store(), &LogFilter::default())
            .unwrap()
            .into_iter()
            .find(|e| e.kind == item.outcome && e.message.is_some())
            .unwrap()
    }

    /// Every mail written to the file outbox: (To, Cc, subject, body), oldest first.
    fn outbox(&self) -> Vec<(String, String, String, String)> {
        let dir = self.dir.path().join("var/outbox");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|x| x == "eml"));
        files.sort();
        files
            .iter()
            .map(|p| {
                let raw = std::fs::read(p).unwrap();
                let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
                let addr = |a: Option<&mail_parser::Address<'_>>| {
                    a.map(|a| {
                        a.iter()
                            .filter_map(|x| x.address())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default()
                };
                (
                    addr(m.to()),
                    addr(m.cc()),
                    m.subject().unwrap_or_default().to_string(),
                    m.body_text(0).unwrap_or_default().into_owned(),
                )
            })
            .collect()
    }

    /// The outbox's recipients and subjects, for assertion messages.
    fn outbox_summary(&self) -> Vec<(String, String)> {
        self.outbox().into_iter().map(|m| (m.0, m.2)).collect()
    }

    fn versions(&self) -> u32 {
        query::totals(&self.store()).unwrap().versions
    }
}

fn workbook(name: &str) -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join("workbooks").join(name)).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    let s = base64::engine::general_purpose::STANDARD.encode(bytes);
    s.as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A message as an agency's client writes it: headers, a text body, one attached file.
fn message(
    from: &str,
    headers: &str,
    subject: &str,
    body: &str,
    file: Option<(&str, &[u8])>,
) -> Vec<u8> {
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    // Our own server's stamp: arrival is its date, during the round.
    let mut m = format!(
        "Received: by {OUR_MX} with ESMTP id a{n}; Thu, 5 Jul 2018 09:{:02}:05 +0700\r\nFrom: {from}\r\nTo: skhdt@langson.example\r\nSubject: {subject}\r\nDate: Thu, 5 Jul 2018 09:{:02}:00 +0700\r\nMessage-ID: <auth-test-{n}-{}@client.example>\r\nMIME-Version: 1.0\r\n{headers}",
        n % 60,
        n % 60,
        std::process::id()
    );
    match file {
        None => m.push_str(&format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
        )),
        Some((name, bytes)) => m.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{n}\"\r\n\r\n--b{n}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n--b{n}\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b{n}--\r\n",
            b64(bytes)
        )),
    }
    m.into_bytes()
}

/// A forward with the original attached as message/rfc822.
fn forward_attached(from: &str, inner: &[u8]) -> Vec<u8> {
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!(
        "Received: by {OUR_MX} with ESMTP id f{n}; Thu, 5 Jul 2018 11:00:05 +0700\r\nFrom: {from}\r\nTo: skhdt@langson.example\r\nSubject: Fwd: Báo cáo\r\nDate: Thu, 5 Jul 2018 11:00:00 +0700\r\nMessage-ID: <fwd-{n}-{}@skhdt.langson.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"f{n}\"\r\n\r\n--f{n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nChuyển tiếp thư của đơn vị.\r\n--f{n}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n{}\r\n--f{n}--\r\n",
        std::process::id(),
        String::from_utf8_lossy(inner)
    )
    .into_bytes()
}

fn pl2() -> Vec<u8> {
    workbook("02-Phu_luc_II_-_So_Tai_chinh.xlsx")
}

fn records_with(key: &DkimKey, dmarc: Option<&str>) -> Vec<(String, String)> {
    let mut r = vec![("sel._domainkey.langson.example".to_string(), key.txt())];
    if let Some(p) = dmarc {
        r.push(("_dmarc.langson.example".into(), p.into()));
    }
    r
}

fn dns(records: &[(String, String)]) -> DnsServer {
    let refs: Vec<(&str, &str)> = records
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    DnsServer::start(&refs)
}

fn key() -> &'static DkimKey {
    static KEY: std::sync::OnceLock<DkimKey> = std::sync::OnceLock::new();
    KEY.get_or_init(DkimKey::generate)
}

#[test]
fn signed_and_aligned_mail_is_filed_and_marked_pass_by_either_signer() {
    let dns = dns(&records_with(key(), Some("v=DMARC1; p=reject")));
    let mut site = Site::new(&dns);
    let raw = message(
        "Sở Tài chính <so-tai-chinh@langson.example>",
        "",
        "Báo cáo Phụ lục II",
        "Kính gửi Sở KH&ĐT.",
        Some(("Phu luc II - So Tai chinh.xlsx", &pl2())),
    );
    let by_dkimpy = site.deliver(&sign_dkimpy(&raw, "langson.example", "sel", key()));
    let other = message(
        "Sở Y tế <so-y-te@langson.example>",
        "",
        "Báo cáo Phụ lục I",
        "Kính gửi Sở KH&ĐT.",
        Some(("PL1_SoYTe.xlsx", &workbook("01-PL1_SoYTe.xlsx"))),
    );
    let by_mail_auth = site.deliver(&sign_mail_auth(&other, "langson.example", "sel", key()));
    site.run();
    for key in [&by_dkimpy, &by_mail_auth] {
        let item = site.item(key);
        assert_eq!(item.outcome, "filed", "{key}: {item:?}");
        let e = site.outcome_event(key);
        assert_eq!(e.auth.as_deref(), Some("pass"), "{e:?}");
        let evidence = e.auth_evidence.unwrap().to_string();
        assert!(evidence.contains("\"aligned\":true"), "{evidence}");
    }
    // Each got its receipt, at its From.
    let out = site.outbox();
    assert!(out.iter().any(|m| m.0 == "so-tai-chinh@langson.example"));
    assert!(out.iter().any(|m| m.0 == "so-y-te@langson.example"));

    // The same signed bytes altered in transit (a figure changed) no longer pass: with the
    // domain's p=reject, they are held.
    let signed = sign_dkimpy(&raw, "langson.example", "sel", key());
    let tampered = String::from_utf8(signed)
        .unwrap()
        .replace("Kính gửi Sở KH&ĐT.", "Kính gửi Sở KH&ĐT!")
        .replace("auth-test-", "auth-tampered-");
    let k = site.deliver(tampered.as_bytes());
    site.run();
    assert_eq!(site.item(&k).outcome, "sender-unverified");
}

#[test]
fn a_forged_from_of_a_reject_domain_is_held_noticed_once_and_released_by_staff() {
    let dns = dns(&records_with(key(), Some("v=DMARC1; p=reject")));
    let mut site = Site::new(&dns);
    let forged = || {
        message(
            "Sở Tài chính <so-tai-chinh@langson.example>",
            "Reply-To: attacker@evil.example\r\n",
            "Phụ lục II (bản sửa)",
            "Gửi lại số liệu.",
            Some(("Phu luc II.xlsx", &pl2())),
        )
    };
    let first = site.deliver(&forged());
    let second = site.deliver(&forged());
    site.run();
    for k in [&first, &second] {
        let item = site.item(k);
        assert_eq!(item.outcome, "sender-unverified", "{item:?}");
        assert!(
            item.files.iter().all(|f| f.version.is_none()),
            "not counted"
        );
    }
    assert_eq!(site.versions(), 0, "nothing counted");
    let e = site.outcome_event(&first);
    assert_eq!(e.auth.as_deref(), Some("fail"));
    assert!(
        e.auth_evidence.unwrap().to_string().contains("reject"),
        "the evidence names the policy"
    );
    // No receipt to anyone; one notice to the agency's registered address, not two.
    let out = site.outbox();
    assert!(
        out.iter().all(|m| !m.0.contains("evil.example")),
        "{:?}",
        site.outbox_summary()
    );
    let notices: Vec<_> = out
        .iter()
        .filter(|m| m.2.contains("không qua được kiểm tra người gửi"))
        .collect();
    assert_eq!(notices.len(), 1, "{:?}", site.outbox_summary());
    assert_eq!(notices[0].0, "so-tai-chinh@langson.example");
    assert_eq!(out.len(), 1, "only the notice: {:?}", site.outbox_summary());
    // The status matrix does not count it.
    let status = String::from_utf8(site.intake(&["status", "--json"]).stdout).unwrap();
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert!(
        !status
            .to_string()
            .contains("\"so-tai-chinh\",\"deliverable\":\"pl2\",\"state\":\"accepted\""),
        "{status}"
    );

    // Releasing without a reason is refused; with one, it is filed as the agency's.
    let id = query::events(&site.store(), &LogFilter::default())
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "sender-unverified")
        .and_then(|e| e.message)
        .unwrap();
    let receipt_no = intake::store::receipt_number(id);
    let refused = site.intake(&["release", &receipt_no, "--reason", " "]);
    assert!(!refused.status.success());
    let ok = site.intake(&[
        "release",
        &receipt_no,
        "--reason",
        "Đã gọi điện xác nhận với Sở Tài chính",
        "--by",
        "Nguyễn Văn A",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(site.versions(), 1);
    let released = query::events(&site.store(), &LogFilter::default())
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "released")
        .expect("the release is in the log");
    assert_eq!(released.actor.as_deref(), Some("Nguyễn Văn A"));
    assert!(released.detail.unwrap().contains("Đã gọi điện"));
    // The receipt of the released message goes to the registered address, never Reply-To.
    assert!(site.outbox().iter().all(|m| !m.0.contains("evil.example")));
}

#[test]
fn authentication_results_count_only_from_our_own_server_above_outside_hops() {
    // No DMARC record: only our server's word can hold a message.
    let dns = dns(&records_with(key(), None));
    let mut site = Site::new(&dns);
    let ar = |id: &str| {
        format!(
            "Authentication-Results: {id}; spf=fail smtp.mailfrom=attacker@evil.example; dmarc=fail header.from=langson.example\r\n"
        )
    };
    let books = [
        pl2(),
        workbook("08-PL2_STNMT.xlsx"),
        workbook("16-PL2_-_So_Tu_phap.xlsx"),
    ];
    let next = std::cell::Cell::new(0);
    let with_headers = |headers: String| {
        // Headers go above the message's own, as a server prepends them; each a new workbook.
        let book = &books[next.get()];
        next.set(next.get() + 1);
        let body = message(
            "Sở Tài chính <so-tai-chinh@langson.example>",
            "",
            "Phụ lục II",
            "Số liệu.",
            Some(("PL2.xlsx", book)),
        );
        let mut raw = headers.into_bytes();
        raw.extend_from_slice(&body);
        raw
    };
    let trusted = site.deliver(&with_headers(format!(
        "Received: from mail.evil.example (mail.evil.example [192.0.2.66]) by {OUR_MX} with ESMTP id 1; Thu, 5 Jul 2018 09:00:00 +0700\r\n{}",
        ar(OUR_MX)
    )));
    let untrusted_id = site.deliver(&with_headers(ar("mx.evil.example")));
    let below_outside = site.deliver(&with_headers(format!(
        "Received: from x.evil.example by mail.evil.example with ESMTP id 2; Thu, 5 Jul 2018 08:59:00 +0700\r\n{}",
        ar(OUR_MX)
    )));
    site.run();
    assert_eq!(site.item(&trusted).outcome, "sender-unverified");
    assert_eq!(site.outcome_event(&trusted).auth.as_deref(), Some("fail"));
    for k in [&untrusted_id, &below_outside] {
        let item = site.item(k);
        let e = site.outcome_event(k);
        assert_eq!(
            (item.outcome.as_str(), e.auth.as_deref()),
            ("filed", Some("none")),
            "{k}: {item:?}"
        );
        let evidence = e.auth_evidence.unwrap().to_string();
        assert!(evidence.contains("ignored"), "{evidence}");
    }
}

#[test]
fn reply_to_and_sender_never_make_an_agency() {
    let dns = dns(&records_with(key(), Some("v=DMARC1; p=reject")));
    let mut site = Site::new(&dns);
    let k = site.deliver(&message(
        "Nguyen Van B <attacker@evil.example>",
        "Reply-To: so-tai-chinh@langson.example\r\nSender: so-tai-chinh@langson.example\r\n",
        "Số liệu",
        "Xem tệp.",
        Some(("book.xlsx", &pl2())),
    ));
    site.run();
    let item = site.item(&k);
    assert_ne!(item.agency_match, "address", "{item:?}");
    assert!(item.files.iter().all(|f| f.version.is_none()));
    assert!(
        site.outbox().iter().all(|m| !m.0.contains("so-tai-chinh")),
        "{:?}",
        site.outbox_summary()
    );
}

#[test]
fn unsigned_mail_of_a_domain_without_dmarc_is_filed_and_marked() {
    let dns = dns(&records_with(key(), None));
    let mut site = Site::new(&dns);
    let k = site.deliver(&message(
        "Sở Tài chính <so-tai-chinh@langson.example>",
        "",
        "Phụ lục II",
        "Số liệu.",
        Some(("PL2.xlsx", &pl2())),
    ));
    site.run();
    assert_eq!(site.item(&k).outcome, "filed");
    assert_eq!(site.outcome_event(&k).auth.as_deref(), Some("none"));
    assert_eq!(site.versions(), 1);
}

#[test]
fn a_dns_outage_files_as_temperror_within_the_timeout() {
    let mut dns = dns(&records_with(key(), Some("v=DMARC1; p=reject")));
    let mut site = Site::new(&dns);
    dns.stop();
    let raw = message(
        "Sở Tài chính <so-tai-chinh@langson.example>",
        "",
        "Phụ lục II",
        "Số liệu.",
        Some(("PL2.xlsx", &pl2())),
    );
    let signed = site.deliver(&sign_dkimpy(&raw, "langson.example", "sel", key()));
    let unsigned = site.deliver(&message(
        "Sở Y tế <so-y-te@langson.example>",
        "",
        "Phụ lục I",
        "Số liệu.",
        Some(("PL1_SoYTe.xlsx", &workbook("01-PL1_SoYTe.xlsx"))),
    ));
    let took = site.run();
    for k in [&signed, &unsigned] {
        assert_eq!(site.item(k).outcome, "filed", "{k}");
        assert_eq!(site.outcome_event(k).auth.as_deref(), Some("temperror"));
    }
    // One timeout (1.5 s) for the batch, plus the pass itself; never one per message.
    assert!(took < Duration::from_secs(12), "the pass took {took:?}");
}

/// A clerk's forward, inline, as clients write it.
fn inline_forward(intro: &str, from_label: &str, date_line: &str, subject_label: &str) -> String {
    format!(
        "Chuyển Phòng THQH.\r\n\r\n{intro}\r\n{from_label} Sở Tài chính <so-tai-chinh@langson.example>\r\n{date_line}\r\n{subject_label} Báo cáo Phụ lục II\r\nTo: skhdt@langson.example\r\n\r\nKính gửi Sở KH&ĐT, gửi kèm Phụ lục II.\r\n"
    )
}

#[test]
fn clerks_forwards_are_filed_as_the_agencys_with_the_clerk_in_copy() {
    let dns = dns(&records_with(key(), None));
    let mut site = Site::new(&dns);
    let forms = [
        inline_forward(
            "---------- Forwarded message ---------",
            "From:",
            "Date: Mon, Jul 2, 2018 at 10:15 AM",
            "Subject:",
        ),
        inline_forward(
            "---------- Thư đã chuyển tiếp ----------",
            "Từ:",
            "Ngày: Th 2, 2 thg 7, 2018 lúc 10:15",
            "Tiêu đề:",
        ),
        inline_forward(
            "-----Original Message-----",
            "From:",
            "Sent: Monday, July 2, 2018 10:15 AM",
            "Subject:",
        ),
        inline_forward(
            "________________________________",
            "Người gửi:",
            "Đã gửi: Thứ Hai, ngày 2 tháng 7 năm 2018 10:15 SA",
            "Chủ đề:",
        ),
        inline_forward(
            "-------- Forwarded Message --------",
            "From:",
            "Date: Mon, 2 Jul 2018 10:15:00 +0700",
            "Subject:",
        ),
        inline_forward(
            "Bắt đầu thư được chuyển tiếp:",
            "Từ:",
            "Ngày: 2 tháng 7, 2018 lúc 10:15 GMT+7",
            "Chủ đề:",
        ),
    ];
    let mut keys = Vec::new();
    for body in &forms {
        keys.push(site.deliver(&message(
            &format!("Văn thư <{CLERK}>"),
            "",
            "Fwd: Báo cáo Phụ lục II",
            body,
            Some(("PL2.xlsx", &pl2())),
        )));
    }
    let inner = message(
        "Sở Tài chính <so-tai-chinh@langson.example>",
        "",
        "Phụ lục II",
        "Số liệu.",
        Some(("PL2 bis.xlsx", &workbook("08-PL2_STNMT.xlsx"))),
    );
    let attached = site.deliver(&forward_attached(CLERK, &inner));
    site.run();
    for k in keys.iter().chain([&attached]) {
        let item = site.item(k);
        assert_eq!(
            (item.agency.as_deref(), item.agency_match.as_str()),
            (Some("so-tai-chinh"), "forwarded"),
            "{k}: {item:?}"
        );
    }
    // Arrival is the original's date: 2 July, not the clerk's 5 July.
    let first = site.outcome_event(&keys[0]);
    assert!(first.detail.unwrap_or_default().contains(CLERK));
    let receipts: Vec<_> = site
        .outbox()
        .into_iter()
        .filter(|m| m.2.starts_with("Biên nhận"))
        .collect();
    assert!(!receipts.is_empty());
    for r in &receipts {
        assert_eq!(
            (r.0.as_str(), r.1.as_str()),
            ("so-tai-chinh@langson.example", CLERK)
        );
    }
    assert!(receipts[0].3.contains("02/07/2018"), "{}", receipts[0].3);
}

#[test]
fn an_outsiders_forward_is_sure_only_when_the_attached_original_is_signed() {
    let dns = dns(&records_with(key(), Some("v=DMARC1; p=reject")));
    let mut site = Site::new(&dns);
    let original = message(
        "Sở Tài chính <so-tai-chinh@langson.example>",
        "",
        "Phụ lục II",
        "Số liệu.",
        Some(("PL2.xlsx", &pl2())),
    );
    let signed = sign_dkimpy(&original, "langson.example", "sel", key());
    let sure = site.deliver(&forward_attached("someone@gmail.example", &signed));
    let unsigned = site.deliver(&forward_attached("someone@gmail.example", &original));
    site.run();
    let item = site.item(&sure);
    assert_eq!(
        (item.agency.as_deref(), item.agency_match.as_str()),
        (Some("so-tai-chinh"), "forwarded"),
        "{item:?}"
    );
    let item = site.item(&unsigned);
    assert_ne!(item.agency_match, "forwarded", "{item:?}");
    assert!(item.files.iter().all(|f| f.version.is_none()));
}

#[test]
fn list_mail_is_logged_not_queued() {
    let dns = dns(&records_with(key(), None));
    let mut site = Site::new(&dns);
    let k = site.deliver(&message(
        "Ban tin <news@lists.example>",
        "List-Id: <bantin.lists.example>\r\nPrecedence: bulk\r\n",
        "Bản tin tuần",
        "Số liệu.",
        Some(("So lieu.xlsx", &pl2())),
    ));
    site.run();
    assert_eq!(site.item(&k).outcome, "list-ignored");
    assert!(site.outbox().is_empty(), "{:?}", site.outbox_summary());
}

#[test]
fn resends_and_mail_out_of_the_round_are_answered() {
    let dns = dns(&records_with(key(), None));
    let mut site = Site::new(&dns);
    let send = || {
        message(
            "Sở Tài chính <so-tai-chinh@langson.example>",
            "",
            "Phụ lục II",
            "Số liệu.",
            Some(("PL2.xlsx", &pl2())),
        )
    };
    let first = site.deliver(&send());
    site.run();
    let again = site.deliver(&send());
    site.run();
    assert_eq!(site.item(&first).outcome, "filed");
    assert_eq!(site.item(&again).outcome, "duplicate");
    let out = site.outbox();
    assert_eq!(out.len(), 2, "{:?}", site.outbox_summary());
    assert!(
        out[1].3.contains("đã được tiếp nhận trước đây"),
        "{}",
        out[1].3
    );
    assert!(out[1].3.contains("lần nộp thứ 1"), "{}", out[1].3);

    // After the round closed (31 October 2018): kept, and told so.
    let after = String::from_utf8(message(
        "Sở Tài chính <so-tai-chinh@langson.example>",
        "",
        "Phụ lục II bổ sung",
        "Số liệu.",
        Some(("PL2 bo sung.xlsx", &workbook("08-PL2_STNMT.xlsx"))),
    ))
    .unwrap()
    .replace("Thu, 5 Jul 2018", "Mon, 5 Nov 2018");
    let late = site.deliver(after.as_bytes());
    let out = site.intake_at("2018-11-05T18:00:00+07:00", &["run", "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(site.item(&late).outcome, "no-campaign");
    let mail = site.outbox();
    let last = mail.last().unwrap();
    assert!(last.3.contains("đã kết thúc"), "{}", last.3);
}

#[test]
fn our_own_marked_copy_coming_back_is_never_a_new_version() {
    let dns = dns(&records_with(key(), None));
    let mut site = Site::new(&dns);
    // A workbook with findings (invalid by design): its receipt carries the marked copy.
    let k = site.deliver(&message(
        "Sở Y tế <so-y-te@langson.example>",
        "",
        "Phụ lục I",
        "Số liệu.",
        Some(("PL1.xlsx", &workbook("01-PL1_SoYTe.xlsx"))),
    ));
    site.run();
    assert_eq!(site.item(&k).outcome, "filed");
    let versions = site.versions();
    let dir = site.dir.path().join("var/outbox");
    let receipt = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| std::fs::read(e.path()).unwrap())
        .find(|raw| {
            use mail_parser::MimeHeaders;
            mail_parser::MessageParser::default()
                .parse(raw)
                .is_some_and(|m| {
                    m.attachments().any(|a| {
                        a.attachment_name()
                            .is_some_and(|n| n.starts_with("Kết quả kiểm tra"))
                    })
                })
        })
        .expect("the receipt attaches the marked copy");
    let parsed = mail_parser::MessageParser::default()
        .parse(&receipt)
        .unwrap();
    use mail_parser::MimeHeaders;
    let copy = parsed
        .attachments()
        .find(|a| {
            a.attachment_name()
                .is_some_and(|n| n.starts_with("Kết quả kiểm tra"))
        })
        .unwrap()
        .contents()
        .to_vec();
    // An auto-responder sends it back ten times.
    for i in 0..10 {
        site.deliver(&message(
            "Sở Y tế <so-y-te@langson.example>",
            "",
            &format!("Re: Biên nhận {i}"),
            "Đã nhận.",
            Some((&format!("Ket-qua-kiem-tra - PL1 {i}.xlsx"), &copy)),
        ));
        site.run();
    }
    assert_eq!(
        site.versions(),
        versions,
        "no new version from our own copy"
    );
}

#[test]
fn doctor_says_whether_the_name_servers_answer() {
    let mut dns = dns(&records_with(key(), Some("v=DMARC1; p=reject")));
    let site = Site::new(&dns);
    let out = site.intake(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("_dmarc.langson.example: v=DMARC1; p=reject"),
        "{text}"
    );
    assert!(text.contains(OUR_MX), "{text}");
    dns.stop();
    let out = site.intake(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("✘ Xác thực người gửi"), "{text}");
}

#[test]
fn a_clerks_forward_that_fails_is_held_and_one_our_server_passed_is_filed() {
    // The department's domain falls under langson.example's p=reject. A clerk's unsigned
    // forward can then be anyone's: held. Our own server's word that SPF passed proves it.
    let dns = dns(&records_with(key(), Some("v=DMARC1; p=reject")));
    let mut site = Site::new(&dns);
    let body = inline_forward(
        "---------- Forwarded message ---------",
        "From:",
        "Date: Mon, Jul 2, 2018 at 10:15 AM",
        "Subject:",
    );
    let unproven = site.deliver(&message(
        &format!("Văn thư <{CLERK}>"),
        "",
        "Fwd: Báo cáo Phụ lục II",
        &body,
        Some(("PL2.xlsx", &pl2())),
    ));
    let mut internal =
        format!("Authentication-Results: {OUR_MX}; spf=pass smtp.mailfrom={CLERK}\r\n")
            .into_bytes();
    internal.extend_from_slice(&message(
        &format!("Văn thư <{CLERK}>"),
        "",
        "Fwd: Báo cáo Phụ lục II (bổ sung)",
        &body,
        Some(("PL2 bis.xlsx", &workbook("08-PL2_STNMT.xlsx"))),
    ));
    let internal = site.deliver(&internal);
    site.run();
    assert_eq!(site.item(&unproven).outcome, "sender-unverified");
    let item = site.item(&internal);
    assert_eq!(
        (item.outcome.as_str(), item.agency_match.as_str()),
        ("filed", "forwarded"),
        "{item:?}"
    );
    assert_eq!(site.outcome_event(&internal).auth.as_deref(), Some("pass"));
    assert!(item.receipt, "the agency hears of its forwarded report");
}

#[test]
fn forgeries_review_found_are_not_attributed() {
    let dns = dns(&records_with(key(), Some("v=DMARC1; p=reject")));
    let mut site = Site::new(&dns);
    // Two From headers: each reader could take another.
    let two_froms = String::from_utf8(message(
        "<someone@nodmarc.test>",
        "From: Sở Tài chính <so-tai-chinh@langson.example>\r\n",
        "Phụ lục II",
        "Số liệu.",
        Some(("PL2.xlsx", &pl2())),
    ))
    .unwrap();
    let two_froms = site.deliver(two_froms.as_bytes());
    // A genuine signed note of the agency attached beside a forged workbook.
    let note = sign_dkimpy(
        &message(
            "Sở Tài chính <so-tai-chinh@langson.example>",
            "",
            "Cảm ơn",
            "Đã nhận.",
            None,
        ),
        "langson.example",
        "sel",
        key(),
    );
    let mut beside = String::from_utf8(forward_attached("someone@gmail.example", &note)).unwrap();
    let pl2_part = format!(
        "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"PL2.xlsx\"\r\nContent-Disposition: attachment; filename=\"PL2.xlsx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(&workbook("16-PL2_-_So_Tu_phap.xlsx"))
    );
    let boundary_end = beside.rfind("--\r\n").unwrap();
    let start = beside[..boundary_end].rfind("\r\n--").unwrap() + 2;
    let boundary = beside[start..boundary_end].to_string();
    beside.insert_str(start, &format!("{boundary}\r\n{pl2_part}"));
    let beside = site.deliver(beside.as_bytes());
    // An outsider's fake forward block below the real outermost one, forwarded by the clerk.
    let nested = format!(
        "{}\r\n{}",
        inline_forward(
            "---------- Forwarded message ---------",
            "From:",
            "Date: Mon, Jul 2, 2018 at 10:15 AM",
            "Subject:",
        )
        .replace(
            "Sở Tài chính <so-tai-chinh@langson.example>",
            "Nguyen Van B <b@gmail.example>"
        ),
        inline_forward(
            "---------- Forwarded message ---------",
            "From:",
            "Date: Mon, Jul 2, 2018 at 09:15 AM",
            "Subject:",
        )
    );
    let mut nested_raw =
        format!("Authentication-Results: {OUR_MX}; spf=pass smtp.mailfrom={CLERK}\r\n")
            .into_bytes();
    nested_raw.extend_from_slice(&message(
        &format!("Văn thư <{CLERK}>"),
        "",
        "Fwd: Fwd: số liệu",
        &nested,
        Some(("PL2.xlsx", &workbook("08-PL2_STNMT.xlsx"))),
    ));
    let nested = site.deliver(&nested_raw);
    site.run();
    for k in [&two_froms, &beside, &nested] {
        let item = site.item(k);
        assert!(
            item.files.iter().all(|f| f.version.is_none()),
            "{k}: {item:?}"
        );
        assert_ne!(item.agency_match, "forwarded", "{k}: {item:?}");
        assert_ne!(item.agency_match, "address", "{k}: {item:?}");
    }
    assert_eq!(site.versions(), 0);
    assert!(
        site.outbox().iter().all(|m| !m.1.contains("gmail.example")),
        "{:?}",
        site.outbox_summary()
    );
}
