//! # What the command line accepts
//!
//! The clap definition of `intake`: every subcommand, flag and help text. The man page and the
//! shell completions are generated from it (`cmd/docs.rs`); what each command does is in `cmd/`.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use clap::{Parser, Subcommand};

use crate::logging;

/// Takes in the reports agencies e-mail to the planning department: files every version,
/// logs every outcome, sends receipts.
#[derive(Parser)]
#[command(name = "intake", version)]
pub struct Cli {
    /// Configuration file (default: the embedded example, with data under ./var).
    #[arg(long, global = true, env = "INTAKE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Run as of this time (RFC 3339), e.g. 2018-07-09T16:00:00+07:00.
    #[arg(long, global = true, value_parser = parse_time)]
    pub now: Option<DateTime<FixedOffset>>,
    /// How logs are written to stderr (default: journal under systemd, else text).
    #[arg(long, global = true, value_enum, env = "INTAKE_LOG_FORMAT")]
    pub log_format: Option<logging::LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Delivers the fixture mail into the local Maildir, runs one pass, prints the status,
    /// then goes on as the daemon with the staff board (from a terminal; scripts and tests,
    /// whose output is not a terminal, get the pass alone).
    Demo {
        /// Folder of .eml fixtures (default: ./mailbox-fixtures).
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// Stop after the pass, even from a terminal.
        #[arg(long, conflicts_with = "serve")]
        once: bool,
        /// Go on as the daemon with the board, even when the output is not a terminal.
        #[arg(long)]
        serve: bool,
    },
    /// Watches the mailbox and the drop folder and takes in what arrives.
    Run {
        /// One pass, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Prints each campaign's matrix of agencies × deliverables and its figures.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Prints the intake log, newest first.
    Log {
        /// Only this agency.
        #[arg(long)]
        agency: Option<String>,
        /// Only events since this time (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        since: Option<DateTime<FixedOffset>>,
        /// At most this many events.
        #[arg(long, default_value_t = 200)]
        limit: u32,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Attributes a quarantined or probable message to an agency (audit-logged).
    Assign {
        /// The message: its receipt number (BN-000012) or row number (12).
        message: String,
        /// The agency: its code or its name (`Sở Y tế`).
        agency: String,
        /// Who is acting (default: the login name).
        #[arg(long)]
        by: Option<String>,
        /// Why (required for a message held for a failed sender check).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Releases a message held because its sender failed authentication (`sender-unverified`)
    /// and files it as the agency's it claimed to be from, with the reason in the log.
    Release {
        /// The message: its receipt number (BN-000012) or row number (12).
        message: String,
        /// Why staff trust it (e.g. "đã gọi điện xác nhận với Sở Tài chính").
        #[arg(long)]
        reason: String,
        /// Who is acting (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Checks a workbook against the campaign's forms without filing it. Exit code 0 when
    /// valid, 1 when there are errors, 2 when it cannot be read or recognised.
    Validate {
        /// The workbook (xlsx, xlsm, xls, ods).
        file: PathBuf,
        /// The agency it is from (its code), for the rows it must fill.
        #[arg(long)]
        agency: Option<String>,
        /// The campaign (default: the only one configured).
        #[arg(long)]
        campaign: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Also write the annotated copy (findings marked) to this xlsx file.
        #[arg(long)]
        annotated: Option<PathBuf>,
    },
    /// Blank forms of a campaign.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Writes the status table or the consolidated data of a campaign to an xlsx file.
    Export {
        /// `status` or `consolidated`.
        what: ExportWhat,
        /// The campaign (default: the only one configured).
        #[arg(long)]
        campaign: Option<String>,
        /// The xlsx file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Checks the stored workbooks of a campaign again after its forms changed; logs every
    /// changed outcome.
    Revalidate {
        /// The campaign (default: the only one configured).
        #[arg(long)]
        campaign: Option<String>,
        /// Who is acting (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Excuses an agency from a deliverable of a campaign (audit-logged).
    Exempt {
        /// The agency's code.
        #[arg(long)]
        agency: String,
        /// The deliverable's id (e.g. pl2).
        #[arg(long)]
        deliverable: String,
        /// The campaign (default: the only one configured).
        #[arg(long)]
        campaign: Option<String>,
        /// Why, for the log.
        #[arg(long)]
        reason: Option<String>,
        /// Who is acting (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Gives an agency a later deadline for a campaign (audit-logged); replaces an earlier one.
    Extend {
        /// The agency's code.
        #[arg(long)]
        agency: String,
        /// The new deadline (RFC 3339), e.g. 2018-07-15T00:00:00+07:00.
        #[arg(long, value_parser = parse_time)]
        until: DateTime<FixedOffset>,
        /// The campaign (default: the only one configured).
        #[arg(long)]
        campaign: Option<String>,
        /// Why, for the log.
        #[arg(long)]
        reason: Option<String>,
        /// Who is acting (default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Checks that intake can work: mailbox login, capabilities and folders, the store, the
    /// drop folder and the outbox. Exit 0 when every check passes.
    Doctor,
    /// Copies the store into a new folder while the daemon runs: the index at one instant
    /// (SQLite's online backup), every file it refers to (checked by SHA-256), a manifest.
    Backup {
        /// The new (or empty) folder to write the backup into.
        dir: PathBuf,
    },
    /// Checks the store: the index, every file's SHA-256, the filed tree, the outbox, files
    /// an interrupted run left. Exit 0 when nothing is wrong, 1 otherwise.
    Verify {
        /// Rebuild the filed tree and remove temporary files no writer can still own.
        #[arg(long)]
        repair: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Work on the store itself.
    Store {
        #[command(subcommand)]
        what: StoreCommand,
    },
    /// Restores a backup into the configured store folder, after checking it; refuses while
    /// intake runs on the store. The schema is upgraded if the backup is older.
    Restore {
        /// The backup folder (made by `intake backup`).
        backup: PathBuf,
        /// Set a store already there aside (`<store>.replaced-<time>`) instead of refusing.
        #[arg(long)]
        force: bool,
    },
    /// Shows the reminder schedule of every agency that still owes something, and queues and
    /// sends the reminders and digest due now. The daemon does this by itself; while it runs,
    /// only `--dry-run` works here (the store is the daemon's).
    Remind {
        /// Only show what would be sent now and when the rest is due; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only this agency.
        #[arg(long)]
        agency: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Makes the accounts-file line of a staff member of the board: asks for the password
    /// twice without echo (or reads one line from standard input when it is not a terminal)
    /// and prints `name:argon2-hash` to add to the `[board] accounts` file.
    BoardAccount {
        /// The login name.
        name: String,
    },
    /// Mail that did not go: list it, or queue it again once the cause is fixed.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Checks the configuration and prints what it sets up; renders every mail template
    /// against sample data.
    CheckConfig,
    /// Writes an annotated configuration to start from (intake.toml, the example campaign,
    /// roster, forms and mail templates) into DIR; never overwrites a file.
    Init {
        /// The folder to write into (e.g. /etc/intake).
        dir: PathBuf,
        /// Where the store, Maildir, drop folder and outbox go.
        #[arg(long, default_value = crate::cmd::init::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Prints the shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Prints the man page (roff) to stdout.
    #[command(hide = true)]
    Manpage,
    /// Reads a workbook from stdin within limits and prints what it holds (internal).
    #[command(hide = true)]
    InspectWorkbook {
        #[arg(long)]
        format: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ExportWhat {
    /// Agencies × deliverables: state, version, time.
    Status,
    /// Per form, the province sheets in the form's own layout (districts' totals with their
    /// coverage, the one department's figure, or left for staff), then each column's values
    /// of every agency; ready to print.
    Consolidated,
}

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Moves the store up to where the configuration says: the embedded index into the
    /// PostgreSQL database named in [store] (every row copied in one transaction and counted
    /// on both sides), the objects from local disk into the bucket named in [store.objects]
    /// (each read back and its SHA-256 checked). Refuses while intake runs on the store; a run
    /// cut short can be run again. The SQLite file and the copies on disk are left in place.
    Migrate {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Lists mail refused, given up or still being retried, with the server's answer.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Queues mail that was refused or given up again (after the address, password or
    /// server was fixed): one row, or all of them.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "all"])))]
    Retry {
        /// The outbox row (as `intake outbox list` shows it).
        id: Option<i64>,
        /// Every refused or given-up mail.
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

#[derive(Subcommand)]
pub enum TemplateCommand {
    /// Writes each form of the campaign as an xlsx, as agencies receive it.
    Export {
        /// The campaign (default: the only one configured).
        #[arg(long)]
        campaign: Option<String>,
        /// Mark the rows this agency must fill and put its name on the form.
        #[arg(long)]
        agency: Option<String>,
        /// Folder to write into.
        #[arg(long)]
        out: PathBuf,
    },
}

fn parse_time(s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{e}; write e.g. 2018-07-09T16:00:00+07:00"))
}
