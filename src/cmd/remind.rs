//! # `intake remind`: the reminder schedule, and the reminders due now
//!
//! Shows when each agency that still owes something is reminded, and (unless `--dry-run`)
//! queues and sends the reminders and digest due now, as the daemon does by itself.

use std::process::ExitCode;

use anyhow::Result;

use intake::clock::Clock;
use intake::config::Config;
use intake::report::prose;
use intake::store::Store;

use super::common::send_now;
use crate::usage;

/// `intake remind [--dry-run] [--agency A] [--json]`.
pub fn remind(
    config: &Config,
    clock: &Clock,
    dry_run: bool,
    agency: Option<String>,
    json: bool,
) -> Result<ExitCode> {
    let agency = agency
        .map(|a| usage::agency(config, &a).map(|a| a.code.clone()))
        .transpose()?;
    schedule(config, clock, dry_run, agency.as_deref(), json)
}

fn schedule(
    config: &Config,
    clock: &Clock,
    dry_run: bool,
    agency: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let now = clock.now();
    let store = if dry_run {
        Store::open_read_with(&config.store_dir, &config.store)?
    } else {
        Store::open_with(&config.store_dir, &config.store)?
    };
    let mut planned = intake::notices::plan(config, &store, now)?;
    planned.retain(|p| agency.is_none_or(|a| p.agency == a));
    let (queued, sent) = if dry_run {
        (None, 0)
    } else {
        let r = intake::notices::run(config, &store, now)?;
        (Some(r), send_now(config, &store, clock)?)
    };
    if json {
        let rows: Vec<serde_json::Value> = planned
            .iter()
            .map(|p| {
                serde_json::json!({
                    "campaign": p.campaign, "agency": p.agency, "step": p.step.days,
                    "due_at": p.step.due_at.to_rfc3339(), "action": p.action,
                    "reason": p.reason, "owes": p.owes, "to": p.to,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "now": now.to_rfc3339(),
                "dry_run": dry_run,
                "steps": rows,
                "queued": queued.as_ref().map(|r| r.reminders),
                "sent": sent,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", intake::report::reminder_table(&planned, config, now));
    let history: Vec<_> = store
        .reminder_log()?
        .into_iter()
        .filter(|h| agency.is_none_or(|a| h.agency == a))
        .collect();
    if agency.is_some() && !history.is_empty() {
        print!("{}", intake::report::reminder_history(&history, config));
    } else if !history.is_empty() {
        let sent = history.iter().filter(|h| h.outcome == "queued").count();
        print!(
            "{}",
            prose(&format!(
                "Đến nay: {sent} thư nhắc đã xếp gửi, {} bước đã bỏ qua (chi tiết từng đơn vị: intake remind --dry-run --agency MÃ).",
                history.len() - sent
            ))
        );
    }
    match queued {
        None => print!(
            "{}",
            prose("Chạy thử: chưa gửi gì. Bỏ --dry-run để gửi các thư nhắc đến hạn.")
        ),
        Some(r) => print!(
            "{}",
            prose(&format!(
                "Đã xếp {} thư nhắc, bỏ qua {} bước đã lỡ, huỷ {} thư nhắc không còn cần{}; đã gửi {sent} thư.",
                r.reminders,
                r.skipped,
                r.cancelled,
                if r.digest {
                    ", xếp thư tổng hợp cho cán bộ"
                } else {
                    ""
                }
            ))
        ),
    }
    Ok(ExitCode::SUCCESS)
}
