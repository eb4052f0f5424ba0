//! # Raw configuration: the TOML files as written
//!
//! These structs mirror the files one to one and reject unknown keys, so a typo is an error
//! rather than a silently ignored setting. Nothing here is checked beyond TOML types; see
//! [`super::resolve`] for the second step.

use serde::Deserialize;

/// `intake.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMain {
    pub data_dir: Option<String>,
    pub timezone: Option<String>,
    #[serde(default)]
    pub campaigns: Vec<String>,
    pub department: RawDepartment,
    #[serde(default)]
    pub mailbox: RawMailboxes,
    #[serde(default)]
    pub drop: RawDrop,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub outbox: RawOutbox,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub office: super::schedule::RawOffice,
    #[serde(default)]
    pub receipts: super::schedule::RawReceipts,
    pub digest: Option<super::schedule::RawDigest>,
    #[serde(default)]
    pub templates: RawTemplates,
    pub board: Option<super::board::RawBoard>,
    pub auth: Option<super::auth::RawAuth>,
}

/// `[templates]`: where the mail templates are.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemplates {
    pub dir: Option<String>,
}

/// `[department]`: who we are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDepartment {
    pub name: String,
    pub short_name: Option<String>,
    pub division: Option<String>,
    #[serde(default)]
    pub addresses: Vec<String>,
    pub reply_from: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default, alias = "trusted_forwarders")]
    pub forwarders: Vec<String>,
}

/// `[mailbox]`, or several `[[mailbox]]` (a deployment taking in several departments'
/// mailboxes, each named).
#[derive(Debug)]
pub enum RawMailboxes {
    One(Box<RawMailbox>),
    Many(Vec<RawMailbox>),
}

impl Default for RawMailboxes {
    fn default() -> Self {
        RawMailboxes::One(Box::default())
    }
}

impl<'de> Deserialize<'de> for RawMailboxes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Not `untagged`: its one error ("did not match any variant") would hide the table's
        // own (an unknown key, a wrong type).
        use serde::de::Error;
        match toml::Value::deserialize(d)? {
            v @ toml::Value::Array(_) => Vec::<RawMailbox>::deserialize(v)
                .map(RawMailboxes::Many)
                .map_err(|e| D::Error::custom(e.message())),
            v => RawMailbox::deserialize(v)
                .map(|m| RawMailboxes::One(Box::new(m)))
                .map_err(|e| D::Error::custom(e.message())),
        }
    }
}

impl RawMailboxes {
    /// The mailboxes as written, in file order.
    pub fn all(&self) -> &[RawMailbox] {
        match self {
            RawMailboxes::One(m) => std::slice::from_ref(&**m),
            RawMailboxes::Many(m) => m,
        }
    }
}

/// `[mailbox]`: where agencies' mail comes in.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMailbox {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub path: Option<String>,
    pub on_filed: Option<String>,
    pub imap: Option<super::imap::RawImap>,
}

/// `[drop]`: the shared folder.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDrop {
    pub path: Option<String>,
    pub watch: Option<String>,
    pub poll_interval_secs: Option<u64>,
    pub rescan_secs: Option<u64>,
    pub settle_secs: Option<u64>,
}

/// `[store]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub path: Option<String>,
    pub kind: Option<String>,
    pub url: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    pub ca_file: Option<String>,
    pub objects: Option<super::store::RawObjects>,
}

/// `[outbox]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutbox {
    pub kind: Option<String>,
    pub path: Option<String>,
    pub retry_first_secs: Option<u64>,
    pub retry_max_secs: Option<u64>,
    pub give_up_hours: Option<u64>,
    pub smtp: Option<super::smtp::RawSmtp>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_message_bytes: Option<u64>,
    pub max_attachments: Option<usize>,
    pub max_zip_entries: Option<usize>,
    pub max_zip_total_bytes: Option<u64>,
    pub max_zip_ratio: Option<u64>,
    pub max_nesting: Option<usize>,
    pub max_workbook_cells: Option<u64>,
    pub max_file_bytes: Option<u64>,
}

/// A campaign file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCampaign {
    pub id: String,
    pub dispatch: String,
    pub dispatch_date: Option<String>,
    pub title: String,
    pub opens: Option<String>,
    pub deadline: String,
    pub deadline_text: Option<String>,
    pub closes: Option<String>,
    pub roster: String,
    #[serde(default)]
    pub agencies: Option<toml::Value>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default, rename = "deliverable")]
    pub deliverables: Vec<RawDeliverable>,
    /// Folder of form specifications, relative to the campaign file (default `../forms`).
    pub forms: Option<String>,
    /// Rule id → "warning", "error" or "off".
    #[serde(default)]
    pub rules: std::collections::BTreeMap<String, String>,
    pub reminders: Option<super::schedule::RawReminders>,
}

/// `[[deliverable]]` of a campaign.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeliverable {
    pub id: String,
    pub label: String,
    pub name: String,
    pub form: Option<String>,
    #[serde(default)]
    pub parts: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub titles: Vec<String>,
}

/// A roster file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoster {
    pub name: Option<String>,
    pub auth: Option<super::auth::RawRosterAuth>,
    #[serde(default, rename = "agency")]
    pub agencies: Vec<RawAgency>,
}

/// `[[agency]]` of a roster.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgency {
    pub code: String,
    pub name: String,
    pub kind: Option<String>,
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub auth: Option<String>,
}
