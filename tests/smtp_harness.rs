//! The test mail loop itself, before intake relies on it: a message submitted to the private
//! SMTP relay (aiosmtpd, STARTTLS or implicit TLS, AUTH) reaches the recipient's INBOX in the
//! private Dovecot by LMTP and reads back byte for byte over IMAP with Python's imaplib; a bad
//! password gets 535 without hanging; a recipient with no mailbox gets 550 and an unreachable
//! Dovecot 451; a stopped relay refuses connections and starts again on its port.

#[path = "common/dovecot.rs"]
mod dovecot;
#[path = "common/smtp.rs"]
mod smtp;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use dovecot::Dovecot;
use smtp::{Mechanism, Smtp, SmtpMode};

const SUBJECT: &str = "Biên nhận báo cáo — Sở Y tế Lạng Sơn";
const FROM: &str = "intake@skhdt.langson.example";
const SO_Y_TE: &str = "so-y-te@langson.example";
const SO_TAI_CHINH: &str = "so-tai-chinh@langson.example";

/// A receipt as intake would send it: CRLF lines, the subject as an RFC 2047 encoded word,
/// an 8-bit UTF-8 body.
fn message(id: &str, to: &str) -> Vec<u8> {
    let subject = base64::engine::general_purpose::STANDARD.encode(SUBJECT);
    format!(
        "From: =?UTF-8?B?{from_name}?= <{FROM}>\r\n\
         To: {to}\r\n\
         Subject: =?UTF-8?B?{subject}?=\r\n\
         Date: Thu, 05 Jul 2018 09:00:00 +0700\r\n\
         Message-ID: <{id}@skhdt.langson.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         Sở Kế hoạch và Đầu tư đã nhận báo cáo của quý cơ quan.\r\n\
         .a line starting with a dot\r\n",
        from_name = base64::engine::general_purpose::STANDARD.encode("Sở Kế hoạch và Đầu tư"),
    )
    .into_bytes()
}

/// Checks that `got` is `sent` as delivered: Dovecot's LMTP only puts its own trace headers
/// (Return-Path, Delivered-To) in front.
fn assert_delivered(got: &[u8], sent: &[u8]) {
    assert!(
        got.ends_with(sent),
        "the stored message differs from the one sent:\n{}",
        String::from_utf8_lossy(got)
    );
    let added = String::from_utf8(got[..got.len() - sent.len()].to_vec()).unwrap();
    for line in added.lines() {
        assert!(
            line.starts_with("Return-Path: ") || line.starts_with("Delivered-To: "),
            "unexpected header added on the way: {line:?}"
        );
    }
    let parsed = mail_parser::MessageParser::default().parse(got).unwrap();
    assert_eq!(parsed.subject(), Some(SUBJECT));
    assert!(
        parsed
            .body_text(0)
            .unwrap()
            .contains("đã nhận báo cáo của quý cơ quan")
    );
}

#[test]
fn starttls_submission_reaches_the_agency_inbox() {
    let dc = Dovecot::start_with_users(&["so-y-te", "so-tai-chinh"]);
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let raw = message("r1", SO_Y_TE);
    relay.send(FROM, &[SO_Y_TE], &raw);

    assert_eq!(dc.count_new("so-y-te"), 1);
    let inbox = dc.fetch_all("so-y-te");
    assert_eq!(inbox.len(), 1);
    assert_delivered(&inbox[0], &raw);
    assert!(dc.fetch_all("so-tai-chinh").is_empty());
    assert!(dc.fetch_all(dovecot::USER).is_empty());

    let log = relay.accepted();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["message_id"], "<r1@skhdt.langson.example>");
    assert_eq!(log[0]["rcpt"], serde_json::json!([SO_Y_TE]));
    assert_eq!(log[0]["mail_from"], FROM);
    assert_eq!(log[0]["bytes"], raw.len());
}

#[test]
fn implicit_tls_submission_with_auth_login_reaches_both_inboxes() {
    let dc = Dovecot::start_with_users(&["so-y-te", "so-tai-chinh"]);
    let relay = Smtp::start(&dc, SmtpMode::Tls);
    let raw = message("r2", &format!("{SO_Y_TE}, {SO_TAI_CHINH}"));
    let reply = relay.submit(
        FROM,
        &[SO_Y_TE, SO_TAI_CHINH],
        &raw,
        &relay.password(),
        Mechanism::Login,
    );
    assert_eq!(
        (reply.code, reply.stage.as_str()),
        (250, "data"),
        "{reply:?}"
    );
    for user in ["so-y-te", "so-tai-chinh"] {
        let inbox = dc.fetch_all(user);
        assert_eq!(inbox.len(), 1, "{user}");
        assert_delivered(&inbox[0], &raw);
    }
    let log = relay.accepted();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["rcpt"], serde_json::json!([SO_Y_TE, SO_TAI_CHINH]));
}

#[test]
fn a_bad_password_is_refused_without_hanging() {
    let dc = Dovecot::start_with_users(&["so-y-te"]);
    for mode in [SmtpMode::StartTls, SmtpMode::Tls] {
        let relay = Smtp::start(&dc, mode);
        for mechanism in [Mechanism::Plain, Mechanism::Login] {
            let start = Instant::now();
            let reply = relay.submit(
                FROM,
                &[SO_Y_TE],
                &message("r3", SO_Y_TE),
                "wrong",
                mechanism,
            );
            assert_eq!(
                (reply.code, reply.stage.as_str()),
                (535, "auth"),
                "{mode:?} {mechanism:?}: {reply:?}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{:?}",
                start.elapsed()
            );
        }
        assert!(relay.accepted().is_empty());
    }
    assert_eq!(dc.count_new("so-y-te"), 0);
}

#[test]
fn nothing_is_taken_before_starttls_and_auth() {
    let dc = Dovecot::start();
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let s = TcpStream::connect((smtp::HOST, relay.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut r = BufReader::new(&s);
    let mut reply = || {
        let mut last = String::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            last.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return last;
            }
        }
    };
    assert!(reply().starts_with("220"));
    (&s).write_all(b"EHLO client.example\r\n").unwrap();
    let ehlo = reply();
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    for cmd in ["AUTH PLAIN AGludGFrZQBwdw==", "MAIL FROM:<x@example.org>"] {
        (&s).write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
        let answer = reply();
        assert!(answer.starts_with("530"), "{cmd}: {answer}");
    }
}

#[test]
fn a_recipient_without_mailbox_is_refused_and_a_down_dovecot_deferred() {
    let mut dc = Dovecot::start_with_users(&["so-y-te"]);
    let relay = Smtp::start(&dc, SmtpMode::StartTls);
    let pw = relay.password();
    let raw = message("r4", "khong-co@langson.example");
    let reply = relay.submit(
        FROM,
        &["khong-co@langson.example"],
        &raw,
        &pw,
        Mechanism::Plain,
    );
    assert_eq!(
        (reply.code, reply.stage.as_str()),
        (550, "rcpt"),
        "{reply:?}"
    );
    assert!(reply.message.contains("5.1.1"), "{reply:?}");
    // A known recipient does not carry an unknown one through.
    let reply = relay.submit(
        FROM,
        &[SO_Y_TE, "khong-co@langson.example"],
        &raw,
        &pw,
        Mechanism::Plain,
    );
    assert_eq!(
        (reply.code, reply.stage.as_str()),
        (550, "rcpt"),
        "{reply:?}"
    );
    assert!(relay.accepted().is_empty());
    assert_eq!(dc.count_new("so-y-te"), 0);

    dc.stop();
    let reply = relay.submit(FROM, &[SO_Y_TE], &raw, &pw, Mechanism::Plain);
    assert_eq!(
        (reply.code, reply.stage.as_str()),
        (451, "rcpt"),
        "{reply:?}"
    );
    assert!(relay.accepted().is_empty());
}

#[test]
fn a_stopped_relay_refuses_connections_and_starts_again_on_its_port() {
    let dc = Dovecot::start_with_users(&["so-y-te"]);
    let mut relay = Smtp::start(&dc, SmtpMode::StartTls);
    let port = relay.port;
    relay.send(FROM, &[SO_Y_TE], &message("r5", SO_Y_TE));
    relay.stop();
    let err = TcpStream::connect((smtp::HOST, port)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    let reply = relay.submit(
        FROM,
        &[SO_Y_TE],
        &message("r6", SO_Y_TE),
        &relay.password(),
        Mechanism::Plain,
    );
    assert_eq!(
        (reply.code, reply.stage.as_str()),
        (0, "connect"),
        "{reply:?}"
    );

    relay.start_again();
    assert_eq!(relay.port, port);
    relay.send(FROM, &[SO_Y_TE], &message("r7", SO_Y_TE));
    assert_eq!(dc.count_new("so-y-te"), 2);
    let ids: Vec<_> = relay
        .accepted()
        .iter()
        .map(|l| l["message_id"].clone())
        .collect();
    assert_eq!(
        ids,
        ["<r5@skhdt.langson.example>", "<r7@skhdt.langson.example>"]
    );
}
