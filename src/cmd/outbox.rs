//! # `intake outbox list` and `intake outbox retry`: mail that did not go
//!
//! Lists what the mail server refused, what was given up and what is still being retried,
//! with the server's answer; queues refused or given-up mail again once the cause is fixed.

use std::process::ExitCode;

use anyhow::Result;

use intake::clock::Clock;
use intake::config::Config;
use intake::store::Store;

use super::common::{open_for_staff, send_now, sent_words};

/// `intake outbox list [--json]`.
pub fn list(config: &Config, json: bool) -> Result<ExitCode> {
    let store = Store::open_read_with(&config.store_dir, &config.store)?;
    let rows = store.undelivered(None)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!("Không có thư nào chưa gửi được.");
    } else {
        for u in &rows {
            println!(
                "{:>6}  {}  → {}  ({} lần thử{})\n        {}",
                u.id,
                u.subject,
                u.to,
                u.attempts,
                if u.failed_at.is_some() {
                    ", KHÔNG GỬI ĐƯỢC"
                } else {
                    ", đang thử lại"
                },
                u.error.as_deref().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `intake outbox retry ID | --all`: one row, or every refused or given-up mail (`None`).
pub fn retry(config: &Config, clock: &Clock, id: Option<i64>) -> Result<ExitCode> {
    let (store, beside) = open_for_staff(config)?;
    let n = store.requeue(id)?;
    let sent = if beside {
        None
    } else {
        Some(send_now(config, &store, clock)?)
    };
    println!("Đã xếp lại {n} thư vào hộp thư đi; {}.", sent_words(sent));
    Ok(ExitCode::SUCCESS)
}
