//! # Examining an item
//!
//! Extraction, bounded reading of each workbook, the sender's agency, the campaign, each
//! file's deliverable and its form check: everything known of an item before the store is
//! asked anything.

use std::collections::HashSet;

use chrono::Offset;

use crate::config::{Agency, Campaign, Config};
use crate::core::classify::{self, FileFacts, How};
use crate::core::extract::{self, AttachedMessage, Envelope, Extraction, FileKind};
use crate::core::forms::recognise::RecognisedBy;
use crate::core::forms::validate::From;
use crate::core::forms::{annotate, check};
use crate::core::identify::{self, AgencyMatch, Clues};
use crate::workbook::{CellValue, Grid, InspectError, Inspector};

use super::check::{check_grid, spec_of};
use super::memo::{self, Memo};
use super::{Check, Examined, ExaminedFile, Inbound, Outcome, SourceKind, Validation, sha256_hex};

/// Examines an inbound item: extraction, inspection, agency, campaign, deliverables.
///
/// `memo`, when given, answers for files whose bytes were examined before under the same
/// configuration, and learns the others.
pub fn examine(
    item: &Inbound,
    config: &Config,
    inspector: &Inspector,
    forced_agency: Option<&str>,
    memo: Option<&Memo>,
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
        auth: item.auth.clone(),
        staff_confirmed: forced_agency.is_some(),
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
            // The receipt quotes this to the agency, in its words.
            let what = match item.source {
                SourceKind::Mailbox => "thư",
                SourceKind::Drop => "tệp",
            };
            ex.failure = Some((
                Outcome::TooLarge,
                format!(
                    "{what} {}, giới hạn {}",
                    crate::core::words::size(size),
                    crate::core::words::size(limit)
                ),
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
    #[cfg(debug_assertions)]
    crate::panics::inject("examine", &ex.envelope.subject);
    ex.skipped = extraction.skipped;
    let attached = extraction.attached;
    let body_text = extraction.body_text;
    if let Some(at) = ex.envelope.arrived {
        ex.arrived = at;
    }
    for f in extraction.files {
        let sha256 = sha256_hex(&f.bytes);
        let known = memo.and_then(|m| m.read(&sha256));
        let (facts, grid) = match known {
            Some(facts) => ((*facts).clone(), None),
            None => {
                let (check, read) = check_file(&f, inspector);
                let grid = read.as_ref().map(|r| &r.grid);
                let facts = memo::Read {
                    marker: grid.and_then(|g| g.marker.clone()),
                    headings: grid
                        .map(|g| headings_of(g, HEADING_ROWS))
                        .unwrap_or_default(),
                    sheets: grid
                        .map(|g| {
                            g.sheets
                                .iter()
                                .filter(|s| s.visible)
                                .map(|s| s.name.clone())
                                .collect()
                        })
                        .unwrap_or_default(),
                    returned_copy: read.as_ref().is_some_and(|r| r.returned_copy),
                    copy_digest: read.as_ref().and_then(|r| r.digest.clone()),
                    check,
                };
                // A file that could not be read may read another time (a helper process
                // that could not start): only what reading decided is remembered.
                if let Some(m) = memo
                    && !matches!(facts.check, Check::Unreadable(_))
                {
                    m.remember_read(&sha256, facts.clone());
                }
                (facts, read.map(|r| r.grid))
            }
        };
        ex.files.push(ExaminedFile {
            sha256,
            name: f.name,
            kind: f.kind,
            origin: f.origin,
            attached: f.attached,
            bytes: f.bytes,
            check: facts.check,
            deliverable: None,
            marker: facts.marker,
            headings: facts.headings,
            sheets: facts.sheets,
            validation: None,
            grid,
            returned_copy: facts.returned_copy,
            copy_digest: facts.copy_digest,
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
                None => match identify_sender(&mut ex, &attached, &body_text, &agencies, config) {
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
                validate_file(f, c, from, inspector, memo);
            }
        }
    }
    ex
}

/// Checks a readable workbook against the campaign's forms; the form it is recognised as
/// decides its deliverable over file-name keywords. A file checked before for the same
/// campaign and sender takes that check from the memo.
fn validate_file(
    f: &mut ExaminedFile,
    campaign: &Campaign,
    from: Option<From<'_>>,
    inspector: &Inspector,
    memo: Option<&Memo>,
) {
    if !matches!(f.kind, FileKind::Workbook(_)) {
        return;
    }
    if f.check != Check::Ok || !campaign.deliverables.iter().any(|d| d.spec.is_some()) {
        return;
    }
    let FileKind::Workbook(format) = f.kind else {
        return;
    };
    let agency = from.map(|a| a.code);
    if let Some(known) = memo.and_then(|m| m.checked(&f.sha256, &f.name, &campaign.id, agency)) {
        if let Some(d) = &known.deliverable {
            f.deliverable = Some(d.clone());
        }
        f.validation = Some(known.validation.clone());
        f.grid = None;
        return;
    }
    // Read before, for another campaign or sender: its cells are read again.
    let grid = match f.grid.take() {
        Some(grid) => grid,
        None => match inspector.read(&f.bytes, format) {
            Ok(mut grid) => {
                check::unlegacy(&mut grid);
                grid
            }
            Err(_) => return,
        },
    };
    let checked = check_grid(grid, campaign, from);
    if let Some(d) = &checked.deliverable {
        let how = if checked.by == Some(RecognisedBy::Marker) {
            How::Marker
        } else {
            How::Heading
        };
        f.deliverable = Some((d.clone(), how));
    }
    // A workbook too large for its marked copy to go with the receipt gets none: the findings
    // are listed in the receipt and on the board, and the copy would only cost its size again.
    let markable = f.bytes.len() <= super::MAX_ATTACHED_COPY;
    let annotated = (!checked.findings.is_empty() && markable)
        .then(|| {
            let digest = f.copy_digest.clone().unwrap_or_else(|| {
                crate::workbook::copymark::digest(&checked.grid, annotate::SUMMARY_SHEET)
            });
            let submission = annotate::Submission {
                bytes: &f.bytes,
                format,
                grid: &checked.grid,
                digest: Some(&digest),
            };
            annotate::marked_copy(
                &submission,
                &checked.findings,
                spec_of(campaign, checked.form.as_deref()),
                &format!("Kết quả kiểm tra {}", f.name),
            )
            .ok()
        })
        .flatten()
        .map(|copy| copy.bytes);
    let validation = Validation {
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
    };
    if let Some(m) = memo {
        let deliverable = checked.deliverable.as_ref().and(f.deliverable.clone());
        m.remember_check(
            &f.sha256,
            &f.name,
            &campaign.id,
            agency,
            memo::Checked {
                validation: validation.clone(),
                deliverable,
            },
        );
    }
    f.validation = Some(validation);
}

/// The agency of a message: its From, or the agency whose message a department clerk
/// forwarded (attached, or inline as mail clients write it), or whose attached message carries
/// its own valid signature; arrival is then the original's date.
fn identify_sender(
    ex: &mut Examined,
    attached: &[AttachedMessage],
    body_text: &str,
    agencies: &[&Agency],
    config: &Config,
) -> AgencyMatch {
    let department = &config.department;
    let from = ex
        .envelope
        .from
        .clone()
        .filter(|_| !ex.envelope.from_ambiguous)
        .filter(|a| !department.is_own(a) || department.is_forwarder(a));
    let offset = ex.arrived.with_timezone(&config.timezone).offset().fix();
    // Only the outermost message carried counts: a block further down is text anyone wrote.
    if let (Some(from), Some(o)) = (&from, origin(attached, body_text, offset))
        && let Some(found) = identify::by_address(agencies, &o.from)
    {
        let forwarder = department.is_forwarder(from);
        let code = found.sure().unwrap_or_default().to_string();
        // An original the agency signed vouches for what it carries, nothing else: the
        // message must carry that one message and no file beside it.
        let signed = o.attached
            && attached.len() == 1
            && ex.auth.as_ref().is_some_and(|a| a.inner_pass(&o.from))
            && ex.files.iter().all(|f| f.attached == Some(0));
        let evidence = if signed {
            format!(
                "thư gốc của {} đính kèm, có chữ ký DKIM hợp lệ (người chuyển: {from})",
                o.from
            )
        } else if forwarder {
            format!(
                "văn thư {from} chuyển tiếp thư của {} ({})",
                o.from,
                crate::core::text::bounded(&o.marker, 80)
            )
        } else {
            format!(
                "thư chuyển tiếp từ {} ({})",
                o.from,
                crate::core::text::bounded(&o.marker, 80)
            )
        };
        if forwarder {
            // The original's date, never later than our own server's stamp nor a month before.
            if let Some(date) = o
                .date
                .filter(|d| *d <= ex.arrived && ex.arrived - *d <= chrono::TimeDelta::days(31))
            {
                ex.arrived = date;
            }
        }
        if signed || forwarder {
            return AgencyMatch::Forwarded {
                code,
                address: o.from.clone(),
                forwarder: from.clone(),
                evidence,
            };
        }
        // Someone outside forwarded an agency's message: a clue for staff, not proof.
        if identify::by_address(agencies, from).is_none() {
            return AgencyMatch::Probable { code, evidence };
        }
    }
    let e = &ex.envelope;
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
    identify::identify(agencies, from.as_deref(), &clues)
}

/// A message carried inside another: attached, or its headers written into the body.
struct Origin {
    from: String,
    date: Option<chrono::DateTime<chrono::FixedOffset>>,
    attached: bool,
    marker: String,
}

/// The message a forward carries: the first attached one, else the first header block
/// written into the body.
fn origin(
    attached: &[AttachedMessage],
    body_text: &str,
    offset: chrono::FixedOffset,
) -> Option<Origin> {
    if let Some(m) = attached.first() {
        return Some(Origin {
            from: m.from.clone()?,
            date: m.date,
            attached: true,
            marker: "thư đính kèm (message/rfc822)".into(),
        });
    }
    crate::core::forward::forwarded_blocks(body_text, offset)
        .into_iter()
        .next()
        .map(|b| Origin {
            from: b.from,
            date: b.date,
            attached: false,
            marker: b.marker,
        })
}

/// Rows of a sheet read as its heading (titles, the agency's name).
const HEADING_ROWS: usize = 8;

/// A workbook read, and whether it is one of intake's marked copies unchanged.
struct Read {
    grid: Grid,
    returned_copy: bool,
    /// The digest of its cells as read (see [`crate::workbook::copymark::digest`]); None
    /// when they are the cells checked, which give it when it is needed.
    digest: Option<String>,
}

/// Reads a workbook once, within limits: its check and its cells.
fn check_file(f: &extract::FoundFile, inspector: &Inspector) -> (Check, Option<Read>) {
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
                    // The mark digests the cells as written, before any conversion: taken
                    // now for a workbook that carries a mark or whose text is converted, and
                    // otherwise only if a marked copy is made (from the same cells).
                    let of = |g: &Grid| {
                        crate::workbook::copymark::digest(
                            g,
                            crate::core::forms::annotate::SUMMARY_SHEET,
                        )
                    };
                    let mark = crate::workbook::copymark::mark_of(&g);
                    let mut digest = mark.is_some().then(|| of(&g));
                    let returned_copy = mark.is_some() && mark == digest;
                    check::unlegacy_with(&mut g, |g| {
                        digest.get_or_insert_with(|| of(g));
                    });
                    let empty = g.sheets.iter().filter(|s| s.visible).all(|s| {
                        s.cells
                            .iter()
                            .all(|c| matches!(&c.value, CellValue::Text(t) if t.trim().is_empty()))
                    });
                    (
                        if empty { Check::Empty } else { Check::Ok },
                        Some(Read {
                            grid: g,
                            returned_copy,
                            digest,
                        }),
                    )
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
                crate::core::forms::recognise::text(&cell.value).filter(|t| !t.trim().is_empty())
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
