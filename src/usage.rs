//! # Usage errors
//!
//! A command given something that cannot be right — an agency, deliverable or campaign code
//! the configuration does not have, a file that does not exist — is the caller's mistake, not
//! the machine's: it exits with code 2 (as clap does for a malformed command line) and says
//! what would have been valid, as cargo and ripgrep do. Codes are case- and accent-blind when
//! they are looked up, and the nearest valid codes are offered first.

use intake::config::{Agency, Campaign, Config};

/// The caller asked for something that does not exist; exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// An agency of the configuration by its code or its name (`so-y-te`, `Sở Y tế`).
pub fn agency<'c>(config: &'c Config, typed: &str) -> Result<&'c Agency, Usage> {
    config.agency_named(typed).ok_or_else(|| {
        let codes: Vec<&str> = config.agencies().iter().map(|a| a.code.as_str()).collect();
        Usage(unknown("agency", typed, &codes))
    })
}

/// An agency of one campaign by its code or its name.
pub fn campaign_agency<'c>(
    campaign: &'c Campaign,
    config: &Config,
    typed: &str,
) -> Result<&'c Agency, Usage> {
    let code = config.agency_named(typed).map(|a| a.code.as_str());
    campaign
        .agencies
        .iter()
        .find(|a| Some(a.code.as_str()) == code)
        .ok_or_else(|| {
            let codes: Vec<&str> = campaign.agencies.iter().map(|a| a.code.as_str()).collect();
            Usage(format!(
                "{} (campaign {})",
                unknown("agency", typed, &codes),
                campaign.id
            ))
        })
}

/// A deliverable of a campaign by its id (`pl2`).
pub fn deliverable<'c>(
    campaign: &'c Campaign,
    typed: &str,
) -> Result<&'c intake::config::Deliverable, Usage> {
    campaign
        .deliverable(typed.trim())
        .or_else(|| {
            campaign
                .deliverables
                .iter()
                .find(|d| d.id.eq_ignore_ascii_case(typed.trim()))
        })
        .ok_or_else(|| {
            let ids: Vec<&str> = campaign
                .deliverables
                .iter()
                .map(|d| d.id.as_str())
                .collect();
            Usage(format!(
                "{} (campaign {})",
                unknown("deliverable", typed, &ids),
                campaign.id
            ))
        })
}

/// A campaign by its id, or the only one configured.
pub fn campaign<'c>(config: &'c Config, typed: Option<&str>) -> Result<&'c Campaign, Usage> {
    let ids: Vec<&str> = config.campaigns.iter().map(|c| c.id.as_str()).collect();
    match typed {
        Some(id) => config
            .campaign(id.trim())
            .ok_or_else(|| Usage(unknown("campaign", id, &ids))),
        None if config.campaigns.len() == 1 => Ok(&config.campaigns[0]),
        None => Err(Usage(format!(
            "several campaigns are configured; choose one with --campaign: {}",
            ids.join(", ")
        ))),
    }
}

/// "no agency "so-yte"; did you mean so-y-te? Valid codes: …".
fn unknown(what: &str, typed: &str, valid: &[&str]) -> String {
    let folded = intake::core::text::fold(typed);
    let mut near: Vec<(usize, &str)> = valid
        .iter()
        .map(|v| (distance(&folded, &intake::core::text::fold(v)), *v))
        .filter(|(d, v)| *d <= 2.max(v.chars().count() / 4))
        .collect();
    near.sort();
    let mut out = format!("no {what} \"{typed}\"");
    if let Some((_, best)) = near.first() {
        out.push_str(&format!(" (did you mean {best}?)"));
    }
    if valid.is_empty() {
        out.push_str("; none is configured");
    } else {
        out.push_str(&format!("; valid: {}", valid.join(", ")));
    }
    out
}

/// Edit distance (insertions, deletions, substitutions) between two short codes.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_code_is_offered_and_all_are_listed() {
        let m = unknown("agency", "so-yte", &["so-y-te", "so-tai-chinh"]);
        assert_eq!(
            m,
            "no agency \"so-yte\" (did you mean so-y-te?); valid: so-y-te, so-tai-chinh"
        );
        let m = unknown("deliverable", "zz", &["pl1", "pl2"]);
        assert_eq!(m, "no deliverable \"zz\"; valid: pl1, pl2");
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("pl2", "pl2"), 0);
        assert_eq!(distance("pl", "pl2"), 1);
        assert_eq!(distance("so-yte", "so-y-te"), 1);
        assert_eq!(distance("abc", "xyz"), 3);
    }
}
