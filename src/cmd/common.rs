//! # What several commands share
//!
//! Reading the configuration, the workbook inspector, the store for a staff action, sending
//! what an action queued, and the small parsing and wording of message numbers and actors.

use std::path::Path;

use anyhow::{Context, Result};

use intake::clock::Clock;
use intake::config::Config;
use intake::store::Store;
use intake::workbook::{self, Inspector};

use crate::usage;

/// The configuration file given, else the embedded example with its data under the
/// current folder.
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::embedded(&std::env::current_dir()?)?,
    })
}

/// The workbook inspector with the configured limits; this binary reads xls and ods for it
/// in a child process.
pub fn inspector(config: &Config) -> Result<Inspector> {
    let limits = workbook::Limits {
        max_cells: config.limits.max_workbook_cells,
        max_bytes: config.limits.max_file_bytes,
        ..Default::default()
    };
    Ok(Inspector::new(
        limits,
        Some(std::env::current_exe().context("cannot find the intake binary")?),
    ))
}

/// One round of sending with the configured transport; the mails sent.
pub fn send_now(config: &Config, store: &Store, clock: &Clock) -> Result<usize> {
    let transport = intake::outbox::transport(config).map_err(|e| transport_error(config, e))?;
    let r = intake::outbox::Outbox::new(transport).drain(config, store, clock, &|| false)?;
    if let Some(why) = &r.server_down {
        eprintln!(
            "intake: the mail server cannot be used now ({why}); the mail waits in the outbox"
        );
    }
    Ok(r.sent)
}

/// A transport that cannot be set up is a configuration problem (exit code 2).
pub fn transport_error(config: &Config, e: intake::outbox::TransportError) -> anyhow::Error {
    intake::config::ConfigError {
        file: config.origin.display().to_string(),
        key: "outbox.smtp".into(),
        problem: e.to_string(),
        fix: "check [outbox.smtp]: the password's environment variable or file, and ca_file".into(),
    }
    .into()
}

/// The store for a staff action. With no daemon running, the writer's own. Beside a running
/// daemon, a connection of its own, as the board's staff actions use: SQLite orders its writes
/// with the daemon's, and the daemon's mail sender sends what the action queued (true).
pub fn open_for_staff(config: &Config) -> Result<(Store, bool)> {
    match Store::open_with(&config.store_dir, &config.store) {
        Ok(store) => Ok((store, false)),
        Err(intake::store::StoreError::Locked(_)) => Ok((
            Store::open_read_with(&config.store_dir, &config.store)?,
            true,
        )),
        Err(e) => Err(e.into()),
    }
}

/// What became of the mail a staff action queued: sent now, or left to the running service.
pub fn sent_words(sent: Option<usize>) -> String {
    match sent {
        Some(n) => format!("đã gửi {n} thư"),
        None => "thư sẽ do dịch vụ intake đang chạy gửi đi (trong vòng một phút)".into(),
    }
}

/// A message's row from its receipt number (`BN-000012`) or the number itself.
pub fn message_number(message: &str) -> Result<i64> {
    message
        .trim_start_matches("BN-")
        .trim_start_matches('0')
        .parse()
        .map_err(|_| {
            usage::Usage(format!(
                "\"{message}\" is not a message number such as BN-000012"
            ))
            .into()
        })
}

/// Who is acting: `--by`, else the login name.
pub fn actor(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "staff".into())
}
