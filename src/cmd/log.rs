//! # `intake log`: the intake log, newest first
//!
//! Every outcome and staff action the store recorded, for one agency or all, since a time;
//! as a Vietnamese table or `--json`.

use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, FixedOffset};

use intake::config::Config;
use intake::store::{Store, query};

use crate::usage;

/// `intake log [--agency A] [--since T] [--limit N] [--json]`.
pub fn log(
    config: &Config,
    agency: Option<String>,
    since: Option<DateTime<FixedOffset>>,
    limit: u32,
    json: bool,
) -> Result<ExitCode> {
    let agency = agency
        .map(|a| usage::agency(config, &a).map(|a| a.code.clone()))
        .transpose()?;
    let store = Store::open_read_with(&config.store_dir, &config.store)?;
    let events = query::events(
        &store,
        &query::LogFilter {
            agency,
            since,
            limit: Some(limit),
        },
    )?;
    if json {
        println!("{}", serde_json::to_string_pretty(&events)?);
    } else {
        println!("{}", intake::report::log_table(&events, config));
    }
    Ok(ExitCode::SUCCESS)
}
