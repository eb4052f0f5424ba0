//! # The commands, one module each
//!
//! What each subcommand of `intake` does, apart from how the command line is parsed
//! (`cli.rs`): `run` here reads the configuration and hands each command to its module.

mod attribute;
mod backup;
mod board_account;
mod check;
mod common;
mod demo;
mod docs;
mod doctor;
mod exempt;
mod export;
mod extend;
mod forms;
pub mod init;
pub mod inspect;
mod log;
mod outbox;
mod remind;
mod revalidate;
mod run;
mod status;
mod store;

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use intake::clock::Clock;

use crate::cli::{Cli, Command, OutboxCommand, StoreCommand, TemplateCommand};
use common::{inspector, load_config};

/// Runs the command given; its exit code, or the error `main` words and maps to one.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let clock = cli.now.map_or_else(Clock::system, Clock::starting_at);
    let built_in = cli.config.is_none();
    match &cli.command {
        Command::Init { dir, data_dir } => return init::init(dir, data_dir),
        Command::Completions { shell } => return docs::completions(*shell, Cli::command()),
        Command::Manpage => return docs::manpage(Cli::command()),
        _ => {}
    }
    let config = load_config(cli.config.as_deref())?;
    match cli.command {
        Command::Demo {
            fixtures,
            once,
            serve,
        } => demo::demo(config, cli.now, fixtures, once, serve),
        Command::Run { once } => run::run_daemon(config, clock, once, cli.config.clone()),
        Command::Status { json } => status::status(&config, &clock, json),
        Command::Log {
            agency,
            since,
            limit,
            json,
        } => log::log(&config, agency, since, limit, json),
        Command::Release {
            message,
            reason,
            by,
        } => attribute::release(&config, &clock, &message, &reason, by),
        Command::Assign {
            message,
            agency,
            by,
            reason,
        } => attribute::assign(&config, &clock, &message, &agency, by, reason.as_deref()),
        Command::Validate {
            file,
            agency,
            campaign,
            json,
            annotated,
        } => forms::validate(
            &config,
            &inspector(&config)?,
            &file,
            agency.as_deref(),
            campaign.as_deref(),
            json,
            annotated.as_deref(),
        ),
        Command::Template(TemplateCommand::Export {
            campaign,
            agency,
            out,
        }) => forms::export_templates(&config, campaign.as_deref(), agency.as_deref(), &out),
        Command::Export {
            what,
            campaign,
            out,
        } => export::export(&config, &clock, what, campaign.as_deref(), &out),
        Command::Revalidate { campaign, by } => {
            revalidate::revalidate(&config, &clock, campaign.as_deref(), by)
        }
        Command::Doctor => doctor::doctor(&config),
        Command::Backup { dir } => backup::backup(&config, &dir),
        Command::Verify { repair, json } => backup::verify(&config, repair, json),
        Command::Restore { backup, force } => backup::restore(&config, &backup, force),
        Command::Store {
            what: StoreCommand::Migrate { json },
        } => store::migrate(&config, json),
        Command::Exempt {
            agency,
            deliverable,
            campaign,
            reason,
            by,
        } => exempt::exempt(
            &config,
            &clock,
            &agency,
            &deliverable,
            campaign.as_deref(),
            reason.as_deref(),
            by,
        ),
        Command::Extend {
            agency,
            until,
            campaign,
            reason,
            by,
        } => extend::extend(
            &config,
            &clock,
            &agency,
            until,
            campaign.as_deref(),
            reason.as_deref(),
            by,
        ),
        Command::BoardAccount { name } => board_account::board_account(&name),
        Command::Outbox(OutboxCommand::List { json }) => outbox::list(&config, json),
        Command::Outbox(OutboxCommand::Retry { id, all: _ }) => outbox::retry(&config, &clock, id),
        Command::Remind {
            dry_run,
            agency,
            json,
        } => remind::remind(&config, &clock, dry_run, agency, json),
        Command::CheckConfig => check::check_config(&config, built_in),
        Command::InspectWorkbook { .. } => unreachable!("handled before logging starts"),
        Command::Init { .. } | Command::Completions { .. } | Command::Manpage => {
            unreachable!("handled before the configuration is read")
        }
    }
}
