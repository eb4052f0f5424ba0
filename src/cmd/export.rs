//! # `intake export`: a campaign to an xlsx file
//!
//! The status table (agencies × deliverables) or the consolidated data, in the forms' own
//! layout and ready to print, for staff who work in a spreadsheet.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use intake::clock::Clock;
use intake::config::Config;
use intake::store::{Store, query};

use super::forms;
use crate::cli::ExportWhat;

/// `intake export status|consolidated [--campaign C] --out FILE`.
pub fn export(
    config: &Config,
    clock: &Clock,
    what: ExportWhat,
    campaign: Option<&str>,
    out: &Path,
) -> Result<ExitCode> {
    let campaign = forms::pick_campaign(config, campaign)?;
    let store = Store::open_read_with(&config.store_dir, &config.store)?;
    let bytes = match what {
        ExportWhat::Status => {
            let mut status = query::status(&store, config, clock.now())?;
            status.campaigns.retain(|c| c.id == campaign.id);
            intake::export::status_xlsx(&status, config.timezone)?
        }
        ExportWhat::Consolidated => intake::export::consolidated_xlsx(
            campaign,
            &intake::export::consolidated(&store, &campaign.id)?,
            &intake::export::About {
                department: config.department.name.clone(),
                as_of: clock.now().with_timezone(&config.timezone).naive_local(),
            },
        )?,
    };
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!("Đã ghi {}", out.display());
    Ok(ExitCode::SUCCESS)
}
