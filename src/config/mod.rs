//! # Configuration
//!
//! Read in two steps: the TOML files are parsed into the raw structs of [`raw`] (unknown keys
//! rejected), then [`resolve`] checks them and builds the [`Config`] the program uses, with
//! paths made absolute and campaigns joined to their rosters. Every error names the file, the
//! key and what to do. The shipped `config/` is also compiled into the binary as the embedded
//! default, so `intake demo` works on a fresh machine with no file at hand.

pub mod auth;
pub mod board;
pub mod imap;
pub mod live;
pub mod raw;
mod resolve;
pub mod schedule;
pub mod secret;
pub mod smtp;
pub mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::core::words::Names;

pub use crate::config_file::ConfigError;
pub(crate) use crate::config_file::parse_toml_with;
pub use crate::core::forms::spec::{AgencyKind, RuleSetting};
pub use resolve::parse_files;

/// The whole configuration, checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the main file was read from (a virtual path for the embedded default).
    pub origin: PathBuf,
    /// Everything intake keeps lives under here unless given its own path.
    pub data_dir: PathBuf,
    /// The department's time zone, for dates shown to people.
    pub timezone: chrono_tz::Tz,
    /// Who we are.
    pub department: Department,
    /// The mail source: `[mailbox]`, or the first `[[mailbox]]`.
    pub mailbox: Mailbox,
    /// The other `[[mailbox]]`, in file order.
    pub more_mailboxes: Vec<Mailbox>,
    /// The drop folder.
    pub drop: Drop,
    /// The store's folder (SQLite index, objects, filed tree).
    pub store_dir: PathBuf,
    /// Where the store keeps its index (`[store] kind`) and objects (`[store.objects]`).
    pub store: store::StoreAt,
    /// The file outbox (with `kind = "file"`; also where a dry run's mail is shown).
    pub outbox_dir: PathBuf,
    /// How mail leaves: the SMTP server (None: the file outbox) and the retry policy.
    pub outbox: Outbox,
    /// The department's working time: reminders and the digest go out only then.
    pub office: schedule::Office,
    /// The most receipts sent to one address in an hour.
    pub receipts_per_hour: u32,
    /// The daily summary for staff, when configured.
    pub digest: Option<schedule::Digest>,
    /// The templates of receipts, reminders and the digest.
    pub templates: std::sync::Arc<crate::core::templates::Templates>,
    /// Bounds on what one input may cost.
    pub limits: Limits,
    /// The collection rounds, in file order.
    pub campaigns: Vec<Campaign>,
    /// The staff web board.
    pub board: board::Board,
    /// How senders are authenticated.
    pub auth: auth::Auth,
}

/// How mail leaves.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// The submission server; None writes `.eml` files into the outbox folder.
    pub smtp: Option<smtp::Smtp>,
    /// How failed sends are retried.
    pub retry: schedule::Retry,
}

/// The department that runs the campaigns.
#[derive(Debug, Clone)]
pub struct Department {
    /// Full Vietnamese name.
    pub name: String,
    /// Short name for subjects.
    pub short_name: String,
    /// The division that handles the round.
    pub division: Option<String>,
    /// Our own addresses, lower case: never an agency, never sent a receipt.
    pub addresses: Vec<String>,
    /// The From of receipts and reminders.
    pub reply_from: String,
    /// The department's own mail domains, lower case: mail from them is never an agency's.
    pub domains: Vec<String>,
    /// Staff who forward agencies' mail (văn thư), lower case: such mail is attributed to the
    /// agency of the message forwarded.
    pub forwarders: Vec<String>,
}

impl Department {
    /// True for the department's own addresses and domains (its forwarders included).
    pub fn is_own(&self, address: &str) -> bool {
        self.addresses.iter().any(|a| a == address)
            || self.is_forwarder(address)
            || address
                .rsplit_once('@')
                .is_some_and(|(_, d)| self.domains.iter().any(|x| x == d))
    }

    /// True for a clerk whose forwards are attributed to the agency forwarded.
    pub fn is_forwarder(&self, address: &str) -> bool {
        self.forwarders.iter().any(|a| a == address)
    }
}

/// A mailbox source.
#[derive(Debug, Clone)]
pub struct Mailbox {
    /// Its name among several (`[[mailbox]] name`); None for the one `[mailbox]`.
    pub name: Option<String>,
    /// The Maildir folder (with `new/`, `cur/`, `tmp/`).
    pub path: PathBuf,
    /// What to do with a message once its filing is committed.
    pub on_filed: OnFiled,
    /// The IMAP account, when `kind = "imap"` (the Maildir is then not used).
    pub imap: Option<imap::Imap>,
}

impl Mailbox {
    /// The source's name in logs, health and leases: `mailbox`, or `mailbox:<name>`.
    pub fn source_name(&self) -> String {
        match &self.name {
            Some(n) => format!("mailbox:{n}"),
            None => "mailbox".into(),
        }
    }

    /// What the mailbox reads, the same for two ways of writing one place: host and user in
    /// lower case, `INBOX` in any case (RFC 3501 says it is one name).
    pub fn identity(&self) -> String {
        match &self.imap {
            Some(i) => {
                let folder = if i.folder.eq_ignore_ascii_case("inbox") {
                    "INBOX".to_string()
                } else {
                    i.folder.clone()
                };
                format!(
                    "imap://{}@{}:{}/{folder}",
                    i.user.to_lowercase(),
                    i.host.to_lowercase(),
                    i.port
                )
            }
            None => self.path.display().to_string(),
        }
    }

    /// Where mail comes from, for people: the Maildir folder or the IMAP account's mailbox.
    pub fn describe(&self) -> String {
        match &self.imap {
            Some(i) => format!("imap://{}:{}/{}", i.account(), i.port, i.folder),
            None => self.path.display().to_string(),
        }
    }
}

/// The action on a filed message at its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFiled {
    /// Move it to `cur/` with the Seen flag.
    Seen,
    /// Leave it where it is; the store remembers it.
    Keep,
}

/// How the drop folder is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    /// Native file-system events (inotify), plus the periodic rescan.
    Native,
    /// Polling, for network shares where native events do not arrive.
    Poll,
}

/// The drop folder.
#[derive(Debug, Clone)]
pub struct Drop {
    /// The folder; sub-folders named by agency code attribute files to that agency.
    pub path: PathBuf,
    /// Native events or polling.
    pub watch: WatchMode,
    /// Poll interval in poll mode.
    pub poll_interval: std::time::Duration,
    /// Full rescan interval, a safety net in both modes.
    pub rescan: std::time::Duration,
    /// How long size and mtime must stay unchanged before a file is taken.
    pub settle: std::time::Duration,
}

/// Bounds on what one input may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest message taken (bytes).
    pub max_message_bytes: u64,
    /// Most files taken from one message, zip entries included.
    pub max_attachments: usize,
    /// Most entries read from one zip file.
    pub max_zip_entries: usize,
    /// Most bytes unpacked from one zip file.
    pub max_zip_total_bytes: u64,
    /// Highest compression ratio accepted for a zip entry.
    pub max_zip_ratio: u64,
    /// Deepest nesting of zips and forwarded messages.
    pub max_nesting: usize,
    /// Most cells read from one workbook.
    pub max_workbook_cells: u64,
    /// Largest single file taken (bytes).
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 40 << 20,
            max_attachments: 64,
            max_zip_entries: 256,
            max_zip_total_bytes: 200 << 20,
            max_zip_ratio: 200,
            max_nesting: 3,
            max_workbook_cells: 2_000_000,
            max_file_bytes: 50 << 20,
        }
    }
}

/// One collection round: a dispatch asking agencies for deliverables by a deadline.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// Stable id used in the store and on the command line.
    pub id: String,
    /// The dispatch number, e.g. `742/SKHĐT-THQH`.
    pub dispatch: String,
    /// The dispatch's date.
    pub dispatch_date: Option<NaiveDate>,
    /// The dispatch's subject.
    pub title: String,
    /// Mail before this is not for the campaign.
    pub opens: Option<DateTime<FixedOffset>>,
    /// Submissions after this are late.
    pub deadline: DateTime<FixedOffset>,
    /// The deadline as the dispatch words it.
    pub deadline_text: String,
    /// Mail after this is not for the campaign.
    pub closes: Option<DateTime<FixedOffset>>,
    /// The agencies that report, in roster order.
    pub agencies: Vec<Agency>,
    /// Subject words that tie a message to this campaign.
    pub keywords: Vec<String>,
    /// What each agency owes.
    pub deliverables: Vec<Deliverable>,
    /// Form rules switched to a warning or off for this campaign, by rule id.
    pub rules: std::collections::HashMap<String, RuleSetting>,
    /// When agencies that have not sent everything are reminded.
    pub reminders: schedule::Reminders,
}

impl Campaign {
    /// The deliverable with this id.
    pub fn deliverable(&self, id: &str) -> Option<&Deliverable> {
        self.deliverables.iter().find(|d| d.id == id)
    }

    /// True when an agency of this code reports in this campaign.
    pub fn has_agency(&self, code: &str) -> bool {
        self.agencies.iter().any(|a| a.code == code)
    }

    /// True when mail arriving at `at` belongs to this campaign's window.
    pub fn is_open_at(&self, at: DateTime<FixedOffset>) -> bool {
        self.opens.is_none_or(|o| at >= o) && self.closes.is_none_or(|c| at < c)
    }
}

/// A reporting unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    /// Stable code, e.g. `so-y-te`.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// `department`, `district` or `office`.
    pub kind: AgencyKind,
    /// Addresses it sends from, lower case.
    pub addresses: Vec<String>,
    /// Mail domains that are wholly its own, lower case.
    pub domains: Vec<String>,
    /// Other names it is known by.
    pub aliases: Vec<String>,
    /// What happens to its mail when the sender cannot be proven.
    pub auth: auth::AuthPolicy,
}

/// One thing each agency owes in a campaign.
#[derive(Debug, Clone)]
pub struct Deliverable {
    /// Stable id, e.g. `pl1`.
    pub id: String,
    /// Short Vietnamese label, e.g. `Phụ lục I`.
    pub label: String,
    /// Full Vietnamese name.
    pub name: String,
    /// The form id the blank workbook's marker carries.
    pub form: Option<String>,
    /// The form's specification, when the deliverable has one.
    pub spec: Option<std::sync::Arc<crate::core::forms::spec::FormSpec>>,
    /// Which parts make it up.
    pub parts: Vec<Part>,
    /// Whole-word keywords of file and sheet names.
    pub keywords: Vec<String>,
    /// Phrases of workbook headings and document titles.
    pub titles: Vec<String>,
}

/// A part of a deliverable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A narrative report (doc, docx, pdf, odt).
    Report,
    /// A data workbook (xlsx, xlsm, xls, ods).
    Workbook,
}

/// The shipped configuration, compiled in: virtual path → text.
pub fn embedded_files() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("intake.toml", include_str!("../../config/intake.toml")),
        (
            "campaigns/742-skhdt-thqh.toml",
            include_str!("../../config/campaigns/742-skhdt-thqh.toml"),
        ),
        (
            "rosters/langson.toml",
            include_str!("../../config/rosters/langson.toml"),
        ),
        (
            "forms/742-2018-pl1.toml",
            include_str!("../../config/forms/742-2018-pl1.toml"),
        ),
        (
            "forms/742-2018-pl2.toml",
            include_str!("../../config/forms/742-2018-pl2.toml"),
        ),
        (
            "forms/742-2018-pl3.toml",
            include_str!("../../config/forms/742-2018-pl3.toml"),
        ),
        (
            "templates/receipt.txt",
            include_str!("../../config/templates/receipt.txt"),
        ),
        (
            "templates/reminder.txt",
            include_str!("../../config/templates/reminder.txt"),
        ),
        (
            "templates/digest.txt",
            include_str!("../../config/templates/digest.txt"),
        ),
    ])
}

impl Config {
    /// Every mailbox, the first one first.
    pub fn mailboxes(&self) -> impl Iterator<Item = &Mailbox> {
        std::iter::once(&self.mailbox).chain(&self.more_mailboxes)
    }

    /// The names of everything this configuration lists, to word what people read without
    /// ids.
    pub fn names(&self) -> Names {
        let mut agencies: Vec<(String, String)> = self
            .agencies()
            .into_iter()
            .map(|a| (a.code.clone(), a.name.clone()))
            .collect();
        let mut campaigns = Vec::new();
        let mut deliverables = Vec::new();
        for c in &self.campaigns {
            campaigns.push((c.id.clone(), format!("Công văn {}", c.dispatch)));
            agencies.extend(c.agencies.iter().map(|a| (a.code.clone(), a.name.clone())));
            for d in &c.deliverables {
                deliverables.push(((c.id.clone(), d.id.clone()), d.label.clone()));
            }
        }
        Names::new(agencies, campaigns, deliverables)
    }

    /// Loads the configuration from `path` and the campaign and roster files it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        let read = |rel: &Path| -> Result<String, String> {
            std::fs::read_to_string(dir.join(rel)).map_err(|e| e.to_string())
        };
        parse_files(&dir, &name, &read)
    }

    /// The embedded default, as if it lay in `<base>/config/`.
    pub fn embedded(base: &Path) -> Result<Config, ConfigError> {
        let files = embedded_files();
        let read = |rel: &Path| -> Result<String, String> {
            let key = rel.to_string_lossy().replace('\\', "/");
            let key = normalise_virtual(&key);
            files
                .get(key.as_str())
                .map(|s| s.to_string())
                .ok_or_else(|| "not part of the embedded configuration".to_string())
        };
        parse_files(&base.join("config"), Path::new("intake.toml"), &read)
    }

    /// The campaign with this id.
    pub fn campaign(&self, id: &str) -> Option<&Campaign> {
        self.campaigns.iter().find(|c| c.id == id)
    }

    /// Every agency of every campaign, each code once, in first-seen order.
    pub fn agencies(&self) -> Vec<&Agency> {
        let mut seen = std::collections::HashSet::new();
        self.campaigns
            .iter()
            .flat_map(|c| c.agencies.iter())
            .filter(|a| seen.insert(a.code.clone()))
            .collect()
    }

    /// The agency with this code, in any campaign.
    pub fn agency(&self, code: &str) -> Option<&Agency> {
        self.campaigns
            .iter()
            .flat_map(|c| c.agencies.iter())
            .find(|a| a.code == code)
    }

    /// The agency with this code, or with this name as staff type it (accents and case
    /// aside): staff read agencies by name on the board and in the digest.
    pub fn agency_named(&self, code_or_name: &str) -> Option<&Agency> {
        let typed = code_or_name.trim();
        self.agency(typed).or_else(|| {
            let folded = crate::core::text::fold(typed);
            self.agencies()
                .into_iter()
                .find(|a| crate::core::text::fold(&a.name) == folded)
        })
    }
}

/// Resolves `a/../b` in a virtual (embedded) path.
fn normalise_virtual(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_the_example_campaign() {
        let config = Config::embedded(Path::new("/srv/intake")).unwrap();
        assert_eq!(config.data_dir, Path::new("/srv/intake/var"));
        assert_eq!(config.campaigns.len(), 1);
        let c = &config.campaigns[0];
        assert_eq!(c.dispatch, "742/SKHĐT-THQH");
        assert_eq!(c.deadline.to_rfc3339(), "2018-07-10T00:00:00+07:00");
        assert_eq!(c.agencies.len(), 38);
        assert_eq!(c.deliverables.len(), 3);
        assert!(
            c.deliverables
                .iter()
                .all(|d| d.parts == [Part::Report, Part::Workbook])
        );
        assert!(
            c.deliverables
                .iter()
                .all(|d| d.spec.as_ref().map(|s| s.id.as_str()) == d.form.as_deref())
        );
        let districts = c
            .agencies
            .iter()
            .filter(|a| a.kind == AgencyKind::District)
            .count();
        assert_eq!(districts, 11);
        assert!(
            c.agencies
                .iter()
                .all(|a| a.addresses.iter().all(|x| x.ends_with("@langson.example")))
        );
    }

    #[test]
    fn shipped_files_on_disk_parse_too() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/intake.toml");
        let config = Config::load(&path).unwrap();
        assert_eq!(config.campaigns[0].id, "742-2018");
    }

    #[test]
    fn virtual_paths_resolve_parent_steps() {
        assert_eq!(
            normalise_virtual("campaigns/../rosters/langson.toml"),
            "rosters/langson.toml"
        );
    }
}
