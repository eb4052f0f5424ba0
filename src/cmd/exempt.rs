//! # `intake exempt`: an agency excused from a deliverable
//!
//! Staff record that an agency need not send one of a campaign's reports (audit-logged),
//! when the department has released it from that report.

use std::process::ExitCode;

use anyhow::Result;

use intake::clock::Clock;
use intake::config::Config;

use super::common::open_for_staff;
use super::forms;
use crate::usage;

/// `intake exempt --agency A --deliverable D [--campaign C] [--reason R] [--by B]`.
pub fn exempt(
    config: &Config,
    clock: &Clock,
    agency: &str,
    deliverable: &str,
    campaign: Option<&str>,
    reason: Option<&str>,
    by: Option<String>,
) -> Result<ExitCode> {
    let campaign = forms::pick_campaign(config, campaign)?;
    let agency = usage::campaign_agency(campaign, config, agency)?
        .code
        .clone();
    let d = usage::deliverable(campaign, deliverable)?;
    let actor = super::common::actor(by);
    let (store, _) = open_for_staff(config)?;
    store.exempt(&campaign.id, &agency, &d.id, &actor, reason, clock.now())?;
    println!(
        "Đã miễn nộp {} cho {} (Công văn {}).",
        d.label,
        config.names().agency(&agency),
        campaign.dispatch
    );
    Ok(ExitCode::SUCCESS)
}
