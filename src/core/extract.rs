//! # Extraction: from message bytes to envelope and candidate files
//!
//! Agencies' files arrive as attachments, as inline parts (Apple Mail), as
//! `application/octet-stream`, inside zip files and inside forwarded messages. This stage finds
//! every workbook and report document by name **and** magic bytes, whatever the disposition,
//! opens zips within limits and decodes names to clean NFC text that is never used as a path.
//! It is pure: bytes in, values out.

pub mod bounce;

use chrono::{DateTime, FixedOffset, TimeZone};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use unicode_normalization::UnicodeNormalization;

use crate::config::Limits;
use crate::workbook::{self, WorkbookFormat};

/// Report document formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentFormat {
    /// Word 97-2003.
    Doc,
    /// Word 2007+.
    Docx,
    /// PDF.
    Pdf,
    /// OpenDocument text.
    Odt,
}

/// What a found file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A data workbook.
    Workbook(WorkbookFormat),
    /// A narrative report.
    Document(DocumentFormat),
}

impl FileKind {
    /// `workbook` or `document`, as logged and stored.
    pub fn noun(self) -> &'static str {
        match self {
            FileKind::Workbook(_) => "workbook",
            FileKind::Document(_) => "document",
        }
    }
}

/// A workbook or report document found in a message or dropped in the folder.
#[derive(Debug, Clone)]
pub struct FoundFile {
    /// Sanitised NFC name, safe to show and to use as the last part of a filed name.
    pub name: String,
    /// What it is.
    pub kind: FileKind,
    /// False when the name says one thing and the bytes another (a corrupt or renamed file).
    pub magic_ok: bool,
    /// Where it was found, e.g. `attachment`, `zip:PL.zip`, `forwarded`.
    pub origin: String,
    /// The attached message (index into [`Extraction::attached`]) it was found in, at any
    /// depth; None for the message's own parts.
    pub attached: Option<usize>,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Something in a message that was not taken, with the reason (shown to staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The part's name, sanitised.
    pub name: String,
    /// Why it was not taken.
    pub reason: String,
}

/// Why a message gets no receipt whatever it carries (RFC 3834).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoMail {
    /// `Auto-Submitted` other than `no`.
    AutoSubmitted(String),
    /// `Precedence: bulk|list|junk`.
    Bulk(String),
    /// A mailing list (`List-Id`, `List-Unsubscribe`).
    List,
    /// An out-of-office reply known by its headers or subject.
    OutOfOffice,
    /// A bounce (null return path or a mailer daemon).
    Bounce,
}

/// The headers intake acts on.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// Display name of `From`.
    pub from_name: Option<String>,
    /// Address of `From`, lower case (the first address of the last From header, as
    /// mail-parser reads it).
    pub from: Option<String>,
    /// More than one From header or address: no single sender, never an agency's.
    pub from_ambiguous: bool,
    /// Address of `Sender`, lower case: a claim, shown only.
    pub sender: Option<String>,
    /// Addresses of `Reply-To`, lower case (the first ten): a claim anyone can write, never
    /// used to identify an agency or to address a receipt.
    pub reply_to: Vec<String>,
    /// Decoded subject.
    pub subject: String,
    /// The `Date` header.
    pub date: Option<DateTime<FixedOffset>>,
    /// When it reached our server: the topmost `Received` header's date.
    pub arrived: Option<DateTime<FixedOffset>>,
    /// Set when the message must get no automatic reply.
    pub auto: Option<AutoMail>,
    /// `References` plus `Message-ID`, for threading a reply.
    pub references: Vec<String>,
}

/// The headers of a message attached to this one (message/rfc822): a forward.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachedMessage {
    /// Its From address, lower case.
    pub from: Option<String>,
    /// Its From display name.
    pub from_name: Option<String>,
    /// Its Date.
    pub date: Option<DateTime<FixedOffset>>,
    /// Its subject, bounded.
    pub subject: String,
}

/// What extraction found in one message.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    /// The message's headers.
    pub envelope: Envelope,
    /// Messages attached to it (forwards as attachments), depth first.
    pub attached: Vec<AttachedMessage>,
    /// The first text body (HTML rendered as text), at most [`BODY_TEXT_MAX`] bytes: where a
    /// clerk's client writes the forwarded message's headers.
    pub body_text: String,
    /// Workbooks and documents, in the order they appear (depth first).
    pub files: Vec<FoundFile>,
    /// Parts not taken, with reasons.
    pub skipped: Vec<Skipped>,
    /// Bytes unpacked from zips so far, across the whole message.
    unpacked: u64,
    /// The top-level attached message being walked.
    inside: Option<usize>,
}

/// Why a message could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The bytes are not an RFC 5322 message.
    #[error("not a mail message: {0}")]
    NotAMessage(String),
}

/// The most of a body's text kept for finding forwarded headers.
pub const BODY_TEXT_MAX: usize = 256 << 10;
/// The most characters of a subject or display name kept; the raw message keeps the rest.
const HEADER_TEXT_MAX: usize = 300;

const WORKBOOK_EXTS: [&str; 4] = ["xlsx", "xlsm", "xls", "ods"];
const DOCUMENT_EXTS: [&str; 4] = ["doc", "docx", "pdf", "odt"];

/// Parses a message and finds its files within `limits`.
pub fn extract(raw: &[u8], limits: &Limits) -> Result<Extraction, ExtractError> {
    let message = MessageParser::default()
        .parse(raw)
        // Anything parses as "headers"; a message has at least one of these.
        .filter(|m| {
            ["From", "Date", "Subject", "Message-ID", "Received"]
                .iter()
                .any(|h| m.header_raw(*h).is_some())
        })
        .ok_or_else(|| ExtractError::NotAMessage("no headers could be read".into()))?;
    let envelope = envelope(&message);
    let mut body_text: String = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    if body_text.len() > BODY_TEXT_MAX {
        let mut cut = BODY_TEXT_MAX;
        while !body_text.is_char_boundary(cut) {
            cut -= 1;
        }
        body_text.truncate(cut);
    }
    let mut out = Extraction {
        envelope,
        body_text,
        ..Default::default()
    };
    walk(&message, "attachment", 0, limits, &mut out);
    Ok(out)
}

/// Classifies one file that arrived on its own (the drop folder), zips included.
pub fn extract_file(name: &str, bytes: Vec<u8>, limits: &Limits) -> Extraction {
    let mut out = Extraction::default();
    take(sanitise_name(name), bytes, "drop", 0, limits, &mut out);
    out
}

fn walk(
    message: &mail_parser::Message<'_>,
    origin: &str,
    depth: usize,
    limits: &Limits,
    out: &mut Extraction,
) {
    for (i, part) in message.parts.iter().enumerate() {
        match &part.body {
            PartType::Multipart(_) => {}
            PartType::Message(inner) => {
                if depth + 1 > limits.max_nesting {
                    out.skipped.push(Skipped {
                        name: "forwarded message".into(),
                        reason: "nested too deep".into(),
                    });
                } else {
                    let outer = out.inside;
                    if out.attached.len() < 8 {
                        let e = envelope(inner);
                        out.attached.push(AttachedMessage {
                            from: e.from.filter(|_| !e.from_ambiguous),
                            from_name: e.from_name,
                            date: e.date,
                            subject: e.subject,
                        });
                    }
                    if outer.is_none() {
                        out.inside = Some(out.attached.len().saturating_sub(1));
                    }
                    walk(inner, "forwarded", depth + 1, limits, out);
                    out.inside = outer;
                }
            }
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                let name = part
                    .attachment_name()
                    .map(sanitise_name)
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("tep-dinh-kem-{}", i));
                take(name, bytes.to_vec(), origin, depth, limits, out);
            }
            PartType::Text(_) | PartType::Html(_) => {
                // A text part is a body unless it carries a workbook or document name.
                if let Some(name) = part.attachment_name().map(sanitise_name)
                    && is_candidate_ext(&name)
                {
                    // The parser decoded it as text; the file's bytes are the raw body, undone
                    // from its transfer encoding.
                    let raw = message.raw_message();
                    let (s, e) = (
                        part.raw_body_offset() as usize,
                        part.raw_end_offset() as usize,
                    );
                    let body = raw.get(s..e).unwrap_or_default();
                    let bytes = match part
                        .content_transfer_encoding()
                        .map(str::to_ascii_lowercase)
                        .as_deref()
                    {
                        Some("base64") => {
                            use base64::Engine;
                            let clean: Vec<u8> = body
                                .iter()
                                .copied()
                                .filter(|b| !b.is_ascii_whitespace())
                                .collect();
                            base64::engine::general_purpose::STANDARD
                                .decode(&clean)
                                .unwrap_or_else(|_| body.to_vec())
                        }
                        _ => body.to_vec(),
                    };
                    take(name, bytes, origin, depth, limits, out);
                }
            }
        }
    }
}

fn take(
    name: String,
    bytes: Vec<u8>,
    origin: &str,
    depth: usize,
    limits: &Limits,
    out: &mut Extraction,
) {
    if out.files.len() >= limits.max_attachments {
        out.skipped.push(Skipped {
            name,
            reason: format!("more than {} files in one message", limits.max_attachments),
        });
        return;
    }
    if bytes.len() as u64 > limits.max_file_bytes {
        out.skipped.push(Skipped {
            name,
            reason: format!("larger than {} bytes", limits.max_file_bytes),
        });
        return;
    }
    let ext = extension(&name);
    if bytes.starts_with(&[0x78, 0x9F, 0x3E, 0x22]) || name.eq_ignore_ascii_case("winmail.dat") {
        out.skipped.push(Skipped {
            name,
            reason: "Outlook TNEF (winmail.dat): the files inside cannot be read; ask the sender to attach them as ordinary files".into(),
        });
        return;
    }
    if let Some(format) = workbook::sniff(&bytes, &name) {
        out.files.push(FoundFile {
            name,
            kind: FileKind::Workbook(format),
            magic_ok: true,
            origin: origin.into(),
            attached: out.inside,
            bytes,
        });
        return;
    }
    if workbook::is_encrypted_ooxml(&bytes) {
        let format = format_from_ext(&ext).unwrap_or(WorkbookFormat::Xlsx);
        out.files.push(FoundFile {
            name,
            kind: FileKind::Workbook(format),
            magic_ok: true,
            origin: origin.into(),
            attached: out.inside,
            bytes,
        });
        return;
    }
    if let Some(format) = sniff_document(&bytes, &ext) {
        out.files.push(FoundFile {
            name,
            kind: FileKind::Document(format),
            magic_ok: true,
            origin: origin.into(),
            attached: out.inside,
            bytes,
        });
        return;
    }
    if bytes.starts_with(b"PK\x03\x04") && (ext == "zip" || !is_candidate_ext(&name)) {
        if depth + 1 > limits.max_nesting {
            out.skipped.push(Skipped {
                name,
                reason: "nested too deep".into(),
            });
        } else {
            unzip(&name, &bytes, depth + 1, limits, out);
        }
        return;
    }
    if let Some(format) = format_from_ext(&ext) {
        out.files.push(FoundFile {
            name,
            kind: FileKind::Workbook(format),
            magic_ok: false,
            origin: origin.into(),
            attached: out.inside,
            bytes,
        });
    } else if let Some(format) = document_from_ext(&ext) {
        out.files.push(FoundFile {
            name,
            kind: FileKind::Document(format),
            magic_ok: false,
            origin: origin.into(),
            attached: out.inside,
            bytes,
        });
    } else if ext == "zip" {
        out.skipped.push(Skipped {
            name,
            reason: "not a readable zip file".into(),
        });
    }
    // Anything else (signatures, logos, calendar invites) is not ours to keep track of.
}

fn unzip(zip_name: &str, bytes: &[u8], depth: usize, limits: &Limits, out: &mut Extraction) {
    use std::io::Read;
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            out.skipped.push(Skipped {
                name: zip_name.into(),
                reason: format!("not a readable zip file: {e}"),
            });
            return;
        }
    };
    let origin = format!("zip:{zip_name}");
    let count = archive.len();
    if count > limits.max_zip_entries {
        out.skipped.push(Skipped {
            name: zip_name.into(),
            reason: format!(
                "{count} entries; only the first {} read",
                limits.max_zip_entries
            ),
        });
    }
    for i in 0..count.min(limits.max_zip_entries) {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                out.skipped.push(Skipped {
                    name: format!("{zip_name} #{i}"),
                    reason: format!("unreadable entry: {e}"),
                });
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let raw_name = entry_name(&entry);
        let last = raw_name.rsplit(['/', '\\']).next().unwrap_or_default();
        // macOS resource forks ride along in zips made on a Mac; they are not files.
        if raw_name.starts_with("__MACOSX") || last.starts_with("._") {
            continue;
        }
        let name = sanitise_name(&raw_name);
        if name.is_empty() {
            continue;
        }
        let declared = entry.size();
        let packed = entry.compressed_size().max(1);
        if declared / packed > limits.max_zip_ratio {
            out.skipped.push(Skipped {
                name,
                reason: format!(
                    "compressed {}:1, above the limit of {}:1",
                    declared / packed,
                    limits.max_zip_ratio
                ),
            });
            continue;
        }
        // One budget for every zip of the message, however many there are.
        let budget = limits
            .max_zip_total_bytes
            .saturating_sub(out.unpacked)
            .min(limits.max_file_bytes);
        let mut data = Vec::new();
        // Read one byte past the budget to tell "exactly the budget" from "more".
        if let Err(e) = (&mut entry).take(budget + 1).read_to_end(&mut data) {
            out.skipped.push(Skipped {
                name,
                reason: format!("unreadable entry: {e}"),
            });
            continue;
        }
        if data.len() as u64 > budget {
            out.skipped.push(Skipped {
                name,
                reason: "unpacks to more than the size limit".into(),
            });
            break;
        }
        out.unpacked += data.len() as u64;
        take(name, data, &origin, depth, limits, out);
    }
}

/// The entry's name: UTF-8 when flagged, else CP437 as zip tools of the Windows era wrote it.
fn entry_name(entry: &zip::read::ZipFile<'_, std::io::Cursor<&[u8]>>) -> String {
    let raw = entry.name_raw();
    match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned()),
    }
}

/// Makes a name from a message safe: NFC, last path component only, no control or reserved
/// characters, no leading or trailing dots and spaces, at most 150 characters.
pub fn sanitise_name(name: &str) -> String {
    let nfc: String = name.nfc().collect();
    let last = nfc.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !crate::core::text::is_disguising(*c))
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    // File systems limit a name to 255 bytes, and the filed tree adds "v<N>-": keep well under.
    const MAX_BYTES: usize = 180;
    if trimmed.chars().count() <= 150 && trimmed.len() <= MAX_BYTES {
        return trimmed.to_string();
    }
    let ext = extension(trimmed);
    let mut keep = String::new();
    for ch in trimmed.chars().take(140) {
        if keep.len() + ch.len_utf8() + ext.len() + 1 > MAX_BYTES {
            break;
        }
        keep.push(ch);
    }
    if ext.is_empty() {
        keep
    } else {
        format!("{keep}.{ext}")
    }
}

/// Lower-case extension without the dot.
pub fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .filter(|e| e.len() <= 5)
        .unwrap_or_default()
}

fn is_candidate_ext(name: &str) -> bool {
    let ext = extension(name);
    WORKBOOK_EXTS.contains(&ext.as_str()) || DOCUMENT_EXTS.contains(&ext.as_str())
}

fn format_from_ext(ext: &str) -> Option<WorkbookFormat> {
    Some(match ext {
        "xlsx" => WorkbookFormat::Xlsx,
        "xlsm" => WorkbookFormat::Xlsm,
        "xls" => WorkbookFormat::Xls,
        "ods" => WorkbookFormat::Ods,
        _ => return None,
    })
}

fn document_from_ext(ext: &str) -> Option<DocumentFormat> {
    Some(match ext {
        "doc" => DocumentFormat::Doc,
        "docx" => DocumentFormat::Docx,
        "pdf" => DocumentFormat::Pdf,
        "odt" => DocumentFormat::Odt,
        _ => return None,
    })
}

/// A report document by its magic bytes (and, for OLE files, its name).
pub fn sniff_document(bytes: &[u8], ext: &str) -> Option<DocumentFormat> {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if bytes.starts_with(b"%PDF-") {
        return Some(DocumentFormat::Pdf);
    }
    if bytes.starts_with(OLE) {
        // Word and Excel share the container; workbooks were told apart before this.
        return (ext == "doc").then_some(DocumentFormat::Doc);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
        if archive.index_for_name("word/document.xml").is_some() {
            return Some(DocumentFormat::Docx);
        }
        // ODF puts an uncompressed `mimetype` entry first; its bytes sit at offset 38.
        if bytes.get(30..38) == Some(b"mimetype")
            && bytes[38..].starts_with(b"application/vnd.oasis.opendocument.text")
        {
            return Some(DocumentFormat::Odt);
        }
    }
    None
}

fn envelope(m: &mail_parser::Message<'_>) -> Envelope {
    let addr = |a: Option<&mail_parser::Address<'_>>| -> Option<String> {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|s| s.trim().to_lowercase())
    };
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_string());
    let from_name = m
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.name())
        .map(|n| crate::core::text::bounded(&n.nfc().collect::<String>(), HEADER_TEXT_MAX))
        .filter(|n| !n.is_empty());
    // windows-1258 mail decodes to base letters with combining marks: NFC, as everything shown.
    let subject = crate::core::text::bounded(
        &m.subject().unwrap_or_default().nfc().collect::<String>(),
        HEADER_TEXT_MAX,
    );
    let message_id = m
        .message_id()
        .map(|s| s.trim_matches(['<', '>']).to_string())
        .filter(|s| !s.is_empty());
    let mut references: Vec<String> = match m.references() {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    if let Some(id) = &message_id {
        references.push(id.clone());
    }
    let from = addr(m.from());
    // Two From headers, or a list: each reader may take another one (mail-parser the last,
    // the authentication the first), so none can be the sender.
    let from_ambiguous =
        m.header_values("From").count() > 1 || m.from().is_some_and(|a| a.iter().count() > 1);
    let auto = auto_mail(&header, &subject, from.as_deref(), m.return_address());
    Envelope {
        message_id,
        from_name,
        from,
        from_ambiguous,
        sender: addr(m.sender()),
        reply_to: m
            .reply_to()
            .map(|a| {
                // Kept for staff to see, never to identify or answer: a few are enough.
                a.iter()
                    .take(10)
                    .filter_map(|a| a.address())
                    .map(|s| s.trim().to_lowercase())
                    .collect()
            })
            .unwrap_or_default(),
        subject,
        date: m.date().and_then(to_chrono),
        // mail-parser's `received()` is the bottom-most header; arrival is the topmost.
        // Only our own server's stamp is trusted; lower hops are the sender's to write.
        arrived: m
            .header_values("Received")
            .next()
            .and_then(|v| match v {
                mail_parser::HeaderValue::Received(r) => r.date.as_ref(),
                _ => None,
            })
            .and_then(to_chrono),
        auto,
        references,
    }
}

fn auto_mail(
    header: &dyn Fn(&str) -> Option<String>,
    subject: &str,
    from: Option<&str>,
    return_path: Option<&str>,
) -> Option<AutoMail> {
    if let Some(v) = header("Auto-Submitted")
        && !v.to_ascii_lowercase().starts_with("no")
    {
        return Some(AutoMail::AutoSubmitted(v));
    }
    if let Some(v) = header("Precedence") {
        let v = v.to_ascii_lowercase();
        if ["bulk", "list", "junk", "auto_reply"]
            .iter()
            .any(|p| v.starts_with(p))
        {
            return Some(AutoMail::Bulk(v));
        }
    }
    if header("List-Id").is_some() || header("List-Unsubscribe").is_some() {
        return Some(AutoMail::List);
    }
    if header("X-Autoreply").is_some() || header("X-Autorespond").is_some() {
        return Some(AutoMail::OutOfOffice);
    }
    let folded = crate::core::text::fold(subject);
    const OOO: [&str; 6] = [
        "auto",
        "automatic reply",
        "out of office",
        "tu dong tra loi",
        "tra loi tu dong",
        "vang mat",
    ];
    if OOO.iter().any(|p| {
        folded.starts_with(p) && (folded.len() == p.len() || folded.as_bytes()[p.len()] == b' ')
    }) {
        return Some(AutoMail::OutOfOffice);
    }
    if return_path == Some("")
        || from.is_some_and(|f| f.starts_with("mailer-daemon@") || f.starts_with("postmaster@"))
    {
        return Some(AutoMail::Bounce);
    }
    None
}

/// A header date, when it is a real one: two-digit years, hour 25 and the like are refused
/// rather than rolled over into a wrong arrival time.
fn to_chrono(d: &mail_parser::DateTime) -> Option<DateTime<FixedOffset>> {
    let plausible = (1990..=2200).contains(&d.year)
        && (1..=12).contains(&d.month)
        && (1..=31).contains(&d.day)
        && d.hour < 24
        && d.minute < 60
        && d.second < 61
        && d.tz_hour < 15;
    if !plausible {
        return None;
    }
    let secs =
        (d.tz_hour as i32 * 3600 + d.tz_minute as i32 * 60) * if d.tz_before_gmt { -1 } else { 1 };
    let offset = FixedOffset::east_opt(secs)?;
    offset.timestamp_opt(d.to_timestamp(), 0).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitise_name("..\\..\\x/../PL1_bad.xlsx"), "PL1_bad.xlsx");
        assert_eq!(sanitise_name("  .hidden.xlsx. "), "hidden.xlsx");
        assert_eq!(sanitise_name("a<b>:c\"d|e?f*.xls"), "a_b__c_d_e_f_.xls");
        assert_eq!(sanitise_name("bad\u{0}\u{7}name.ods"), "badname.ods");
        let nfd: String = "Phụ lục.xlsx".nfd().collect();
        assert_eq!(sanitise_name(&nfd), "Phụ lục.xlsx");
        let long = format!("{}.xlsx", "a".repeat(400));
        assert_eq!(sanitise_name(&long).chars().count(), 145);
        // 100 three-byte letters: short in characters, long in bytes.
        let wide = format!("{} PL1.xlsx", "Ự".repeat(100));
        let name = sanitise_name(&wide);
        assert!(name.len() <= 180 && name.ends_with(".xlsx"), "{name}");
    }

    #[test]
    fn out_of_office_and_bulk_mail_are_recognised() {
        let none = |_: &str| None;
        assert_eq!(
            auto_mail(&none, "Tự động trả lời: Báo cáo", None, None),
            Some(AutoMail::OutOfOffice)
        );
        assert_eq!(
            auto_mail(&none, "Automatic reply: report", None, None),
            Some(AutoMail::OutOfOffice)
        );
        assert_eq!(auto_mail(&none, "Autumn report", None, None), None);
        assert_eq!(
            auto_mail(&none, "Báo cáo", Some("mailer-daemon@x.example"), None),
            Some(AutoMail::Bounce)
        );
        let bulk = |h: &str| (h == "Precedence").then(|| "Bulk".to_string());
        assert_eq!(
            auto_mail(&bulk, "x", None, None),
            Some(AutoMail::Bulk("bulk".into()))
        );
        let human = |h: &str| (h == "Auto-Submitted").then(|| "no".to_string());
        assert_eq!(auto_mail(&human, "x", None, None), None);
    }

    #[test]
    fn subjects_and_names_are_nfc_bounded_and_undisguised() {
        let nfd: String = "Báo cáo Phụ lục".nfd().collect();
        let raw = format!(
            "From: \"{nfd}\u{202E}\" <a@b.example>\r\nSubject: {nfd} {}\r\n\r\nx",
            "x".repeat(5000)
        );
        let e = extract(raw.as_bytes(), &Limits::default())
            .unwrap()
            .envelope;
        assert!(e.subject.starts_with("Báo cáo Phụ lục x"), "{}", e.subject);
        assert!(e.subject.chars().count() <= HEADER_TEXT_MAX + 1);
        assert_eq!(e.from_name.as_deref(), Some("Báo cáo Phụ lục"));
    }

    #[test]
    fn text_that_is_not_mail_is_refused() {
        assert!(extract(b"\x00\x01\x02 binary junk", &Limits::default()).is_err());
    }

    #[test]
    fn documents_are_told_by_magic_bytes() {
        assert_eq!(
            sniff_document(b"%PDF-1.4\n", "x"),
            Some(DocumentFormat::Pdf)
        );
        assert_eq!(sniff_document(b"hello", "pdf"), None);
    }

    fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    }

    #[test]
    fn zips_are_opened_within_limits() {
        let pdf = b"%PDF-1.4\n%%EOF\n".to_vec();
        // A bomb: 8 MB of zeros packs to a few dozen KB, far above the ratio limit.
        let bomb = vec![0u8; 8 << 20];
        let zip = zip_of(&[
            ("../../etc/Bao cao.pdf", pdf.clone()),
            ("bomb.pdf", bomb),
            ("__MACOSX/._x.pdf", vec![1]),
        ]);
        let out = extract_file("nop.zip", zip, &Limits::default());
        assert_eq!(out.files.len(), 1, "{:?}", out.skipped);
        assert_eq!(out.files[0].name, "Bao cao.pdf");
        assert_eq!(out.files[0].origin, "zip:nop.zip");
        assert_eq!(out.files[0].bytes, pdf);
        assert!(
            out.skipped
                .iter()
                .any(|s| s.name == "bomb.pdf" && s.reason.contains("compressed")),
            "{:?}",
            out.skipped
        );

        // A zip inside a zip inside a zip … stops at the nesting limit.
        let mut nested = zip_of(&[("x.pdf", pdf.clone())]);
        for _ in 0..5 {
            nested = zip_of(&[("inner.zip", nested)]);
        }
        let out = extract_file("outer.zip", nested, &Limits::default());
        assert!(out.files.is_empty());
        assert!(
            out.skipped
                .iter()
                .any(|s| s.reason.contains("nested too deep"))
        );

        // Too many entries: only the first ones are read.
        let many: Vec<(String, Vec<u8>)> =
            (0..20).map(|i| (format!("{i}.pdf"), pdf.clone())).collect();
        let many: Vec<(&str, Vec<u8>)> =
            many.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
        let limits = Limits {
            max_zip_entries: 5,
            ..Limits::default()
        };
        let out = extract_file("many.zip", zip_of(&many), &limits);
        assert_eq!(out.files.len(), 5);
    }

    #[test]
    fn a_workbook_named_but_not_shaped_like_one_is_kept_and_flagged() {
        let out = extract_file(
            "PL1.xlsx",
            b"<html>not a workbook</html>".to_vec(),
            &Limits::default(),
        );
        assert_eq!(out.files.len(), 1);
        assert!(!out.files[0].magic_ok);
        assert_eq!(out.files[0].kind, FileKind::Workbook(WorkbookFormat::Xlsx));
        // A file that is neither by name nor by bytes is not ours.
        assert!(
            extract_file("logo.png", b"\x89PNG....".to_vec(), &Limits::default())
                .files
                .is_empty()
        );
    }
}
