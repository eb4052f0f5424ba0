//! # The intake decision
//!
//! Everything between "these bytes arrived" and "this is what to file, log and send" happens
//! here, without IO: [`examine`] turns an inbound item into facts (envelope, files with their
//! checks and deliverables, agency, campaign) and [`plan`] turns facts plus what the store
//! already holds into a [`Plan`]. The store executes plans; tests check plans.

pub mod check;
mod examine;
pub mod memo;
mod plan;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sha2::{Digest, Sha256};

use crate::core::classify::How;
use crate::core::extract::{Envelope, FileKind, Skipped};
use crate::core::forms::spec::Severity;
use crate::core::forms::validate::{Datum, Finding};
use crate::core::identify::AgencyMatch;
use crate::workbook::{FormMarker, Grid};

pub use examine::examine;
pub use memo::Memo;
pub use plan::{plan, reply_address};
/// Where an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// The mailbox.
    Mailbox,
    /// The drop folder.
    Drop,
}

impl SourceKind {
    /// As stored and logged.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Mailbox => "mailbox",
            SourceKind::Drop => "drop",
        }
    }
}

/// One thing to take in: a message, or a file from the drop folder.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// Mailbox or drop folder.
    pub source: SourceKind,
    /// Stable key at the source (Maildir unique name; drop path, size and mtime).
    pub key: String,
    /// The raw bytes: the whole message, or the dropped file.
    pub raw: Vec<u8>,
    /// When it arrived as the source saw it (file time); the Received header wins for mail.
    pub seen_at: DateTime<FixedOffset>,
    /// The dropped file's name.
    pub file_name: Option<String>,
    /// The agency code of the drop sub-folder, when there is one.
    pub folder_agency: Option<String>,
    /// The item's real size when it was over the limit and only its start was read.
    pub oversize: Option<u64>,
    /// The sender's authentication, decided once when a message is taken in (None for a
    /// dropped file, or where no check was made).
    pub auth: Option<crate::auth::Authentication>,
}

/// The check of one file before the forms stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Readable and not empty.
    Ok,
    /// A workbook with no cells.
    Empty,
    /// Cannot be read (corrupt, renamed, or beyond the limits).
    Unreadable(String),
    /// Password-protected.
    Encrypted,
}

impl Check {
    /// `ok`, `empty`, `unreadable` or `encrypted`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Check::Ok => "ok",
            Check::Empty => "empty",
            Check::Unreadable(_) => "unreadable",
            Check::Encrypted => "encrypted",
        }
    }

    /// Details for staff.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Check::Unreadable(d) => Some(d),
            _ => None,
        }
    }
}

/// One examined file.
#[derive(Debug, Clone)]
pub struct ExaminedFile {
    /// Sanitised name.
    pub name: String,
    /// Workbook or document, with format.
    pub kind: FileKind,
    /// Where in the message it was.
    pub origin: String,
    /// The attached message it came from (index), None for the message's own parts.
    pub attached: Option<usize>,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The check result.
    pub check: Check,
    /// The deliverable id, when told, and how.
    pub deliverable: Option<(String, How)>,
    /// The blank form's marker, when found.
    pub marker: Option<FormMarker>,
    /// Heading cells of the visible sheets (for agency and deliverable clues).
    pub headings: Vec<String>,
    /// Names of the visible sheets.
    pub sheets: Vec<String>,
    /// The form check of a readable workbook, once its campaign is known.
    pub validation: Option<Validation>,
    /// The workbook's cells, until it is checked.
    pub grid: Option<Grid>,
    /// A marked copy intake sent, coming back with its cells unchanged: never filed.
    pub returned_copy: bool,
    /// The `intake_copy` digest of the workbook's cells as read, before any conversion; None
    /// when nothing was converted (the digest of the cells checked is then the same, and is
    /// taken only for a marked copy) or the file is no readable workbook.
    pub copy_digest: Option<String>,
}

/// A workbook's form check, as filed and told to the sender.
#[derive(Debug, Clone)]
pub struct Validation {
    /// The form recognised, when one was.
    pub form: Option<String>,
    /// Its version.
    pub form_version: Option<u32>,
    /// `marker` or `content`.
    pub by: Option<&'static str>,
    /// No error finding.
    pub valid: bool,
    /// Findings at cells.
    pub findings: Vec<Finding>,
    /// Values read, for consolidation.
    pub data: Vec<Datum>,
    /// The copy with the findings marked (xlsx), when there are findings.
    pub annotated: Option<Vec<u8>>,
}

impl Validation {
    /// Findings of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// The facts of one inbound item.
#[derive(Debug, Clone)]
pub struct Examined {
    /// Mailbox or drop.
    pub source: SourceKind,
    /// Source key.
    pub key: String,
    /// SHA-256 of the raw bytes, hex.
    pub raw_sha256: String,
    /// Raw size.
    pub raw_size: u64,
    /// The headers (empty for a dropped file).
    pub envelope: Envelope,
    /// When it arrived.
    pub arrived: DateTime<FixedOffset>,
    /// Files found.
    pub files: Vec<ExaminedFile>,
    /// Parts not taken.
    pub skipped: Vec<Skipped>,
    /// Who sent it.
    pub agency: AgencyMatch,
    /// The campaign, once the agency is known.
    pub campaign: Option<String>,
    /// Set when the item could not be read or was too large: (outcome, detail).
    pub failure: Option<(Outcome, String)>,
    /// The sender's authentication, when checked.
    pub auth: Option<crate::auth::Authentication>,
    /// Staff attributed the item (assign or release): no policy holds it again.
    pub staff_confirmed: bool,
}

impl Examined {
    /// The authentication verdict, when the item was checked.
    pub fn verdict(&self) -> Option<crate::auth::Verdict> {
        self.auth.as_ref().map(|a| a.verdict)
    }
}

/// The outcome of one inbound item, as staff see it in the intake log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Files filed under a known agency.
    Filed,
    /// Already taken in (same Message-ID, same bytes, or only known file contents).
    Duplicate,
    /// An agency was guessed from names; waits for staff to confirm.
    ProbableAgency,
    /// Files from a sender no one can tell; quarantined.
    UnknownSender,
    /// A known agency's message without workbook or report.
    NoWorkbook,
    /// Personal mail with nothing for intake; not touched.
    LeftAlone,
    /// An auto-reply or bulk mail with nothing for intake.
    AutoReplyIgnored,
    /// Not a readable message.
    Unreadable,
    /// Over the size limit.
    TooLarge,
    /// From a known agency, but no campaign of theirs is open.
    NoCampaign,
    /// From a known agency, but no file could be tied to a deliverable; staff decide.
    Unclassified,
    /// Claims a listed agency's address, but the domain's authentication failed: held with
    /// its evidence until staff release it; counted nowhere, answered to no one.
    SenderUnverified,
    /// Mailing-list or bulk mail carrying files: logged, never filed or answered.
    ListIgnored,
}

impl Outcome {
    /// The kebab-case name used in the log, the store and the fixtures.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Filed => "filed",
            Outcome::Duplicate => "duplicate",
            Outcome::ProbableAgency => "probable-agency",
            Outcome::UnknownSender => "unknown-sender",
            Outcome::NoWorkbook => "no-workbook",
            Outcome::LeftAlone => "left-alone",
            Outcome::AutoReplyIgnored => "auto-reply-ignored",
            Outcome::Unreadable => "unreadable",
            Outcome::TooLarge => "too-large",
            Outcome::NoCampaign => "no-campaign",
            Outcome::Unclassified => "unclassified",
            Outcome::SenderUnverified => "sender-unverified",
            Outcome::ListIgnored => "list-ignored",
        }
    }

    /// Parses a stored outcome.
    pub fn parse(s: &str) -> Option<Outcome> {
        ALL_OUTCOMES.into_iter().find(|o| o.as_str() == s)
    }

    /// True when the outcome leaves files for staff to decide on (quarantine).
    pub fn quarantines(self) -> bool {
        matches!(
            self,
            Outcome::UnknownSender
                | Outcome::ProbableAgency
                | Outcome::NoCampaign
                | Outcome::Unclassified
                | Outcome::SenderUnverified
        )
    }
}

const ALL_OUTCOMES: [Outcome; 13] = [
    Outcome::SenderUnverified,
    Outcome::ListIgnored,
    Outcome::Unclassified,
    Outcome::Filed,
    Outcome::Duplicate,
    Outcome::ProbableAgency,
    Outcome::UnknownSender,
    Outcome::NoWorkbook,
    Outcome::LeftAlone,
    Outcome::AutoReplyIgnored,
    Outcome::Unreadable,
    Outcome::TooLarge,
    Outcome::NoCampaign,
];

/// The state of a deliverable version before the forms stage validates its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// Only the report arrived; the workbook is awaited.
    Received,
    /// The workbook cannot be used (unreadable, empty, protected).
    Invalid,
    /// The workbook was read and is not empty.
    Accepted,
}

impl VersionState {
    /// As stored and shown in `status --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Received => "received",
            VersionState::Invalid => "invalid",
            VersionState::Accepted => "accepted",
        }
    }
}

/// Per deliverable: the last version, the file hashes filed, the latest state.
pub type Held = (u32, HashSet<String>, Option<VersionState>);

/// Largest marked copy a receipt carries, and largest workbook a marked copy is made of (the
/// copy is the workbook's own package, so about its size): mail servers refuse large
/// messages, and the receipt must reach the sender in seconds whatever it sent. A larger
/// workbook's findings are listed in the receipt and on the board.
pub const MAX_ATTACHED_COPY: usize = 8 * 1024 * 1024;

/// What the store already holds that a plan depends on.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// A message already taken in with the same bytes: its id.
    pub duplicate_of: Option<i64>,
    /// A message already taken in with the same Message-ID: the hashes of its files. The new
    /// one is a duplicate only when it brings no other file (a corrected workbook re-sent
    /// under the same Message-ID is not lost).
    pub same_message_id: Option<HashSet<String>>,
    /// The agency's extended deadline in the campaign, when staff gave one.
    pub extension: Option<DateTime<FixedOffset>>,
    /// Per deliverable: the highest version, the file hashes already filed, the latest state.
    pub versions: HashMap<String, Held>,
    /// Receipts already queued to the reply address for mail that arrived in the hour
    /// before this one (RFC 3834: a robot answering every receipt must not start a loop).
    pub recent_receipts: u32,
    /// Hashes of this item's files that intake itself sent out (marked copies, blank forms):
    /// coming back unchanged, they are never a new version.
    pub sent_by_us: HashSet<String>,
    /// The claimed agency was already told today that mail in its name failed the check.
    pub unverified_notice_today: bool,
}

/// A new version to file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    /// Deliverable id.
    pub deliverable: String,
    /// Its number, one more than the last.
    pub version: u32,
    /// Indexes into `Examined::files`.
    pub files: Vec<usize>,
    /// Its state.
    pub state: VersionState,
    /// Arrived after the deadline.
    pub late: bool,
    /// Warnings of its accepted workbook.
    pub warnings: usize,
}

/// What to do with one inbound item.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The outcome.
    pub outcome: Outcome,
    /// The agency the item is filed under (sure or confirmed).
    pub agency: Option<String>,
    /// New versions.
    pub versions: Vec<NewVersion>,
    /// For each file: its version, when filed.
    pub file_versions: Vec<Option<u32>>,
    /// Queue a receipt to this address.
    pub receipt_to: Option<String>,
    /// With a copy to this address (the clerk who forwarded the agency's message).
    pub receipt_cc: Option<String>,
    /// The agency a held message claims to be from (`sender-unverified`).
    pub claimed: Option<String>,
    /// Tell this registered address of the claimed agency that mail in its name failed the check.
    pub unverified_notice_to: Option<String>,
    /// Indexes of files that are intake's own copies coming back: recorded, never filed.
    pub returned: Vec<usize>,
    /// A receipt that would have gone to this address but was held back by the hourly limit.
    pub receipt_withheld: Option<String>,
    /// Arrived after the campaign's deadline (None when nothing was filed).
    pub late: Option<bool>,
    /// Whether to acknowledge the item at its source once recorded. Mail intake has no
    /// business with (personal mail, or an unreadable or oversized message from an unknown
    /// sender) is left exactly as it was.
    pub acknowledge: bool,
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
