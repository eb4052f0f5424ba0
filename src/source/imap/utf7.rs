//! # Modified UTF-7 for mailbox names
//!
//! IMAP servers without `UTF8=ACCEPT` name mailboxes in the modified UTF-7 of RFC 3501
//! §5.1.3: printable ASCII stands for itself (`&` as `&-`), every other run of characters is
//! UTF-16 in base64 with `,` for `/`, between `&` and `-`. A run is never split in two
//! (`-&` is a forbidden null shift), so "Đã" is one run, `&ARAA4w-`.

use base64::Engine as _;
use base64::alphabet::Alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use unicode_normalization::UnicodeNormalization;

fn engine() -> GeneralPurpose {
    let alphabet =
        Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")
            .expect("64 distinct characters");
    GeneralPurpose::new(
        &alphabet,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    )
}

/// Encodes a mailbox name (NFC-normalised first: macOS and some editors write NFD).
pub fn encode(name: &str) -> String {
    let engine = engine();
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&engine.encode(bytes));
        out.push('-');
        run.clear();
    };
    for c in name.nfc() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Decodes a mailbox name as the server lists it; `None` when it is not valid modified UTF-7.
pub fn decode(name: &str) -> Option<String> {
    let engine = engine();
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find('-')?;
        if end == 0 {
            out.push('&');
        } else {
            let bytes = engine.decode(&after[..end]).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_folder_names() {
        // Checked independently: Python's UTF-7 codec gives "+ARAA4w x+Hu0 l+AP0-" for the same
        // text, and Dovecot stores a folder created by that name as ".&ARAA4w- x&Hu0- l&AP0-".
        assert_eq!(encode("Đã xử lý"), "&ARAA4w- x&Hu0- l&AP0-");
        // The same name typed in NFD (decomposed accents) is the same folder.
        let nfd: String = "Đã xử lý".nfd().collect();
        assert_ne!(nfd, "Đã xử lý");
        assert_eq!(encode(&nfd), "&ARAA4w- x&Hu0- l&AP0-");
        assert_eq!(decode("&ARAA4w- x&Hu0- l&AP0-").unwrap(), "Đã xử lý");
    }

    #[test]
    fn rfc3501_examples_and_round_trips() {
        // RFC 3501 §5.1.3: "~peter/mail/台北/日本語".
        assert_eq!(
            encode("~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(encode("INBOX"), "INBOX");
        assert_eq!(encode("A&B"), "A&-B");
        assert_eq!(decode("A&-B").unwrap(), "A&B");
        for s in ["Báo cáo/Phụ lục Ⅱ", "😀 x", "Lưu trữ 2018", "&&", "ễ&ệ"] {
            assert_eq!(decode(&encode(s)).unwrap(), s);
        }
        assert!(decode("&AP0").is_none());
    }
}
