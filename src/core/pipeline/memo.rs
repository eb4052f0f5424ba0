//! # What was already examined
//!
//! A backlog, a message sent twice, a forward of an agency's mail or a workbook dropped in
//! the shared folder as well as mailed: the same bytes come again, and reading and checking
//! them again under the same configuration gives the same answer. The memo keeps, for the
//! files examined last, what reading them found (by the bytes' SHA-256) and what checking them
//! found (by SHA-256, file name — the marked copy's title names the file —, campaign and
//! sender), so that a file seen before costs about a hash. It belongs to one configuration:
//! the daemon starts a new one when it adopts a reloaded configuration.
//!
//! It is bounded: at most [`MAX_ENTRIES`] of each kind and about [`MAX_BYTES`] held (a
//! check's findings, values and marked copy), the oldest forgotten first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::core::classify::How;
use crate::workbook::FormMarker;

use super::{Check, Validation};

/// Most reads and most checks remembered. A file comes again soon after, if at all (a resend,
/// a forward, the same file mailed and dropped), and entries that live on among a backlog's
/// short-lived allocations keep the heap from shrinking: a few hundred are enough.
const MAX_ENTRIES: usize = 256;

/// About the most bytes the remembered checks hold.
const MAX_BYTES: usize = 4 << 20;

/// What reading a file found, without its cells.
#[derive(Debug, Clone)]
pub struct Read {
    pub check: Check,
    pub marker: Option<FormMarker>,
    pub headings: Vec<String>,
    pub sheets: Vec<String>,
    pub returned_copy: bool,
    pub copy_digest: Option<String>,
}

/// What checking a workbook against its campaign's forms found.
#[derive(Debug, Clone)]
pub struct Checked {
    pub validation: Validation,
    /// The deliverable its form decided, when one did.
    pub deliverable: Option<(String, How)>,
}

/// The key of a check: SHA-256, file name, campaign, sending agency.
type CheckKey = (String, String, String, Option<String>);

/// The memo (see the module header); shared by the examining threads.
#[derive(Debug, Default)]
pub struct Memo {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    reads: HashMap<String, Arc<Read>>,
    read_order: VecDeque<String>,
    checks: HashMap<CheckKey, (Arc<Checked>, usize)>,
    check_order: VecDeque<CheckKey>,
    check_bytes: usize,
}

impl Memo {
    /// What reading the file with this SHA-256 found, when it was read before.
    pub fn read(&self, sha256: &str) -> Option<Arc<Read>> {
        self.lock().reads.get(sha256).cloned()
    }

    /// Remembers what reading a file found.
    pub fn remember_read(&self, sha256: &str, read: Read) {
        let mut inner = self.lock();
        if inner.reads.contains_key(sha256) {
            return;
        }
        while inner.read_order.len() >= MAX_ENTRIES {
            if let Some(old) = inner.read_order.pop_front() {
                inner.reads.remove(&old);
            }
        }
        inner.reads.insert(sha256.to_string(), Arc::new(read));
        inner.read_order.push_back(sha256.to_string());
    }

    /// What checking this file for this campaign and sender found, when it was checked.
    pub fn checked(
        &self,
        sha256: &str,
        name: &str,
        campaign: &str,
        agency: Option<&str>,
    ) -> Option<Arc<Checked>> {
        let key = key(sha256, name, campaign, agency);
        self.lock().checks.get(&key).map(|(c, _)| c.clone())
    }

    /// Remembers what checking a file found.
    pub fn remember_check(
        &self,
        sha256: &str,
        name: &str,
        campaign: &str,
        agency: Option<&str>,
        checked: Checked,
    ) {
        let size = weight(&checked);
        if size > MAX_BYTES / 4 {
            return;
        }
        let key = key(sha256, name, campaign, agency);
        let mut inner = self.lock();
        if inner.checks.contains_key(&key) {
            return;
        }
        while inner.check_order.len() >= MAX_ENTRIES || inner.check_bytes + size > MAX_BYTES {
            let Some(old) = inner.check_order.pop_front() else {
                break;
            };
            if let Some((_, n)) = inner.checks.remove(&old) {
                inner.check_bytes -= n;
            }
        }
        inner.check_bytes += size;
        inner.checks.insert(key.clone(), (Arc::new(checked), size));
        inner.check_order.push_back(key);
    }

    /// How many checks are remembered.
    #[cfg(test)]
    pub fn checked_count(&self) -> usize {
        self.lock().checks.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock (caught per item) leaves a consistent map.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(sha256: &str, name: &str, campaign: &str, agency: Option<&str>) -> CheckKey {
    (
        sha256.to_string(),
        name.to_string(),
        campaign.to_string(),
        agency.map(str::to_string),
    )
}

/// About the bytes a check holds.
fn weight(c: &Checked) -> usize {
    let v = &c.validation;
    v.annotated.as_ref().map_or(0, Vec::len) + v.findings.len() * 256 + v.data.len() * 128 + 256
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(copy: usize) -> Checked {
        Checked {
            validation: Validation {
                form: Some("f".into()),
                form_version: Some(1),
                by: Some("content"),
                valid: true,
                findings: Vec::new(),
                data: Vec::new(),
                annotated: Some(vec![0; copy]),
            },
            deliverable: None,
        }
    }

    #[test]
    fn checks_are_told_apart_by_name_campaign_and_sender() {
        let memo = Memo::default();
        memo.remember_check("aa", "PL1.xlsx", "742", Some("so-y-te"), checked(10));
        assert!(
            memo.checked("aa", "PL1.xlsx", "742", Some("so-y-te"))
                .is_some()
        );
        assert!(
            memo.checked("aa", "PL1.xlsx", "742", Some("so-tai-chinh"))
                .is_none()
        );
        assert!(memo.checked("aa", "PL1.xlsx", "742", None).is_none());
        assert!(
            memo.checked("aa", "Bieu01.xlsx", "742", Some("so-y-te"))
                .is_none()
        );
        assert!(
            memo.checked("aa", "PL1.xlsx", "743", Some("so-y-te"))
                .is_none()
        );
        assert!(
            memo.checked("bb", "PL1.xlsx", "742", Some("so-y-te"))
                .is_none()
        );
    }

    #[test]
    fn the_memo_is_bounded_oldest_first() {
        let memo = Memo::default();
        let big = MAX_BYTES / 5;
        for i in 0..6 {
            memo.remember_check(&format!("{i}"), "a", "c", None, checked(big));
        }
        let kept: Vec<usize> = (0..6)
            .filter(|i| memo.checked(&format!("{i}"), "a", "c", None).is_some())
            .collect();
        assert_eq!(kept, [2, 3, 4, 5]);
        assert!(memo.lock().check_bytes <= MAX_BYTES);
        // Too big to keep at all.
        memo.remember_check("huge", "a", "c", None, checked(MAX_BYTES));
        assert!(memo.checked("huge", "a", "c", None).is_none());
        for i in 0..MAX_ENTRIES + 10 {
            memo.remember_read(
                &format!("{i}"),
                Read {
                    check: Check::Ok,
                    marker: None,
                    headings: Vec::new(),
                    sheets: Vec::new(),
                    returned_copy: false,
                    copy_digest: None,
                },
            );
        }
        assert!(memo.read("0").is_none());
        assert!(memo.read(&format!("{}", MAX_ENTRIES + 9)).is_some());
        assert_eq!(memo.lock().reads.len(), MAX_ENTRIES);
    }
}
