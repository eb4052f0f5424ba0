//! # `intake revalidate`: stored workbooks checked again
//!
//! After a campaign's forms change, every workbook already filed for it is checked against
//! the new forms; each changed outcome is logged.

use std::process::ExitCode;

use anyhow::Result;

use intake::clock::Clock;
use intake::config::Config;
use intake::store::Store;

use super::common::inspector;
use super::forms;

/// `intake revalidate [--campaign C] [--by B]`.
pub fn revalidate(
    config: &Config,
    clock: &Clock,
    campaign: Option<&str>,
    by: Option<String>,
) -> Result<ExitCode> {
    let campaign = forms::pick_campaign(config, campaign)?;
    let actor = super::common::actor(by);
    let store = Store::open_with(&config.store_dir, &config.store)?;
    let r = intake::revalidate::revalidate(
        config,
        &store,
        &inspector(config)?,
        &campaign.id,
        &actor,
        clock.now(),
    )?;
    println!(
        "Đã kiểm tra lại {} biểu: {} thay đổi kết quả, {} lần nộp đổi tình trạng (xem: intake log).",
        r.checked, r.changed, r.versions_changed
    );
    Ok(ExitCode::SUCCESS)
}
