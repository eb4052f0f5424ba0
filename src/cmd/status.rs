//! # `intake status`: where each campaign stands
//!
//! Each campaign's matrix of agencies × deliverables and its figures, read from the store
//! (beside a running daemon too), as a Vietnamese table or `--json`.

use std::process::ExitCode;

use anyhow::Result;

use intake::clock::Clock;
use intake::config::Config;
use intake::store::{Store, query};

/// `intake status [--json]`.
pub fn status(config: &Config, clock: &Clock, json: bool) -> Result<ExitCode> {
    let store = Store::open_read_with(&config.store_dir, &config.store)?;
    let status = query::status(&store, config, clock.now())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!(
            "{}",
            intake::report::status_table(&status, config, clock.now())
        );
    }
    Ok(ExitCode::SUCCESS)
}
