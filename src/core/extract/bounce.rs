//! # Bounces of our own mail
//!
//! A submission server takes a mail and reports a failed delivery later, as a bounce in the
//! department's mailbox. Intake's mail carries Message-IDs it can recognise
//! (`<receipt-12.<store>@…>`, see [`crate::outbox::message::message_id`]); a bounce quotes them in its
//! returned headers. This pure stage finds which of our mails a bounce is about and what the
//! remote server said, so that the outbox row is marked bounced and staff see it.
//! It belongs with extraction, which reads what arrives, so that the store, which records
//! the bounce, needs nothing from the outbox that sends.

/// One of our mails named in a bounce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounced {
    /// The outbox row.
    pub id: i64,
    /// `receipt`, `reminder` or `digest`.
    pub kind: String,
}

/// The mails of this store (`instance`) that a bounce's bytes name, each once, and the
/// remote server's diagnostic when the report gives one.
pub fn bounced(raw: &[u8], instance: &str) -> (Vec<Bounced>, Option<String>) {
    let text = String::from_utf8_lossy(raw);
    let mut found: Vec<Bounced> = Vec::new();
    for kind in ["receipt", "reminder", "digest"] {
        let needle = format!("<{kind}-");
        let mut rest: &str = &text;
        while let Some(at) = rest.find(&needle) {
            rest = &rest[at + needle.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let tail = &rest[digits.len()..];
            if let Ok(id) = digits.parse::<i64>()
                && tail
                    .strip_prefix('.')
                    .is_some_and(|t| t.starts_with(instance))
                && tail[1 + instance.len()..].starts_with('@')
                && !found.iter().any(|b| b.id == id)
            {
                found.push(Bounced {
                    id,
                    kind: kind.to_string(),
                });
            }
        }
    }
    let diagnostic = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("Diagnostic-Code")
                .then(|| v.trim().to_string())
        })
        .or_else(|| {
            text.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim().eq_ignore_ascii_case("Status") && v.trim().starts_with('5'))
                    .then(|| format!("status {}", v.trim()))
            })
        });
    (found, diagnostic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_report_names_our_receipt_and_the_reason() {
        let dsn = b"From: MAILER-DAEMON@mx.langson.example\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.langson.example\r\n\r\n\
Final-Recipient: rfc822; so-y-te@langson.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <so-y-te@langson.example>: Recipient address rejected\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
Message-ID: <receipt-42.0a1b2c3d4e@skhdt.langson.example>\r\n\
In-Reply-To: <reminder-7.ffffffffff@skhdt.langson.example>\r\n--b--\r\n";
        let (found, why) = bounced(dsn, "0a1b2c3d4e");
        assert_eq!(
            found,
            [Bounced {
                id: 42,
                kind: "receipt".into()
            }],
            "another store's reminder is not ours"
        );
        assert!(why.unwrap().contains("550 5.1.1"));
        assert!(
            bounced(b"Message-ID: <receipt-x.0a1b2c3d4e@a>", "0a1b2c3d4e")
                .0
                .is_empty()
        );
    }
}
