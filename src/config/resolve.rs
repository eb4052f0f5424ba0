//! # Configuration, second step
//!
//! Turns the raw structs into a checked [`Config`]: defaults applied in one place, paths made
//! absolute against the main file's folder, dates parsed, campaigns joined to their rosters
//! and cross-checked (unique codes and ids, addresses that are not our own).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::de::DeserializeOwned;

use super::raw::*;
use super::*;

/// Parses `main` (relative to `dir`) and every file it names, reading through `read`.
pub fn parse_files(
    dir: &Path,
    main: &Path,
    read: &dyn Fn(&Path) -> Result<String, String>,
) -> Result<Config, ConfigError> {
    let main_name = main.display().to_string();
    let text = read(main).map_err(|e| {
        err(
            &main_name,
            "-",
            &format!("cannot read: {e}"),
            "check the path given with --config",
        )
    })?;
    let raw: RawMain = parse_toml(&main_name, &text)?;
    let at = |k: &str, p: &str, f: &str| err(&main_name, k, p, f);

    let abs = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            clean(&dir.join(p))
        }
    };
    let data_dir = abs(raw.data_dir.as_deref().unwrap_or("../var"));
    let under_data = |given: &Option<String>, default: &str| -> PathBuf {
        match given {
            Some(p) if Path::new(p).is_absolute() => PathBuf::from(p),
            Some(p) => clean(&data_dir.join(p)),
            None => data_dir.join(default),
        }
    };

    let timezone: chrono_tz::Tz = raw
        .timezone
        .as_deref()
        .unwrap_or("Asia/Ho_Chi_Minh")
        .parse()
        .map_err(|_| {
            at(
                "timezone",
                "not a known time zone",
                "use an IANA name such as \"Asia/Ho_Chi_Minh\"",
            )
        })?;

    let d = &raw.department;
    if !d.reply_from.contains('@') {
        return Err(at(
            "department.reply_from",
            "is not an address",
            "write it as \"Name <user@domain>\"",
        ));
    }
    let mut own = Vec::new();
    for (i, a) in d.addresses.iter().enumerate() {
        own.push(address(a).ok_or_else(|| {
            at(
                &format!("department.addresses[{i}]"),
                "is not an e-mail address",
                "write user@domain",
            )
        })?);
    }
    let mut forwarders = Vec::new();
    for (i, a) in d.forwarders.iter().enumerate() {
        forwarders.push(address(a).ok_or_else(|| {
            at(
                &format!("department.forwarders[{i}]"),
                "is not an e-mail address",
                "write the clerk's address, user@domain",
            )
        })?);
    }
    let mut domains = Vec::new();
    for (i, x) in d.domains.iter().enumerate() {
        let x = x
            .trim()
            .trim_start_matches('@')
            .trim_end_matches('.')
            .to_lowercase();
        if x.is_empty() || x.contains('@') || !x.contains('.') || x.contains(char::is_whitespace) {
            return Err(at(
                &format!("department.domains[{i}]"),
                "is not a mail domain",
                "write the domain alone, e.g. \"skhdt.langson.gov.vn\"",
            ));
        }
        domains.push(x);
    }
    // Our own mail is never an agency's: the forwarders' mail is attributed by what it carries.
    own.extend(forwarders.iter().cloned());
    let department = Department {
        name: d.name.clone(),
        short_name: d.short_name.clone().unwrap_or_else(|| d.name.clone()),
        division: d.division.clone(),
        addresses: own
            .iter()
            .filter(|a| !forwarders.contains(a))
            .cloned()
            .collect(),
        reply_from: d.reply_from.clone(),
        domains,
        forwarders,
    };
    let auth = super::auth::resolve(raw.auth.as_ref()).map_err(|(k, p, f)| at(&k, &p, &f))?;

    let mut mailboxes = Vec::new();
    let many = matches!(raw.mailbox, super::raw::RawMailboxes::Many(_));
    for (n, m) in raw.mailbox.all().iter().enumerate() {
        let key = |k: &str| {
            if many {
                format!("mailbox[{n}].{k}")
            } else {
                format!("mailbox.{k}")
            }
        };
        mailboxes
            .push(mailbox(m, many, &key, &under_data, &abs).map_err(|(k, p, f)| at(&k, &p, &f))?);
    }
    if mailboxes.is_empty() {
        return Err(at(
            "mailbox",
            "is an empty list",
            "name at least one [[mailbox]], or write one [mailbox] table",
        ));
    }
    for (n, m) in mailboxes.iter().enumerate() {
        if let Some(earlier) = mailboxes[..n].iter().position(|e| e.name == m.name) {
            return Err(at(
                &format!("mailbox[{n}].name"),
                &format!(
                    "\"{}\" names mailbox {earlier} too",
                    m.name.as_deref().unwrap_or("")
                ),
                "give each [[mailbox]] a name of its own",
            ));
        }
        if let Some(earlier) = mailboxes[..n]
            .iter()
            .position(|e| e.identity() == m.identity())
        {
            return Err(at(
                &format!("mailbox[{n}]"),
                &format!("reads {} as mailbox {earlier} does", m.describe()),
                "give each [[mailbox]] its own path, or its own account or folder",
            ));
        }
    }
    let mailbox = mailboxes.remove(0);
    let more_mailboxes = mailboxes;

    let watch = match raw.drop.watch.as_deref().unwrap_or("native") {
        "native" => WatchMode::Native,
        "poll" => WatchMode::Poll,
        other => {
            return Err(at(
                "drop.watch",
                &format!("unknown mode \"{other}\""),
                "use \"native\" or \"poll\" (for network shares)",
            ));
        }
    };
    let secs = |v: Option<u64>, default: u64, key: &str| -> Result<Duration, ConfigError> {
        match v.unwrap_or(default) {
            0 => Err(at(
                key,
                "must be at least 1 second",
                "give a whole number of seconds",
            )),
            n => Ok(Duration::from_secs(n)),
        }
    };
    let drop = Drop {
        path: under_data(&raw.drop.path, "drop"),
        watch,
        poll_interval: secs(raw.drop.poll_interval_secs, 5, "drop.poll_interval_secs")?,
        rescan: secs(raw.drop.rescan_secs, 60, "drop.rescan_secs")?,
        settle: secs(raw.drop.settle_secs, 3, "drop.settle_secs")?,
    };

    let smtp = match (
        raw.outbox.kind.as_deref().unwrap_or("file"),
        &raw.outbox.smtp,
    ) {
        ("file", None) => None,
        ("file", Some(_)) => {
            return Err(at(
                "outbox.smtp",
                "is given but outbox.kind is \"file\"",
                "set kind = \"smtp\" to use it, or remove [outbox.smtp]",
            ));
        }
        ("smtp", Some(r)) => {
            Some(super::smtp::resolve(r, &|p: &str| abs(p)).map_err(|(k, p, f)| at(&k, &p, &f))?)
        }
        ("smtp", None) => {
            return Err(at(
                "outbox.smtp",
                "is missing",
                "add an [outbox.smtp] table with host, user and password_env or password_file",
            ));
        }
        (other, _) => {
            return Err(at(
                "outbox.kind",
                &format!("unknown kind \"{other}\""),
                "use \"file\" or \"smtp\"",
            ));
        }
    };
    let store = super::store::StoreAt {
        index: super::store::resolve_index(
            raw.store.kind.as_deref(),
            raw.store.url.as_deref(),
            (
                raw.store.password_env.as_deref(),
                raw.store.password_file.as_deref(),
            ),
            raw.store.ca_file.as_deref(),
            &|p: &str| abs(p),
        )
        .map_err(|(k, p, f)| at(&k, &p, &f))?,
        objects: super::store::resolve(raw.store.objects.as_ref(), &|p: &str| abs(p))
            .map_err(|(k, p, f)| at(&k, &p, &f))?,
    };
    let problem = |(k, p, f): super::schedule::Problem| at(&k, &p, &f);
    let outbox = Outbox {
        smtp,
        retry: super::schedule::retry(
            raw.outbox.retry_first_secs,
            raw.outbox.retry_max_secs,
            raw.outbox.give_up_hours,
        )
        .map_err(problem)?,
    };
    let office = super::schedule::office(&raw.office).map_err(problem)?;
    let receipts_per_hour = super::schedule::receipts_per_hour(&raw.receipts).map_err(problem)?;
    let digest = match &raw.digest {
        None => None,
        Some(d) => {
            let mut to = Vec::new();
            for (i, a) in d.to.iter().enumerate() {
                to.push(address(a).ok_or_else(|| {
                    at(
                        &format!("digest.to[{i}]"),
                        "is not an e-mail address",
                        "write user@domain",
                    )
                })?);
            }
            if to.is_empty() {
                return Err(at(
                    "digest.to",
                    "is empty",
                    "list the staff addresses the daily summary goes to, or remove [digest]",
                ));
            }
            let at_time = match &d.at {
                Some(s) => super::schedule::time_of_day("digest.at", s).map_err(problem)?,
                None => office.opens,
            };
            if at_time < office.opens || at_time >= office.closes {
                return Err(at(
                    "digest.at",
                    "is outside office hours, so the digest would never go",
                    "give a time between office.opens and office.closes",
                ));
            }
            Some(super::schedule::Digest { to, at: at_time })
        }
    };
    let templates_dir = raw
        .templates
        .dir
        .clone()
        .unwrap_or_else(|| "templates".into());
    let mut sources = Vec::new();
    for kind in crate::core::templates::TemplateKind::ALL {
        let rel = Path::new(&templates_dir).join(kind.file_name());
        let shown = rel.display().to_string();
        let text = read(&rel).map_err(|e| {
            err(
                &shown,
                "-",
                &format!("cannot read the template: {e}"),
                "copy it from the shipped config/templates/, or set [templates] dir",
            )
        })?;
        sources.push((kind, shown, text));
    }
    let templates = crate::core::templates::Templates::parse(sources).map_err(|e| {
        err(
            &e.file,
            &e.line
                .map(|l| format!("line {l}"))
                .unwrap_or_else(|| "-".into()),
            &e.message,
            "fix the template; config/templates/README.md lists its variables",
        )
    })?;

    let board = super::board::resolve(raw.board.as_ref(), &|p: &str| abs(p))
        .map_err(|(k, p, f)| at(&k, &p, &f))?;

    let l = &raw.limits;
    let dl = Limits::default();
    let limits = Limits {
        max_message_bytes: l.max_message_bytes.unwrap_or(dl.max_message_bytes),
        max_attachments: l.max_attachments.unwrap_or(dl.max_attachments),
        max_zip_entries: l.max_zip_entries.unwrap_or(dl.max_zip_entries),
        max_zip_total_bytes: l.max_zip_total_bytes.unwrap_or(dl.max_zip_total_bytes),
        max_zip_ratio: l.max_zip_ratio.unwrap_or(dl.max_zip_ratio),
        max_nesting: l.max_nesting.unwrap_or(dl.max_nesting),
        max_workbook_cells: l.max_workbook_cells.unwrap_or(dl.max_workbook_cells),
        max_file_bytes: l.max_file_bytes.unwrap_or(dl.max_file_bytes),
    };

    if raw.campaigns.is_empty() {
        return Err(at(
            "campaigns",
            "no campaign is configured",
            "list at least one campaign file, e.g. campaigns = [\"campaigns/742-skhdt-thqh.toml\"]",
        ));
    }
    let mut campaigns = Vec::new();
    let mut ids = HashSet::new();
    for (i, rel) in raw.campaigns.iter().enumerate() {
        let campaign = load_campaign(Path::new(rel), read, &own).map_err(|mut e| {
            if e.file == "-" {
                e.file = main_name.clone();
                e.key = format!("campaigns[{i}]");
            }
            e
        })?;
        if !ids.insert(campaign.id.clone()) {
            return Err(at(
                &format!("campaigns[{i}]"),
                &format!("campaign id \"{}\" is used twice", campaign.id),
                "give each campaign file its own id",
            ));
        }
        if !campaign.reminders.days.is_empty()
            && (campaign.reminders.at < office.opens || campaign.reminders.at >= office.closes)
        {
            return Err(err(
                rel,
                "reminders.at",
                "is outside office hours ([office] of the main file), so no reminder would go then",
                "give a time between office.opens and office.closes, e.g. at = \"08:00\"",
            ));
        }
        campaigns.push(campaign);
    }
    // One code means one agency everywhere, or the store would mix them up.
    let mut by_code: std::collections::HashMap<&str, &Agency> = Default::default();
    for c in &campaigns {
        for a in &c.agencies {
            if let Some(prev) = by_code.insert(&a.code, a)
                && prev != a
            {
                return Err(at(
                    "campaigns",
                    &format!("agency \"{}\" differs between rosters", a.code),
                    "use one roster file, or give the agencies different codes",
                ));
            }
        }
    }

    Ok(Config {
        origin: dir.join(main),
        store_dir: under_data(&raw.store.path, "store"),
        store,
        outbox_dir: under_data(&raw.outbox.path, "outbox"),
        outbox,
        office,
        receipts_per_hour,
        digest,
        templates: std::sync::Arc::new(templates),
        data_dir,
        timezone,
        department,
        mailbox,
        more_mailboxes,
        drop,
        limits,
        campaigns,
        board,
        auth,
    })
}

fn load_campaign(
    rel: &Path,
    read: &dyn Fn(&Path) -> Result<String, String>,
    own: &[String],
) -> Result<Campaign, ConfigError> {
    let file = rel.display().to_string();
    let text = read(rel).map_err(|e| {
        err(
            "-",
            "-",
            &format!("cannot read campaign file {file}: {e}"),
            "check the path in `campaigns`",
        )
    })?;
    let raw: RawCampaign = parse_toml(&file, &text)?;
    let at = |k: &str, p: &str, f: &str| err(&file, k, p, f);

    if !is_code(&raw.id) {
        return Err(at(
            "id",
            "must be lower-case letters, digits and dashes",
            "e.g. id = \"742-2018\"",
        ));
    }
    let when = |key: &str, v: &str| -> Result<DateTime<FixedOffset>, ConfigError> {
        DateTime::parse_from_rfc3339(v).map_err(|_| {
            at(
                key,
                &format!("\"{v}\" is not a time"),
                "write an RFC 3339 time with its offset, e.g. \"2018-07-10T00:00:00+07:00\"",
            )
        })
    };
    let deadline = when("deadline", &raw.deadline)?;
    let opens = raw.opens.as_deref().map(|v| when("opens", v)).transpose()?;
    let closes = raw
        .closes
        .as_deref()
        .map(|v| when("closes", v))
        .transpose()?;
    if opens.is_some_and(|o| o > deadline) || closes.is_some_and(|c| c < deadline) {
        return Err(at(
            "opens",
            "the window does not contain the deadline",
            "make opens ≤ deadline ≤ closes",
        ));
    }
    let dispatch_date = raw
        .dispatch_date
        .as_deref()
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                at(
                    "dispatch_date",
                    &format!("\"{v}\" is not a date"),
                    "write YYYY-MM-DD",
                )
            })
        })
        .transpose()?;

    let roster_rel = clean(&rel.parent().unwrap_or(Path::new("")).join(&raw.roster));
    let roster = load_roster(&roster_rel, read, own).map_err(|mut e| {
        if e.file == "-" {
            e.file = file.clone();
            e.key = "roster".into();
        }
        e
    })?;
    let roster_codes: HashSet<String> = roster.iter().map(|a| a.code.clone()).collect();
    let agencies = match &raw.agencies {
        None => roster,
        Some(toml::Value::String(s)) if s == "all" => roster,
        Some(toml::Value::Array(codes)) => {
            let mut picked = Vec::new();
            for (i, v) in codes.iter().enumerate() {
                let code = v.as_str().unwrap_or_default();
                let agency = roster.iter().find(|a| a.code == code).ok_or_else(|| {
                    at(
                        &format!("agencies[{i}]"),
                        &format!("\"{code}\" is not in the roster"),
                        "use a code from the roster file",
                    )
                })?;
                picked.push(agency.clone());
            }
            picked
        }
        Some(_) => {
            return Err(at(
                "agencies",
                "must be \"all\" or a list of codes",
                "e.g. agencies = \"all\"",
            ));
        }
    };
    if agencies.is_empty() {
        return Err(at(
            "agencies",
            "no agency reports in this campaign",
            "list agencies in the roster",
        ));
    }

    if raw.deliverables.is_empty() {
        return Err(at(
            "deliverable",
            "the campaign asks for nothing",
            "add at least one [[deliverable]]",
        ));
    }
    let mut deliverables = Vec::new();
    let mut seen = HashSet::new();
    for (i, d) in raw.deliverables.iter().enumerate() {
        let key = |k: &str| format!("deliverable[{i}].{k}");
        if !is_code(&d.id) || !seen.insert(d.id.clone()) {
            return Err(at(
                &key("id"),
                &format!("\"{}\" is not a unique code", d.id),
                "use lower-case letters, digits and dashes, once per campaign",
            ));
        }
        let mut parts = Vec::new();
        for (j, p) in d.parts.iter().enumerate() {
            parts.push(match p.as_str() {
                "report" => Part::Report,
                "workbook" => Part::Workbook,
                other => {
                    return Err(at(
                        &format!("deliverable[{i}].parts[{j}]"),
                        &format!("unknown part \"{other}\""),
                        "use \"report\" and/or \"workbook\"",
                    ));
                }
            });
        }
        if parts.is_empty() {
            parts = vec![Part::Report, Part::Workbook];
        }
        // A deliverable's form is specified in `<forms>/<form id>.toml` when that file exists.
        let forms_dir = rel
            .parent()
            .unwrap_or(Path::new(""))
            .join(raw.forms.as_deref().unwrap_or("../forms"));
        let spec = match &d.form {
            Some(form) => {
                let path = clean(&forms_dir.join(format!("{form}.toml")));
                match read(&path) {
                    Ok(text) => {
                        let spec =
                            crate::core::forms::spec::parse(&path.display().to_string(), &text)?;
                        who_names_roster_agencies(&spec, &path, &roster_codes, &raw.roster)?;
                        if spec.id != *form {
                            return Err(at(
                                &key("form"),
                                &format!("{} declares id \"{}\"", path.display(), spec.id),
                                "make the form file's id match the deliverable's form",
                            ));
                        }
                        Some(std::sync::Arc::new(spec))
                    }
                    // A deliverable that names a form must have it: without it every workbook
                    // of that form would be refused as unrecognised, in service.
                    Err(e) => {
                        return Err(at(
                            &key("form"),
                            &format!("the form file {} cannot be read: {e}", path.display()),
                            &format!(
                                "write the form specification at {} (see config/forms/), or remove `form = \"{form}\"` from the deliverable",
                                path.display()
                            ),
                        ));
                    }
                }
            }
            None => None,
        };
        deliverables.push(Deliverable {
            id: d.id.clone(),
            label: d.label.clone(),
            name: d.name.clone(),
            form: d.form.clone(),
            spec,
            parts,
            keywords: d.keywords.clone(),
            titles: d.titles.clone(),
        });
    }

    Ok(Campaign {
        id: raw.id,
        dispatch: raw.dispatch,
        dispatch_date,
        title: raw.title,
        opens,
        deadline,
        deadline_text: raw.deadline_text.unwrap_or_else(|| {
            format!(
                "trước {}",
                crate::core::words::when(deadline, *deadline.offset())
            )
        }),
        closes,
        agencies,
        keywords: raw.keywords,
        rules: rule_settings(&file, &raw.rules, &deliverables)?,
        reminders: super::schedule::reminders(raw.reminders.as_ref())
            .map_err(|(k, p, f)| err(&file, &k, &p, &f))?,
        deliverables,
    })
}

/// Every agency code a form's `who` names is in the campaign's roster: a misspelt code would
/// leave its rows nobody's, and an agency's own table of them unrecognised.
fn who_names_roster_agencies(
    spec: &crate::core::forms::spec::FormSpec,
    path: &Path,
    roster: &HashSet<String>,
    roster_name: &str,
) -> Result<(), ConfigError> {
    for (si, sheet) in spec.sheets.iter().enumerate() {
        for (ri, row) in sheet.rows.iter().enumerate() {
            let crate::core::forms::spec::Who::Some { codes, .. } = &row.who else {
                continue;
            };
            if let Some(code) = codes.iter().find(|c| !roster.contains(*c)) {
                return Err(err(
                    &path.display().to_string(),
                    &format!("sheet[{si}].row[{ri}].who"),
                    &format!(
                        "\"{code}\" (row \"{}\") is not an agency of the roster {roster_name}",
                        row.id
                    ),
                    "use an agency code from the roster, or \"districts\", \"departments\", \"office\"",
                ));
            }
        }
    }
    Ok(())
}

/// The campaign's switches of form rules, each naming a rule of one of its forms.
fn rule_settings(
    file: &str,
    raw: &std::collections::BTreeMap<String, String>,
    deliverables: &[Deliverable],
) -> Result<std::collections::HashMap<String, RuleSetting>, ConfigError> {
    let known: HashSet<&str> = deliverables
        .iter()
        .filter_map(|d| d.spec.as_ref())
        .flat_map(|s| s.rules.iter().map(|r| r.id.as_str()))
        .collect();
    let mut out = std::collections::HashMap::new();
    for (id, setting) in raw {
        if !known.contains(id.as_str()) {
            return Err(err(
                file,
                &format!("rules.{id}"),
                "no form of this campaign has that rule",
                "use a rule id from config/forms/*.toml",
            ));
        }
        let s = match setting.as_str() {
            "warning" => RuleSetting::Warning,
            "error" => RuleSetting::Error,
            "off" => RuleSetting::Off,
            "default" => RuleSetting::Default,
            other => {
                return Err(err(
                    file,
                    &format!("rules.{id}"),
                    &format!("unknown setting \"{other}\""),
                    "use \"warning\", \"error\", \"off\" or \"default\"",
                ));
            }
        };
        out.insert(id.clone(), s);
    }
    Ok(out)
}

fn load_roster(
    rel: &Path,
    read: &dyn Fn(&Path) -> Result<String, String>,
    own: &[String],
) -> Result<Vec<Agency>, ConfigError> {
    let file = rel.display().to_string();
    let text = read(rel).map_err(|e| {
        err(
            "-",
            "-",
            &format!("cannot read roster file {file}: {e}"),
            "check the `roster` path, relative to the campaign file",
        )
    })?;
    let raw: RawRoster = parse_toml(&file, &text)?;
    let roster_policy = raw.auth.as_ref().and_then(|a| a.policy.clone());
    let mut out: Vec<Agency> = Vec::new();
    let mut addresses = HashSet::new();
    for (i, a) in raw.agencies.into_iter().enumerate() {
        let at = |k: &str, p: &str, f: &str| err(&file, &format!("agency[{i}].{k}"), p, f);
        if !is_code(&a.code) {
            return Err(at(
                "code",
                &format!("\"{}\" is not a code", a.code),
                "use lower-case letters, digits and dashes, e.g. \"so-y-te\"",
            ));
        }
        if out.iter().any(|b| b.code == a.code) {
            return Err(at(
                "code",
                &format!("\"{}\" is used twice", a.code),
                "give each agency its own code",
            ));
        }
        let kind = match a.kind.as_deref().unwrap_or("department") {
            "department" => AgencyKind::Department,
            "district" => AgencyKind::District,
            "office" => AgencyKind::Office,
            other => {
                return Err(at(
                    "kind",
                    &format!("unknown kind \"{other}\""),
                    "use \"department\", \"district\" or \"office\"",
                ));
            }
        };
        let mut list = Vec::new();
        for (j, x) in a.addresses.iter().enumerate() {
            let x = address(x).ok_or_else(|| {
                at(
                    &format!("addresses[{j}]"),
                    &format!("\"{x}\" is not an e-mail address"),
                    "write user@domain",
                )
            })?;
            if own.contains(&x) {
                return Err(at(
                    &format!("addresses[{j}]"),
                    &format!("{x} is one of the department's own addresses"),
                    "remove it: mail from our own addresses is never a submission",
                ));
            }
            if !addresses.insert(x.clone()) {
                return Err(at(
                    &format!("addresses[{j}]"),
                    &format!("{x} belongs to two agencies"),
                    "give the address to one agency only",
                ));
            }
            list.push(x);
        }
        let domains = a
            .domains
            .iter()
            .map(|d| d.trim().trim_start_matches('@').to_lowercase())
            .collect();
        let policy = match a.auth.as_deref().or(roster_policy.as_deref()) {
            None => super::auth::AuthPolicy::default(),
            Some(p) => super::auth::AuthPolicy::parse(p).ok_or_else(|| {
                let key = if a.auth.is_some() {
                    format!("agency[{i}].auth")
                } else {
                    "auth.policy".into()
                };
                err(
                    &file,
                    &key,
                    &format!("unknown policy \"{p}\""),
                    super::auth::POLICY_FIX,
                )
            })?,
        };
        out.push(Agency {
            code: a.code,
            name: a.name,
            kind,
            addresses: list,
            domains,
            aliases: a.aliases,
            auth: policy,
        });
    }
    Ok(out)
}

fn parse_toml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    parse_toml_with(
        file,
        text,
        "fix the TOML at that place; config/intake.toml shows every key with its meaning",
    )
}

fn err(file: &str, key: &str, problem: &str, fix: &str) -> ConfigError {
    ConfigError {
        file: file.into(),
        key: key.into(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A bare address, lower case, or None when it has no `@` or spaces inside.
fn address(s: &str) -> Option<String> {
    let s = s.trim().to_lowercase();
    let (local, domain) = s.split_once('@')?;
    (!local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)).then_some(s)
}

/// Removes `.` and `..` steps without touching the file system.
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// One `[mailbox]` (or `[[mailbox]]`) checked; `key` names a key of it for errors.
fn mailbox(
    raw: &super::raw::RawMailbox,
    many: bool,
    key: &dyn Fn(&str) -> String,
    under_data: &dyn Fn(&Option<String>, &str) -> PathBuf,
    abs: &dyn Fn(&str) -> PathBuf,
) -> Result<Mailbox, (String, String, String)> {
    let fail = |k: &str, p: &str, f: &str| Err((key(k), p.to_string(), f.to_string()));
    let name = match (&raw.name, many) {
        (Some(n), _) if !valid_name(n) => {
            return fail(
                "name",
                &format!("\"{n}\" is not a plain name"),
                "use lower-case letters, digits and '-' (it names the mailbox in logs and leases)",
            );
        }
        (Some(n), _) => Some(n.clone()),
        (None, true) => {
            return fail(
                "name",
                "is missing",
                "name each [[mailbox]] (name = \"so-y-te\"): logs, status and leases tell them apart by it",
            );
        }
        (None, false) => None,
    };
    let imap = match (raw.kind.as_deref().unwrap_or("maildir"), &raw.imap) {
        ("maildir", None) => None,
        ("maildir", Some(_)) => {
            return fail(
                "imap",
                "is given but kind is \"maildir\"",
                "set kind = \"imap\" to use it, or remove the imap table",
            );
        }
        ("imap", Some(r)) => Some(
            super::imap::resolve(r, &|p: &str| abs(p))
                .map_err(|(k, p, f)| (k.replacen("mailbox.", &key(""), 1), p, f))?,
        ),
        ("imap", None) => {
            return fail(
                "imap",
                "is missing",
                "add an imap table with host, user and password_env or password_file",
            );
        }
        (other, _) => {
            return fail(
                "kind",
                &format!("unknown kind \"{other}\""),
                "use \"maildir\" or \"imap\"",
            );
        }
    };
    let on_filed = match raw.on_filed.as_deref().unwrap_or("seen") {
        "seen" => OnFiled::Seen,
        "keep" => OnFiled::Keep,
        other => {
            return fail(
                "on_filed",
                &format!("unknown action \"{other}\""),
                "use \"seen\" or \"keep\"",
            );
        }
    };
    let default_dir = match &name {
        Some(n) if many => format!("maildir-{n}"),
        _ => "maildir".to_string(),
    };
    Ok(Mailbox {
        name,
        path: under_data(&raw.path, &default_dir),
        on_filed,
        imap,
    })
}

/// A name for logs, leases and file names: lower-case letters, digits and '-'.
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn parse(files: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: BTreeMap<String, String> = files
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (name, text) in embedded_files() {
            if name.starts_with("templates/") {
                map.entry(name.to_string())
                    .or_insert_with(|| text.to_string());
            }
        }
        let read = move |p: &Path| {
            map.get(&p.display().to_string())
                .cloned()
                .ok_or_else(|| "no such file".to_string())
        };
        parse_files(Path::new("/etc/intake"), Path::new("intake.toml"), &read)
    }

    const MAIN: &str = "campaigns = [\"c.toml\"]\n[department]\nname = \"Sở\"\nreply_from = \"x@y.example\"\naddresses = [\"x@y.example\"]\n";
    const ROSTER: &str =
        "[[agency]]\ncode = \"so-y-te\"\nname = \"Sở Y tế\"\naddresses = [\"Y@Z.example\"]\n";
    fn campaign(extra: &str) -> String {
        format!(
            "id = \"c1\"\ndispatch = \"1/X\"\ntitle = \"t\"\ndeadline = \"2018-07-10T00:00:00+07:00\"\nroster = \"r.toml\"\n{extra}\n[[deliverable]]\nid = \"pl1\"\nlabel = \"PL I\"\nname = \"n\"\n"
        )
    }

    #[test]
    fn minimal_config_resolves_with_defaults() {
        let c = parse(&[
            ("intake.toml", MAIN),
            ("c.toml", &campaign("")),
            ("r.toml", ROSTER),
        ])
        .unwrap();
        assert_eq!(c.data_dir, Path::new("/etc/var"));
        assert_eq!(c.store_dir, Path::new("/etc/var/store"));
        assert_eq!(c.campaigns[0].agencies[0].addresses, ["y@z.example"]);
        assert_eq!(c.drop.settle, Duration::from_secs(3));
    }

    #[test]
    fn several_mailboxes_are_named_each_apart() {
        let with = |mailboxes: &str| {
            parse(&[
                ("intake.toml", &format!("{MAIN}{mailboxes}")),
                ("c.toml", &campaign("")),
                ("r.toml", ROSTER),
            ])
        };
        let c = with(
            "[[mailbox]]\nname = \"so-y-te\"\n[[mailbox]]\nname = \"so-gd\"\npath = \"/srv/gd\"\non_filed = \"keep\"\n",
        )
        .unwrap();
        let names: Vec<String> = c.mailboxes().map(|m| m.source_name()).collect();
        assert_eq!(names, ["mailbox:so-y-te", "mailbox:so-gd"]);
        assert_eq!(c.mailbox.path, Path::new("/etc/var/maildir-so-y-te"));
        assert_eq!(c.more_mailboxes[0].path, Path::new("/srv/gd"));
        assert_eq!(c.more_mailboxes[0].on_filed, OnFiled::Keep);
        // The one [mailbox] keeps its name and folder.
        let one = with("[mailbox]\non_filed = \"keep\"\n").unwrap();
        assert_eq!(one.mailbox.source_name(), "mailbox");
        assert_eq!(one.mailbox.path, Path::new("/etc/var/maildir"));
        assert!(one.more_mailboxes.is_empty());

        for (text, key, said) in [
            (
                "[[mailbox]]\n[[mailbox]]\nname = \"b\"\n",
                "mailbox[0].name",
                "is missing",
            ),
            (
                "[[mailbox]]\nname = \"a\"\n[[mailbox]]\nname = \"a\"\npath = \"/x\"\n",
                "mailbox[1].name",
                "names mailbox 0 too",
            ),
            (
                "[[mailbox]]\nname = \"a\"\npath = \"/x\"\n[[mailbox]]\nname = \"b\"\npath = \"/x\"\n",
                "mailbox[1]",
                "as mailbox 0 does",
            ),
            (
                "[[mailbox]]\nname = \"Sở Y tế\"\n",
                "mailbox[0].name",
                "not a plain name",
            ),
            (
                "[[mailbox]]\nname = \"a\"\nkind = \"imap\"\n",
                "mailbox[0].imap",
                "is missing",
            ),
        ] {
            let e = with(text).unwrap_err();
            assert_eq!(e.key, key, "{text}: {e}");
            assert!(e.problem.contains(said), "{text}: {e}");
        }
        // A typo inside a [[mailbox]] is named as in a [mailbox].
        let e = with("[[mailbox]]\nname = \"a\"\npaht = \"/x\"\n").unwrap_err();
        assert!(e.to_string().contains("paht"), "{e}");
    }

    #[test]
    fn a_forms_who_must_name_agencies_of_the_roster() {
        let form = |who: &str| {
            format!(
                "id = \"f\"\nversion = 1\ntitles = [\"t\"]\n[[sheet]]\nid = \"s\"\nname = \"S\"\n[[sheet.column]]\nid = \"c\"\nlabel = \"C\"\n[[sheet.row]]\nid = \"a\"\ncode = \"1\"\nlabel = \"A\"\nkind = \"percent\"\nwho = {who}\n"
            )
        };
        let campaign = format!("{}form = \"f\"\n", campaign("forms = \"forms\""));
        let ok = parse(&[
            ("intake.toml", MAIN),
            ("c.toml", &campaign),
            ("r.toml", ROSTER),
            ("forms/f.toml", &form("[\"districts\", \"so-y-te\"]")),
        ])
        .unwrap();
        assert!(ok.campaigns[0].deliverables[0].spec.is_some());
        let e = parse(&[
            ("intake.toml", MAIN),
            ("c.toml", &campaign),
            ("r.toml", ROSTER),
            ("forms/f.toml", &form("[\"districts\", \"so-y-tee\"]")),
        ])
        .unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.key.as_str()),
            ("forms/f.toml", "sheet[0].row[0].who")
        );
        assert!(e.problem.contains("\"so-y-tee\""), "{e}");
    }

    #[test]
    fn a_password_in_the_toml_is_refused_by_name() {
        let main = format!("{MAIN}[mailbox]\npassword = \"hunter2\"\n");
        let e = parse(&[
            ("intake.toml", &main),
            ("c.toml", &campaign("")),
            ("r.toml", ROSTER),
        ])
        .unwrap_err();
        assert_eq!(e.file, "intake.toml");
        assert!(e.problem.contains("password"), "{e}");
        assert!(
            !e.to_string().contains("hunter2"),
            "the secret must not be echoed: {e}"
        );
    }

    #[test]
    fn errors_name_file_key_and_fix() {
        let e = parse(&[
            ("intake.toml", MAIN),
            (
                "c.toml",
                &campaign("").replace("2018-07-10T00:00:00+07:00", "10/7/2018"),
            ),
            ("r.toml", ROSTER),
        ])
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.key.as_str()), ("c.toml", "deadline"));
        assert!(e.fix.contains("RFC 3339"));

        let e = parse(&[
            ("intake.toml", MAIN),
            ("c.toml", &campaign("agencies = [\"so-xyz\"]")),
            ("r.toml", ROSTER),
        ])
        .unwrap_err();
        assert_eq!(e.key, "agencies[0]");

        let e = parse(&[
            ("intake.toml", MAIN),
            ("c.toml", &campaign("")),
            (
                "r.toml",
                "[[agency]]\ncode = \"a\"\nname = \"A\"\naddresses = [\"x@y.example\"]\n",
            ),
        ])
        .unwrap_err();
        assert!(e.problem.contains("department's own"), "{e}");

        let e = parse(&[
            ("intake.toml", MAIN),
            ("c.toml", &campaign("colour = 1")),
            ("r.toml", ROSTER),
        ])
        .unwrap_err();
        assert_eq!(e.file, "c.toml");
        assert!(e.problem.contains("colour"), "{e}");
        assert!(e.key.starts_with("line "), "{e}");
    }

    #[test]
    fn campaigns_side_by_side_need_their_own_ids() {
        let main = MAIN.replace("[\"c.toml\"]", "[\"c.toml\", \"c.toml\"]");
        let e = parse(&[
            ("intake.toml", &main),
            ("c.toml", &campaign("")),
            ("r.toml", ROSTER),
        ])
        .unwrap_err();
        assert!(e.problem.contains("used twice"));
    }
}
