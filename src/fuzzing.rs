//! # Entry points for fuzzing and corpus replay
//!
//! The parsers that read what strangers send — a raw message, a workbook, an
//! Authentication-Results header — are fed arbitrary bytes by the fuzz targets under `fuzz/`
//! and by `tests/fuzz_corpus.rs`, which replays every seed and every saved crash through
//! these same functions. Each returns a small summary after checking that its outcome stays
//! within the limits the daemon relies on, and panics when it does not: under the fuzzer a
//! panic is a finding, in the replay a failed test.

use crate::auth::results;
use crate::config::Limits;
use crate::core::extract::{self, BODY_TEXT_MAX};
use crate::workbook::{self, InspectError, Inspector, WorkbookFormat};

/// What [`mail`] found in one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailSummary {
    /// False when the bytes were not read as a message (an ordinary outcome).
    pub message: bool,
    /// Workbooks and documents found (attachments, inline parts, zip members, forwards).
    pub files: usize,
    /// Parts not taken.
    pub skipped: usize,
    /// Attached (forwarded) messages whose headers were read.
    pub attached: usize,
}

/// Raw message bytes through extraction, as the daemon extracts a message from its mailbox,
/// with the default limits.
pub fn mail(data: &[u8]) -> MailSummary {
    let limits = Limits::default();
    let Ok(x) = extract::extract(data, &limits) else {
        return MailSummary::default();
    };
    assert!(
        x.files.len() <= limits.max_attachments,
        "{} files taken from one message, over the limit of {}",
        x.files.len(),
        limits.max_attachments
    );
    for f in &x.files {
        assert!(
            f.bytes.len() as u64 <= limits.max_file_bytes,
            "file {:?} of {} bytes taken, over the limit",
            f.name,
            f.bytes.len()
        );
        assert!(
            !f.name.contains(['/', '\\', '\0']),
            "file name {:?} could be taken for a path",
            f.name
        );
        assert!(f.attached.is_none_or(|i| i < x.attached.len()));
    }
    let unpacked: u64 = x
        .files
        .iter()
        .filter(|f| f.origin.starts_with("zip:"))
        .map(|f| f.bytes.len() as u64)
        .sum();
    assert!(
        unpacked <= limits.max_zip_total_bytes,
        "{unpacked} bytes unpacked from zips, over the limit"
    );
    assert!(x.body_text.len() <= BODY_TEXT_MAX);
    assert!(x.attached.len() <= 8);
    MailSummary {
        message: true,
        files: x.files.len(),
        skipped: x.skipped.len(),
        attached: x.attached.len(),
    }
}

/// What [`workbook`] read from one file, per format tried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkbookSummary {
    /// The formats the bytes were read as: the sniffed one, or all three when sniffing
    /// found none (a sender's name can claim any format for any bytes).
    pub formats: Vec<WorkbookFormat>,
    /// Cells read, per format tried; None when the outcome was an [`InspectError`].
    pub cells: Vec<Option<u64>>,
    /// Readings that ended in a panic of the reader, caught and turned into `Unreadable`
    /// (an outcome, but a sign of a parser that trusts its input).
    pub reader_panics: usize,
}

/// The limits the fuzz targets read workbooks within: the daemon's, but with a cell budget
/// that a small input can reach, so that the paths past a limit are explored too.
pub fn workbook_limits() -> workbook::Limits {
    workbook::Limits {
        max_cells: 20_000,
        max_text_bytes: 1 << 20,
        ..workbook::Limits::default()
    }
}

/// Workbook bytes through the in-process reader under [`workbook_limits`]: the reader the
/// daemon uses for xlsx and xlsm, and the one its child process runs for xls and ods (there
/// under an address-space limit). Both [`Inspector::inspect`] and [`Inspector::read`].
pub fn workbook(data: &[u8]) -> WorkbookSummary {
    workbook_with(&Inspector::new(workbook_limits(), None), data)
}

/// [`workbook`] with a given inspector (the replay also reads xls and ods in the child
/// process, as the daemon does).
pub fn workbook_with(inspector: &Inspector, data: &[u8]) -> WorkbookSummary {
    let limits = inspector.limits().clone();
    let formats = match workbook::sniff(data, "") {
        Some(f) => vec![f],
        None => vec![
            WorkbookFormat::Xlsx,
            WorkbookFormat::Xls,
            WorkbookFormat::Ods,
        ],
    };
    let mut summary = WorkbookSummary {
        formats: formats.clone(),
        ..Default::default()
    };
    for format in formats {
        let inspected = inspector.inspect(data, format);
        let read = inspector.read(data, format);
        for e in [inspected.as_ref().err(), read.as_ref().err()]
            .into_iter()
            .flatten()
        {
            bounded_error(e);
            if matches!(e, InspectError::Unreadable(t) if t.contains("reader failed on this file"))
            {
                summary.reader_panics += 1;
            }
        }
        if let Ok(i) = &inspected {
            assert!(
                i.cells <= limits.max_cells,
                "{} cells inspected, over the limit of {}",
                i.cells,
                limits.max_cells
            );
        }
        summary.cells.push(match &read {
            Ok(grid) => {
                let cells: u64 = grid.sheets.iter().map(|s| s.cells.len() as u64).sum();
                assert!(
                    cells <= limits.max_cells,
                    "{cells} cells read, over the limit of {}",
                    limits.max_cells
                );
                Some(cells)
            }
            Err(_) => None,
        });
    }
    summary
}

/// Explanations quote what a file says; they must stay short enough for a receipt.
fn bounded_error(e: &InspectError) {
    if let InspectError::Unreadable(t) | InspectError::Crashed(t) = e {
        assert!(
            t.chars().count() <= 301,
            "an explanation of {} characters",
            t.chars().count()
        );
    }
}

/// What [`auth_results`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthResultsSummary {
    /// The input parsed as one header value.
    pub parsed: bool,
    /// Method results in it.
    pub results: usize,
    /// A trusted header was found when the input was read as a header block.
    pub trusted: bool,
    /// Lines of why other headers were ignored.
    pub ignored: usize,
}

/// The authserv-ids the fuzz target trusts (the seeds' own servers).
const TRUSTED_IDS: [&str; 3] = ["mx.google.com", "mx.langson.example", "mx.example.org"];

/// Bytes as one Authentication-Results value ([`results::parse`]) and as a header block in
/// which the trusted header is searched ([`results::trusted`]).
pub fn auth_results(data: &[u8]) -> AuthResultsSummary {
    let text = String::from_utf8_lossy(data);
    let parsed = results::parse(&text);
    if let Some(a) = &parsed {
        assert!(a.results.len() <= 64, "{} results kept", a.results.len());
        assert!(!a.authserv_id.is_empty());
    }
    let ids: Vec<String> = TRUSTED_IDS.iter().map(|s| s.to_string()).collect();
    let hosts = vec!["relay.langson.example".to_string()];
    let trusted = results::trusted(data, &ids, &hosts);
    assert!(
        trusted.ignored.len() <= 21,
        "{} ignored lines",
        trusted.ignored.len()
    );
    if let Some(h) = &trusted.header {
        assert!(
            ids.contains(&h.authserv_id),
            "header from {:?} trusted",
            h.authserv_id
        );
    }
    AuthResultsSummary {
        parsed: parsed.is_some(),
        results: parsed.map_or(0, |a| a.results.len()),
        trusted: trusted.header.is_some(),
        ignored: trusted.ignored.len(),
    }
}
