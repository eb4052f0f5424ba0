//! # Workbook inspection
//!
//! Reads what intake needs to know of an e-mailed workbook — before the forms stage its
//! sheets, the text of their title rows and the blank form's marker ([`Inspector::inspect`]),
//! for the forms stage every cell ([`Inspector::read`], module `grid`) — without letting a
//! hostile or broken file take the daemon down. calamine's whole-sheet readers allocate by
//! what a file declares (a 5 KB xlsx can ask for 512 GiB and abort the process), so:
//!
//! - xlsx/xlsm are read in-process, but only after module `package` has checked the zip
//!   against size and count budgets, and only through calamine's streaming cell reader
//!   (module `xlsx`);
//! - xls and ods, whose calamine readers load every sheet whole, are read in a child process
//!   (the `intake` binary itself, `intake inspect-workbook`) under memory, CPU and wall-clock
//!   limits (module `child`); a child that dies takes nothing else with it.
//!
//! Every way a workbook can fail is an [`InspectError`]: an ordinary outcome to show staff
//! and the sender, never a panic or an abort of the daemon.

mod biff;
mod child;
pub mod copymark;
mod grid;
mod notes;
mod odf;
mod ole;
mod package;
mod scan;
mod sniff;
mod whole;
mod xlsx;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use child::child_main;
pub use grid::{Cell, CellValue, Grid, Sheet, Shown, a1};
pub use sniff::{is_encrypted_ooxml, sniff};

/// Workbook formats intake takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkbookFormat {
    /// Office Open XML workbook without macros (also .xltx templates).
    Xlsx,
    /// Office Open XML workbook with macros (also .xltm templates).
    Xlsm,
    /// Excel 97–2003 binary workbook (BIFF8 in an OLE compound file).
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
}

impl WorkbookFormat {
    /// The lowercase name used on the command line and in JSON (`xlsx`, `xlsm`, `xls`, `ods`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkbookFormat::Xlsx => "xlsx",
            WorkbookFormat::Xlsm => "xlsm",
            WorkbookFormat::Xls => "xls",
            WorkbookFormat::Ods => "ods",
        }
    }
}

impl std::fmt::Display for WorkbookFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WorkbookFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "xlsx" => Ok(WorkbookFormat::Xlsx),
            "xlsm" => Ok(WorkbookFormat::Xlsm),
            "xls" => Ok(WorkbookFormat::Xls),
            "ods" => Ok(WorkbookFormat::Ods),
            other => Err(format!(
                "unknown workbook format '{other}' (expected xlsx, xlsm, xls or ods)"
            )),
        }
    }
}

/// Bounds on what reading one workbook may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most non-empty cells read in the whole workbook; past it the outcome is `TooLarge`.
    pub max_cells: u64,
    /// Most bytes of text (cell text, error values, formula text, sheet and defined names)
    /// that [`Inspector::read`] keeps from one workbook; past it the outcome is `TooLarge`.
    pub max_text_bytes: u64,
    /// Largest workbook file taken; an xlsx/ods package may also unpack to at most four times this.
    pub max_bytes: u64,
    /// How many of a sheet's first non-empty rows make its heading and are searched for the marker.
    pub heading_rows: u32,
    /// Address-space limit (RLIMIT_AS) of the child process that reads xls and ods. calamine
    /// loads those whole: a 15 MB xls of 1.57 million number cells needs between 128 and
    /// 192 MiB of address space (124 MB resident), so the default, 320 MiB, leaves such a
    /// file room and stops a reader led astray by a damaged file long before it hurts.
    pub child_memory_bytes: u64,
    /// Wall-clock limit of the child process; its CPU limit is this rounded up, plus a second.
    pub child_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_cells: 2_000_000,
            max_text_bytes: 64 * 1024 * 1024,
            max_bytes: 50 * 1024 * 1024,
            heading_rows: 8,
            child_memory_bytes: 320 * 1024 * 1024,
            child_timeout: Duration::from_secs(20),
        }
    }
}

/// What intake needs to know of a workbook before the forms stage: sheets, heading text, marker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// Every sheet in workbook order, hidden ones included.
    pub sheets: Vec<SheetInfo>,
    /// The blank form's marker, from the `intake_form` defined name or a marker cell.
    pub marker: Option<FormMarker>,
    /// Non-empty cells in the whole workbook.
    pub cells: u64,
}

/// One sheet of an inspected workbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetInfo {
    /// The sheet's name as shown on its tab.
    pub name: String,
    /// False for hidden and very hidden sheets.
    pub visible: bool,
    /// Non-empty cells in this sheet.
    pub cells: u64,
    /// Text of the non-empty cells of the first `heading_rows` non-empty rows, in reading order.
    pub heading: Vec<String>,
}

/// The form id and version that intake's blank forms carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FormMarker {
    /// The form's id, e.g. `742-2018-pl1`.
    pub form: String,
    /// The version of the blank form, e.g. `1`.
    pub version: u32,
}

impl FormMarker {
    /// Parses a marker cell's text, `intake-form:<form>@<version>` (surrounding blanks ignored).
    pub fn parse(text: &str) -> Option<FormMarker> {
        scan::parse_marker(text)
    }

    /// Parses the value of an `intake_form` defined name: the marker text, quoted or not,
    /// possibly after a leading `=`.
    pub fn parse_defined_name(value: &str) -> Option<FormMarker> {
        scan::parse_marker_formula(value)
    }
}

impl std::fmt::Display for FormMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "intake-form:{}@{}", self.form, self.version)
    }
}

/// Why a workbook could not be inspected; each is an outcome shown to staff and the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum InspectError {
    /// The workbook is protected with a password to open it.
    #[error("the workbook is protected by a password, so it cannot be read")]
    Encrypted,
    /// The file is not a workbook of its format or is damaged; the text says what was wrong.
    #[error("the workbook cannot be read: {0}")]
    Unreadable(String),
    /// The workbook goes past a limit (cells, bytes, parts or memory); `limit` is that limit.
    #[error("the workbook is too large to read (limit: {limit})")]
    TooLarge {
        /// The limit the workbook went past, in the unit of what was counted.
        limit: u64,
    },
    /// Reading the workbook took longer than the time allowed.
    #[error("reading the workbook took longer than the time allowed")]
    TimedOut,
    /// The reader stopped unexpectedly; the text says how.
    #[error("the workbook reader stopped unexpectedly: {0}")]
    Crashed(String),
}

/// Reads workbooks within [`Limits`].
///
/// xlsx/xlsm are read in-process with calamine's streaming cell reader, after a check of the
/// zip package (caps on cells, unpacked bytes, parts and XML items). xls and ods — whose
/// calamine readers load whole sheets — are read in a child process (the `intake` binary
/// itself, path given to [`Inspector::new`]) under `setrlimit(RLIMIT_AS, child_memory_bytes)`
/// and `RLIMIT_CPU`, killed after `child_timeout`; the child's answer comes back as JSON on
/// stdout.
#[derive(Debug, Clone)]
pub struct Inspector {
    limits: Limits,
    helper: Option<PathBuf>,
}

impl Inspector {
    /// An inspector with these limits; `helper` is the `intake` binary that reads xls and ods.
    ///
    /// With `helper` `None`, xls and ods are read in-process too, where a hostile file can
    /// exhaust memory and abort the whole process: only for trusted input, as in unit tests
    /// and inside the child itself.
    pub fn new(limits: Limits, helper: Option<PathBuf>) -> Self {
        Inspector { limits, helper }
    }

    /// The limits this inspector reads within.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Inspects one workbook whose format [`sniff`] found (or the sender's name claims).
    pub fn inspect(
        &self,
        bytes: &[u8],
        format: WorkbookFormat,
    ) -> Result<Inspection, InspectError> {
        self.admit(bytes)?;
        let result = match (format, &self.helper) {
            (WorkbookFormat::Xlsx | WorkbookFormat::Xlsm, _) => {
                guarded(|| xlsx::inspect(bytes, &self.limits))
            }
            (WorkbookFormat::Xls | WorkbookFormat::Ods, Some(helper)) => {
                // Cheap structural checks in-process, so that a plain wrong file gets a clear
                // answer without a process being started for it.
                whole::precheck(bytes, format, &self.limits).and_then(|()| {
                    child::run(helper, bytes, format, &self.limits, child::Mode::Inspect)
                })
            }
            (WorkbookFormat::Xls | WorkbookFormat::Ods, None) => {
                guarded(|| whole::inspect(bytes, format, &self.limits))
            }
        };
        result.map_err(shorten)
    }

    /// Reads every cell (hidden sheets too, flagged), bounded by [`Limits::max_cells`] and
    /// [`Limits::max_text_bytes`] over the whole workbook (`TooLarge` past them) and by the
    /// same package checks and child-process limits as [`Inspector::inspect`].
    ///
    /// xlsx/xlsm are streamed in-process; xls and ods are read in the child process, which
    /// answers the whole [`Grid`] as JSON.
    pub fn read(&self, bytes: &[u8], format: WorkbookFormat) -> Result<Grid, InspectError> {
        self.admit(bytes)?;
        let result = match (format, &self.helper) {
            (WorkbookFormat::Xlsx | WorkbookFormat::Xlsm, _) => {
                guarded(|| xlsx::read(bytes, &self.limits))
            }
            (WorkbookFormat::Xls | WorkbookFormat::Ods, Some(helper)) => {
                whole::precheck(bytes, format, &self.limits).and_then(|()| {
                    child::run(helper, bytes, format, &self.limits, child::Mode::Cells)
                })
            }
            (WorkbookFormat::Xls | WorkbookFormat::Ods, None) => {
                guarded(|| whole::read(bytes, format, &self.limits))
            }
        };
        result.map_err(shorten)
    }

    /// The checks every reading starts with: size, then encryption.
    fn admit(&self, bytes: &[u8]) -> Result<(), InspectError> {
        if bytes.len() as u64 > self.limits.max_bytes {
            return Err(InspectError::TooLarge {
                limit: self.limits.max_bytes,
            });
        }
        // An encrypted OOXML file is an OLE container whatever its name says; answering
        // before any reader sees it gives the sender the one useful message.
        if is_encrypted_ooxml(bytes) {
            return Err(InspectError::Encrypted);
        }
        Ok(())
    }
}

/// Longest explanation an outcome carries, in characters.
const MAX_EXPLANATION: usize = 300;

/// Keeps explanations short: they quote part and sheet names and calamine's messages,
/// which a hostile file controls, and they end up in receipts.
fn shorten(e: InspectError) -> InspectError {
    let cut = |text: String| match text.char_indices().nth(MAX_EXPLANATION) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    };
    match e {
        InspectError::Unreadable(text) => InspectError::Unreadable(cut(text)),
        InspectError::Crashed(text) => InspectError::Crashed(cut(text)),
        other => other,
    }
}

/// Runs a reader, turning a panic inside calamine on malformed input
/// into an `Unreadable` outcome instead of a dead worker thread.
fn guarded<T>(read: impl FnOnce() -> Result<T, InspectError>) -> Result<T, InspectError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(result) => result,
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_string());
            Err(InspectError::Unreadable(format!(
                "the workbook reader failed on this file ({text})"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_the_documented_ones() {
        let l = Limits::default();
        assert_eq!(l.max_cells, 2_000_000);
        assert_eq!(l.max_text_bytes, 64 << 20);
        assert_eq!(l.max_bytes, 50 * 1024 * 1024);
        assert_eq!(l.heading_rows, 8);
        assert_eq!(l.child_memory_bytes, 320 << 20);
        assert_eq!(l.child_timeout, Duration::from_secs(20));
    }

    #[test]
    fn format_round_trips_through_text_and_json() {
        for f in [
            WorkbookFormat::Xlsx,
            WorkbookFormat::Xlsm,
            WorkbookFormat::Xls,
            WorkbookFormat::Ods,
        ] {
            assert_eq!(f.as_str().parse::<WorkbookFormat>().unwrap(), f);
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.as_str()));
        }
        assert!("xlsb".parse::<WorkbookFormat>().is_err());
    }

    #[test]
    fn errors_round_trip_through_json_and_read_plainly() {
        let all = [
            InspectError::Encrypted,
            InspectError::Unreadable("x".into()),
            InspectError::TooLarge { limit: 5 },
            InspectError::TimedOut,
            InspectError::Crashed("y".into()),
        ];
        for e in all {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<InspectError>(&json).unwrap(), e);
            let text = e.to_string();
            assert!(text.starts_with(char::is_lowercase), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }

    #[test]
    fn oversized_input_is_refused_before_reading() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let inspector = Inspector::new(limits, None);
        let got = inspector.inspect(&[0u8; 11], WorkbookFormat::Xlsx);
        assert_eq!(got, Err(InspectError::TooLarge { limit: 10 }));
        let got = inspector.read(&[0u8; 11], WorkbookFormat::Ods);
        assert_eq!(got, Err(InspectError::TooLarge { limit: 10 }));
    }

    #[test]
    fn long_explanations_are_cut() {
        let long = InspectError::Unreadable(format!("part '{}'", "ệ".repeat(5000)));
        let InspectError::Unreadable(text) = shorten(long) else {
            panic!("variant changed")
        };
        assert_eq!(text.chars().count(), MAX_EXPLANATION + 1);
        assert!(text.ends_with('…'));
        assert_eq!(shorten(InspectError::TimedOut), InspectError::TimedOut);
    }

    #[test]
    fn a_panicking_reader_becomes_unreadable() {
        let got = guarded::<Inspection>(|| panic!("boom"));
        assert!(matches!(got, Err(InspectError::Unreadable(m)) if m.contains("boom")));
    }
}
