//! # Planning an item
//!
//! From examined facts and what the store already holds to a decision: the outcome, the new
//! versions and their states, lateness, whether to reply and whether to acknowledge.

use std::collections::{BTreeMap, HashMap};

use crate::auth::Verdict;
use crate::config::Config;
use crate::config::auth::AuthPolicy;
use crate::core::extract::{AutoMail, FileKind};
use crate::core::forms::spec::Severity;
use crate::core::identify::AgencyMatch;

use super::{
    Check, Examined, ExaminedFile, NewVersion, Outcome, Plan, Prior, SourceKind, VersionState,
};

/// Decides what to do with examined facts, given what the store holds.
pub fn plan(ex: &Examined, config: &Config, prior: &Prior) -> Plan {
    let mut p = Plan {
        outcome: Outcome::Filed,
        agency: None,
        versions: Vec::new(),
        file_versions: vec![None; ex.files.len()],
        receipt_to: None,
        receipt_cc: None,
        claimed: None,
        unverified_notice_to: None,
        returned: Vec::new(),
        receipt_withheld: None,
        late: None,
        acknowledge: true,
    };
    let sure = ex.agency.sure().map(str::to_string);
    let (reply_to, reply_cc) = reply_address(ex, config);
    let may_reply = ex.envelope.auto.is_none()
        && ex.source == SourceKind::Mailbox
        && reply_to
            .as_ref()
            .is_some_and(|a| !config.department.is_own(a));
    let within_limit = prior.recent_receipts < config.receipts_per_hour;
    let receipt = |p: &mut Plan| {
        if may_reply && within_limit {
            p.receipt_to = reply_to.clone();
            p.receipt_cc = reply_cc.clone();
        } else if may_reply {
            p.receipt_withheld = reply_to.clone();
        }
    };

    // A forged From of a listed agency is never attributed, never answered.
    if let Some(code) = &sure
        && held(ex, config, code)
    {
        p.outcome = Outcome::SenderUnverified;
        p.claimed = Some(code.clone());
        if !prior.unverified_notice_today {
            p.unverified_notice_to = config
                .agency(code)
                .and_then(|a| a.addresses.first().cloned());
        }
        return p;
    }
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
    if !ex.files.is_empty() && matches!(ex.envelope.auto, Some(AutoMail::List | AutoMail::Bulk(_)))
    {
        p.outcome = Outcome::ListIgnored;
        p.agency = sure;
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
        // The agency hears that no round is open for it, and what happens next.
        receipt(&mut p);
        return p;
    };
    p.returned = ex
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.returned_copy || prior.sent_by_us.contains(&f.sha256))
        .map(|(i, _)| i)
        .collect();

    // Group files by deliverable, in order of first appearance.
    let mut groups: BTreeMap<usize, (String, Vec<usize>)> = BTreeMap::new();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, f) in ex.files.iter().enumerate() {
        if p.returned.contains(&i) {
            continue;
        }
        if let Some((d, _)) = &f.deliverable {
            let at = *first.entry(d.as_str()).or_insert(i);
            groups
                .entry(at)
                .or_insert_with(|| (d.clone(), Vec::new()))
                .1
                .push(i);
        }
    }
    let late = ex.arrived > prior.extension.unwrap_or(campaign.deadline);
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
        if ex.files.iter().all(|f| f.deliverable.is_some()) || p.returned.len() == ex.files.len() {
            p.outcome = Outcome::Duplicate;
            // A resend by the agency is answered (briefly); our own copies coming back are not.
            if p.returned.is_empty() {
                receipt(&mut p);
            }
            return p;
        }
        p.outcome = Outcome::Unclassified;
    }
    p.late = Some(late);
    receipt(&mut p);
    p
}

/// Where a receipt goes: the agency's registered address for a forwarded message (with the
/// clerk in copy), else the From address. Never Reply-To or Sender, which anyone can write;
/// never a From whose domain failed authentication.
pub fn reply_address(ex: &Examined, config: &Config) -> (Option<String>, Option<String>) {
    // A forward's receipt goes to the roster's address, never to one the sender wrote.
    if ex.verdict() == Some(Verdict::Fail) && !matches!(ex.agency, AgencyMatch::Forwarded { .. }) {
        // Released by staff: the agency's registered address hears, never the forged From.
        let registered = ex
            .staff_confirmed
            .then(|| ex.agency.sure())
            .flatten()
            .and_then(|code| config.agency(code))
            .and_then(|a| a.addresses.first().cloned());
        return (registered, None);
    }
    match &ex.agency {
        AgencyMatch::Forwarded {
            code,
            address,
            forwarder,
            ..
        } => {
            let registered = config.agency(code).and_then(|a| {
                a.addresses
                    .iter()
                    .find(|x| *x == address)
                    .or(a.addresses.first())
                    .cloned()
            });
            // Only a department clerk is copied: anyone else chose to be.
            let cc = Some(forwarder.clone())
                .filter(|f| config.department.is_forwarder(f) && Some(f) != registered.as_ref());
            (registered.or_else(|| Some(address.clone())), cc)
        }
        _ => (ex.envelope.from.clone(), None),
    }
}

/// Whether the agency's policy holds this message: its sender's domain failed (or, strictly,
/// did not pass) authentication. A dropped file, or a message not checked, is never held.
fn held(ex: &Examined, config: &Config, code: &str) -> bool {
    let Some(verdict) = ex.verdict() else {
        return false;
    };
    if ex.source != SourceKind::Mailbox || ex.staff_confirmed {
        return false;
    }
    let policy = config.agency(code).map(|a| a.auth).unwrap_or_default();
    if let AgencyMatch::Forwarded { address, .. } = &ex.agency {
        // The agency's own signature on the attached original settles it; a clerk's mail
        // that fails is held like any other.
        if ex.auth.as_ref().is_some_and(|a| a.inner_pass(address)) {
            return false;
        }
        return policy != AuthPolicy::Record && verdict == Verdict::Fail;
    }
    // The domain authenticated must be the one of the address the agency was matched by.
    let matched_domain = ex
        .envelope
        .from
        .as_deref()
        .and_then(|a| a.rsplit_once('@'))
        .map(|(_, d)| d);
    if let (Some(checked), Some(matched)) = (
        ex.auth.as_ref().and_then(|a| a.domain.as_deref()),
        matched_domain,
    ) && !checked.eq_ignore_ascii_case(matched)
        && policy != AuthPolicy::Record
    {
        return true;
    }
    if !matches!(
        ex.agency,
        AgencyMatch::Address { .. } | AgencyMatch::Domain { .. }
    ) {
        return false;
    }
    match policy {
        AuthPolicy::Record => false,
        AuthPolicy::Enforce => verdict == Verdict::Fail,
        AuthPolicy::Strict => verdict != Verdict::Pass,
    }
}
