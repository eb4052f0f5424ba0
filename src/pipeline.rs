//! # The intake decision
//!
//! Everything between "these bytes arrived" and "this is what to file, log and send" happens
//! here, without IO: [`examine`] turns an inbound item into facts (envelope, files with their
//! checks and deliverables, agency, campaign) and [`plan`] turns facts plus what the store
//! already holds into a [`Plan`]. The store executes plans; tests check plans.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sha2::{Digest, Sha256};

use crate::classify::{self, FileFacts, How};
use crate::config::Campaign;
use crate::config::{Agency, Config};
use crate::extract::{self, AutoMail, Envelope, Extraction, FileKind, Skipped};
use crate::forms::recognise::RecognisedBy;
use crate::forms::spec::Severity;
use crate::forms::validate::{Datum, Finding, From};
use crate::forms::{annotate, check};
use crate::identify::{self, AgencyMatch, Clues};
use crate::workbook::{CellValue, FormMarker, Grid, InspectError, Inspector};

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
        )
    }
}

const ALL_OUTCOMES: [Outcome; 11] = [
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

/// What the store already holds that a plan depends on.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// A message already taken in with the same bytes: its id.
    pub duplicate_of: Option<i64>,
    /// A message already taken in with the same Message-ID: the hashes of its files. The new
    /// one is a duplicate only when it brings no other file (a corrected workbook re-sent
    /// under the same Message-ID is not lost).
    pub same_message_id: Option<HashSet<String>>,
    /// Per deliverable: the highest version, the file hashes already filed, the latest state.
    pub versions: HashMap<String, crate::store::Held>,
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
    /// Arrived after the campaign's deadline (None when nothing was filed).
    pub late: Option<bool>,
    /// Whether to acknowledge the item at its source once recorded. Mail intake has no
    /// business with (personal mail, or an unreadable or oversized message from an unknown
    /// sender) is left exactly as it was.
    pub acknowledge: bool,
}

/// Examines an inbound item: extraction, inspection, agency, campaign, deliverables.
pub fn examine(
    item: &Inbound,
    config: &Config,
    inspector: &Inspector,
    forced_agency: Option<&str>,
) -> Examined {
    let raw_sha256 = sha256_hex(&item.raw);
    let mut ex = Examined {
        source: item.source,
        key: item.key.clone(),
        raw_sha256,
        raw_size: item.raw.len() as u64,
        envelope: Envelope::default(),
        arrived: item.seen_at,
        files: Vec::new(),
        skipped: Vec::new(),
        agency: AgencyMatch::Unknown,
        campaign: None,
        failure: None,
    };
    let limits = &config.limits;
    let extraction = match item.source {
        _ if item.oversize.is_some()
            || (item.source == SourceKind::Mailbox
                && item.raw.len() as u64 > limits.max_message_bytes) =>
        {
            // Read only the headers, so a known agency still hears why.
            let head_len = item
                .raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(item.raw.len().min(64 << 10), |p| p + 4);
            let head = match item.source {
                SourceKind::Mailbox => {
                    extract::extract(&item.raw[..head_len.min(64 << 10)], limits)
                        .unwrap_or_default()
                }
                SourceKind::Drop => Extraction::default(),
            };
            let size = item.oversize.unwrap_or(item.raw.len() as u64);
            let limit = match item.source {
                SourceKind::Mailbox => limits.max_message_bytes,
                SourceKind::Drop => limits.max_file_bytes,
            };
            ex.raw_size = size;
            ex.failure = Some((
                Outcome::TooLarge,
                format!("{size} bytes, above the limit of {limit}"),
            ));
            head
        }
        SourceKind::Mailbox => match extract::extract(&item.raw, limits) {
            Ok(x) => x,
            Err(e) => {
                ex.failure = Some((Outcome::Unreadable, e.to_string()));
                Default::default()
            }
        },
        SourceKind::Drop => extract::extract_file(
            item.file_name.as_deref().unwrap_or("tep"),
            item.raw.clone(),
            limits,
        ),
    };
    ex.envelope = extraction.envelope;
    ex.skipped = extraction.skipped;
    if let Some(at) = ex.envelope.arrived {
        ex.arrived = at;
    }
    for f in extraction.files {
        let (check, grid) = check_file(&f, inspector);
        let marker = grid.as_ref().and_then(|g| g.marker.clone());
        let headings: Vec<String> = grid
            .as_ref()
            .map(|g| headings_of(g, HEADING_ROWS))
            .unwrap_or_default();
        let sheets: Vec<String> = grid
            .as_ref()
            .map(|g| {
                g.sheets
                    .iter()
                    .filter(|s| s.visible)
                    .map(|s| s.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        ex.files.push(ExaminedFile {
            sha256: sha256_hex(&f.bytes),
            name: f.name,
            kind: f.kind,
            origin: f.origin,
            bytes: f.bytes,
            check,
            deliverable: None,
            marker,
            headings,
            sheets,
            validation: None,
            grid,
        });
    }

    let agencies = config.agencies();
    ex.agency = match forced_agency {
        Some(code) => AgencyMatch::Address {
            code: code.into(),
            address: "assigned".into(),
        },
        None => {
            let folder = item
                .folder_agency
                .as_deref()
                .and_then(|c| agencies.iter().find(|a| a.code == c));
            match folder {
                Some(a) => AgencyMatch::Folder {
                    code: a.code.clone(),
                },
                None => match identify_sender(&ex, &agencies, config) {
                    // Files in the shared folder were put there by staff or the agency itself.
                    AgencyMatch::Probable { code, evidence } if item.source == SourceKind::Drop => {
                        AgencyMatch::Named { code, evidence }
                    }
                    other => other,
                },
            }
        }
    };

    let code = match &ex.agency {
        AgencyMatch::Unknown => None,
        AgencyMatch::Probable { code, .. } => Some(code.clone()),
        m => m.sure().map(str::to_string),
    };
    // Files from an unknown sender are classified too, so staff see what they are.
    if code.is_some() || !ex.files.is_empty() {
        let forms: Vec<&str> = ex
            .files
            .iter()
            .filter_map(|f| f.marker.as_ref().map(|m| m.form.as_str()))
            .collect();
        if let Some(c) = classify::campaign(
            &config.campaigns,
            code.as_deref(),
            ex.arrived,
            &ex.envelope.subject,
            &forms,
        ) {
            ex.campaign = Some(c.id.clone());
            for f in &mut ex.files {
                let sheets: Vec<&str> = f.sheets.iter().map(String::as_str).collect();
                let headings: Vec<&str> = f.headings.iter().map(String::as_str).collect();
                let facts = FileFacts {
                    name: &f.name,
                    marker: f.marker.as_ref(),
                    sheets,
                    headings,
                };
                f.deliverable =
                    classify::deliverable(c, &facts).map(|(d, how)| (d.id.clone(), how));
            }
            // A document that tells nothing goes with the message's only deliverable.
            let told: HashSet<&str> = ex
                .files
                .iter()
                .filter_map(|f| f.deliverable.as_ref().map(|d| d.0.as_str()))
                .collect();
            if told.len() == 1 {
                let only = told.into_iter().next().unwrap().to_string();
                for f in ex.files.iter_mut().filter(|f| f.deliverable.is_none()) {
                    f.deliverable = Some((only.clone(), How::Sibling));
                }
            }
            let from = code
                .as_deref()
                .and_then(|code| c.agencies.iter().find(|a| a.code == code))
                .map(|a| From {
                    code: &a.code,
                    kind: a.kind,
                });
            for f in &mut ex.files {
                validate_file(f, c, from);
            }
        }
    }
    ex
}

/// Checks a readable workbook against the campaign's forms; the form it is recognised as
/// decides its deliverable over file-name keywords.
fn validate_file(f: &mut ExaminedFile, campaign: &Campaign, from: Option<From<'_>>) {
    if !matches!(f.kind, FileKind::Workbook(_)) {
        return;
    }
    if f.check != Check::Ok || !campaign.deliverables.iter().any(|d| d.spec.is_some()) {
        return;
    }
    let Some(grid) = f.grid.take() else { return };
    let checked = check::check_grid(grid, campaign, from);
    if let Some(d) = &checked.deliverable {
        let how = if checked.by == Some(RecognisedBy::Marker) {
            How::Marker
        } else {
            How::Heading
        };
        f.deliverable = Some((d.clone(), how));
    }
    let annotated = (!checked.findings.is_empty())
        .then(|| {
            annotate::annotated_copy(
                &checked.grid,
                &checked.findings,
                &format!("Kết quả kiểm tra {}", f.name),
            )
            .ok()
        })
        .flatten();
    f.validation = Some(Validation {
        form: checked.form,
        form_version: checked.form_version,
        by: checked.by.map(|b| match b {
            RecognisedBy::Marker => "marker",
            RecognisedBy::Content => "content",
        }),
        valid: checked.valid,
        findings: checked.findings,
        data: checked.data,
        annotated,
    });
}

fn identify_sender(ex: &Examined, agencies: &[&Agency], config: &Config) -> AgencyMatch {
    let e = &ex.envelope;
    let senders: Vec<&str> = e
        .from
        .iter()
        .chain(e.sender.iter())
        .chain(e.reply_to.iter())
        .map(String::as_str)
        .filter(|a| !config.department.addresses.iter().any(|o| o == a))
        .collect();
    let clues = Clues {
        subject: &e.subject,
        from_name: e.from_name.as_deref(),
        file_names: ex.files.iter().map(|f| f.name.as_str()).collect(),
        headings: ex
            .files
            .iter()
            .flat_map(|f| f.headings.iter().map(String::as_str))
            .collect(),
    };
    identify::identify(agencies, &senders, &clues)
}

/// Rows of a sheet read as its heading (titles, the agency's name).
const HEADING_ROWS: usize = 8;

/// Reads a workbook once, within limits: its check and its cells.
fn check_file(f: &extract::FoundFile, inspector: &Inspector) -> (Check, Option<Grid>) {
    match f.kind {
        FileKind::Document(_) if f.magic_ok => (Check::Ok, None),
        FileKind::Document(_) => (
            Check::Unreadable("the file's content does not match its name".into()),
            None,
        ),
        FileKind::Workbook(format) => {
            if crate::workbook::is_encrypted_ooxml(&f.bytes) {
                return (Check::Encrypted, None);
            }
            match inspector.read(&f.bytes, format) {
                Ok(mut g) => {
                    check::unlegacy(&mut g);
                    let empty = g.sheets.iter().filter(|s| s.visible).all(|s| {
                        s.cells
                            .iter()
                            .all(|c| matches!(&c.value, CellValue::Text(t) if t.trim().is_empty()))
                    });
                    (if empty { Check::Empty } else { Check::Ok }, Some(g))
                }
                Err(InspectError::Encrypted) => (Check::Encrypted, None),
                Err(e) => (Check::Unreadable(e.to_string()), None),
            }
        }
    }
}

/// The texts of the first non-empty rows of each visible sheet, in reading order.
fn headings_of(grid: &Grid, rows: usize) -> Vec<String> {
    let mut out = Vec::new();
    for sheet in grid.sheets.iter().filter(|s| s.visible) {
        let mut seen_rows = 0;
        let mut last_row = None;
        for cell in &sheet.cells {
            let Some(text) =
                crate::forms::recognise::text(&cell.value).filter(|t| !t.trim().is_empty())
            else {
                continue;
            };
            if last_row != Some(cell.row) {
                seen_rows += 1;
                last_row = Some(cell.row);
            }
            if seen_rows > rows {
                break;
            }
            out.push(text.trim().to_string());
        }
    }
    out
}

/// Decides what to do with examined facts, given what the store holds.
pub fn plan(ex: &Examined, config: &Config, prior: &Prior) -> Plan {
    let mut p = Plan {
        outcome: Outcome::Filed,
        agency: None,
        versions: Vec::new(),
        file_versions: vec![None; ex.files.len()],
        receipt_to: None,
        late: None,
        acknowledge: true,
    };
    let sure = ex.agency.sure().map(str::to_string);
    let reply_to = ex
        .envelope
        .reply_to
        .first()
        .or(ex.envelope.from.as_ref())
        .cloned();
    let may_reply = ex.envelope.auto.is_none()
        && ex.source == SourceKind::Mailbox
        && reply_to
            .as_ref()
            .is_some_and(|a| !config.department.addresses.contains(a));
    let receipt = |p: &mut Plan| {
        if may_reply {
            p.receipt_to = reply_to.clone();
        }
    };

    if let Some((outcome, _)) = &ex.failure {
        p.outcome = *outcome;
        p.agency = sure.clone();
        if *outcome == Outcome::TooLarge && sure.is_some() {
            receipt(&mut p);
        }
        // Someone's holiday photos are not ours to move; a dropped file always is.
        p.acknowledge = sure.is_some() || ex.source == SourceKind::Drop;
        return p;
    }
    let same_files = prior
        .same_message_id
        .as_ref()
        .is_some_and(|known| ex.files.iter().all(|f| known.contains(&f.sha256)));
    if prior.duplicate_of.is_some() || same_files {
        p.outcome = Outcome::Duplicate;
        p.agency = sure;
        return p;
    }
    if ex.files.is_empty() {
        p.outcome = match (&sure, &ex.envelope.auto) {
            (_, Some(AutoMail::OutOfOffice | AutoMail::AutoSubmitted(_) | AutoMail::Bounce)) => {
                Outcome::AutoReplyIgnored
            }
            (Some(_), _) if ex.source == SourceKind::Mailbox => Outcome::NoWorkbook,
            _ => Outcome::LeftAlone,
        };
        p.agency = sure;
        if p.outcome == Outcome::NoWorkbook {
            receipt(&mut p);
        }
        p.acknowledge = p.outcome != Outcome::LeftAlone;
        return p;
    }
    let Some(agency) = sure else {
        p.outcome = match ex.agency {
            AgencyMatch::Probable { .. } => {
                receipt(&mut p);
                Outcome::ProbableAgency
            }
            _ => Outcome::UnknownSender,
        };
        return p;
    };
    p.agency = Some(agency.clone());
    let Some(campaign) = ex.campaign.as_deref().and_then(|id| config.campaign(id)) else {
        p.outcome = Outcome::NoCampaign;
        return p;
    };

    // Group files by deliverable, in order of first appearance.
    let mut groups: BTreeMap<usize, (String, Vec<usize>)> = BTreeMap::new();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, f) in ex.files.iter().enumerate() {
        if let Some((d, _)) = &f.deliverable {
            let at = *first.entry(d.as_str()).or_insert(i);
            groups
                .entry(at)
                .or_insert_with(|| (d.clone(), Vec::new()))
                .1
                .push(i);
        }
    }
    let late = ex.arrived > campaign.deadline;
    for (_, (deliverable, files)) in groups {
        let (last, known, _) = prior
            .versions
            .get(&deliverable)
            .cloned()
            .unwrap_or_default();
        if files.iter().all(|&i| known.contains(&ex.files[i].sha256)) {
            continue;
        }
        let version = last + 1;
        let workbooks: Vec<&ExaminedFile> = files
            .iter()
            .map(|&i| &ex.files[i])
            .filter(|f| matches!(f.kind, FileKind::Workbook(_)))
            .collect();
        // A workbook counts when it could be read and, where its form is specified, holds
        // no error; a version with one such workbook is accepted.
        let usable = |f: &&&ExaminedFile| {
            f.check == Check::Ok && f.validation.as_ref().is_none_or(|v| v.valid)
        };
        let state = if workbooks.is_empty() {
            VersionState::Received
        } else if workbooks.iter().any(|f| usable(&f)) {
            VersionState::Accepted
        } else {
            VersionState::Invalid
        };
        let warnings = workbooks
            .iter()
            .filter(|f| usable(f))
            .filter_map(|f| f.validation.as_ref())
            .map(|v| v.count(Severity::Warning))
            .sum();
        for &i in &files {
            p.file_versions[i] = Some(version);
        }
        p.versions.push(NewVersion {
            deliverable,
            version,
            files,
            state,
            late,
            warnings,
        });
    }
    if p.versions.is_empty() {
        // Nothing new was filed: either everything was known, or some file could not be tied
        // to a deliverable and waits for staff.
        if ex.files.iter().all(|f| f.deliverable.is_some()) {
            p.outcome = Outcome::Duplicate;
            return p;
        }
        p.outcome = Outcome::Unclassified;
    }
    p.late = Some(late);
    receipt(&mut p);
    p
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        }
    }

    fn decide(raw: Vec<u8>, prior: &Prior, config: &Config) -> (Examined, Plan) {
        let ex = examine(
            &inbound(raw),
            config,
            &Inspector::new(Limits::default(), None),
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
        let (_, p) = decide(bulk, &Prior::default(), &config);
        assert_eq!((p.outcome, p.receipt_to), (Outcome::Filed, None));
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
}
