//! # `intake extend`: a later deadline for an agency
//!
//! Staff give an agency more time for a campaign (audit-logged; a later extension replaces an
//! earlier one), and its reminders are scheduled again from the new deadline.

use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, FixedOffset};

use intake::clock::Clock;
use intake::config::Config;

use super::common::open_for_staff;
use super::forms;
use crate::usage;

/// `intake extend --agency A --until T [--campaign C] [--reason R] [--by B]`.
pub fn extend(
    config: &Config,
    clock: &Clock,
    agency: &str,
    until: DateTime<FixedOffset>,
    campaign: Option<&str>,
    reason: Option<&str>,
    by: Option<String>,
) -> Result<ExitCode> {
    let campaign = forms::pick_campaign(config, campaign)?;
    let agency = usage::campaign_agency(campaign, config, agency)?
        .code
        .clone();
    let actor = super::common::actor(by);
    let (store, _) = open_for_staff(config)?;
    store.extend(&campaign.id, &agency, until, &actor, reason, clock.now())?;
    let reopened = intake::notices::reopen_after_extension(
        config,
        &store,
        campaign,
        &agency,
        until,
        clock.now(),
    )?;
    println!(
        "Đã gia hạn cho {} đến {} (Công văn {}); lịch nhắc theo hạn mới: {reopened} bước sẽ được nhắc lại.",
        config.names().agency(&agency),
        intake::core::words::when(until, config.timezone),
        campaign.dispatch
    );
    Ok(ExitCode::SUCCESS)
}
