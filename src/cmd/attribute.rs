//! # `intake assign` and `intake release`: staff say whose a message is
//!
//! A message left waiting (quarantined, or only probably an agency's) or held for a failed
//! sender check is filed as an agency's on staff's word, audit-logged; its receipt is sent.

use std::process::ExitCode;

use anyhow::{Result, bail};

use intake::clock::Clock;
use intake::config::Config;
use intake::store::{Store, query};

use super::common::{actor, inspector, message_number, open_for_staff, send_now, sent_words};
use crate::usage;

/// `intake release MESSAGE --reason R [--by B]`: a held message, filed as the agency's it
/// claimed to be from.
pub fn release(
    config: &Config,
    clock: &Clock,
    message: &str,
    reason: &str,
    by: Option<String>,
) -> Result<ExitCode> {
    let id = message_number(message)?;
    let actor = actor(by);
    let (store, beside) = open_for_staff(config)?;
    let Some(agency) = query::held_claim(&store, id)? else {
        bail!(
            "message {} is not held for a failed sender check; see intake log",
            intake::store::receipt_number(id)
        );
    };
    let (new_id, outcome, sent) = attribute(
        config,
        &store,
        clock,
        id,
        &agency,
        &actor,
        Some(reason),
        beside,
    )?;
    println!(
        "Đã cho phép ghi nhận thư {} là của {}: {} (bản ghi mới {}), {}.",
        intake::store::receipt_number(id),
        config.names().agency(&agency),
        intake::core::words::event(outcome.as_str()),
        intake::store::receipt_number(new_id),
        sent_words(sent)
    );
    Ok(ExitCode::SUCCESS)
}

/// `intake assign MESSAGE AGENCY [--by B] [--reason R]`.
pub fn assign(
    config: &Config,
    clock: &Clock,
    message: &str,
    agency: &str,
    by: Option<String>,
    reason: Option<&str>,
) -> Result<ExitCode> {
    let id = message_number(message)?;
    let actor = actor(by);
    let (store, beside) = open_for_staff(config)?;
    let (new_id, outcome, sent) =
        attribute(config, &store, clock, id, agency, &actor, reason, beside)?;
    println!(
        "Đã gán thư {} cho {}: {} (bản ghi mới {}), {}.",
        intake::store::receipt_number(id),
        config.names().agency(agency),
        intake::core::words::event(outcome.as_str()),
        intake::store::receipt_number(new_id),
        sent_words(sent)
    );
    Ok(ExitCode::SUCCESS)
}

/// Files a waiting or held message as an agency's on staff's word, then sends what that
/// queued unless a running daemon will: (the new row, its outcome, mails sent or None).
#[allow(clippy::too_many_arguments)] // the action's context, passed down unchanged
fn attribute(
    config: &Config,
    store: &Store,
    clock: &Clock,
    id: i64,
    agency: &str,
    actor: &str,
    reason: Option<&str>,
    beside_daemon: bool,
) -> Result<(i64, intake::core::pipeline::Outcome, Option<usize>)> {
    // Staff read agencies by name (the digest, the board): a name does as well as the code.
    let agency = usage::agency(config, agency)?.code.as_str();
    let (new_id, outcome) = intake::ingest::assign(
        config,
        store,
        &inspector(config)?,
        clock,
        id,
        agency,
        actor,
        reason,
    )?;
    let sent = if beside_daemon {
        None
    } else {
        Some(send_now(config, store, clock)?)
    };
    Ok((new_id, outcome, sent))
}
