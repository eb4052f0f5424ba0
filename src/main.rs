//! # intake — the command line
//!
//! `intake run` is the daemon; `intake demo` runs it once on the embedded default with the
//! fixture mail; `status`, `log` and `assign` are for staff; `check-config` checks a
//! configuration. Data goes to stdout (Vietnamese tables, or `--json`), logs to stderr.
//! Exit codes: 0 done, 1 the machine failed (disk, database), 2 bad configuration or usage.

mod cmd;
mod logging;
mod usage;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, FixedOffset};
use clap::{CommandFactory, Parser, Subcommand};

use intake::clock::Clock;
use intake::config::Config;
use intake::daemon::{self, Signal, Worker};
use intake::report::prose;
use intake::source::maildir::Maildir;
use intake::store::{Store, query};
use intake::workbook::{self, Inspector, WorkbookFormat};

/// Takes in the reports agencies e-mail to the planning department: files every version,
/// logs every outcome, sends receipts.
#[derive(Parser)]
#[command(name = "intake", version)]
struct Cli {
    /// Configuration file (default: the embedded example, with data under ./var).
    #[arg(long, global = true, env = "INTAKE_CONFIG")]
    config: Option<PathBuf>,
    /// Run as of this time (RFC 3339), e.g. 2018-07-09T16:00:00+07:00.
    #[arg(long, global = true, value_parser = parse_time)]
    now: Option<DateTime<FixedOffset>>,
    /// How logs are written to stderr (default: journal under systemd, else text).
    #[arg(long, global = true, value_enum, env = "INTAKE_LOG_FORMAT")]
    log_format: Option<logging::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        #[arg(long, default_value = cmd::init::DEFAULT_DATA_DIR)]
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
enum ExportWhat {
    /// Agencies × deliverables: state, version, time.
    Status,
    /// Per form, the province sheets in the form's own layout (districts' totals with their
    /// coverage, the one department's figure, or left for staff), then each column's values
    /// of every agency; ready to print.
    Consolidated,
}

#[derive(Subcommand)]
enum OutboxCommand {
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
enum TemplateCommand {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::InspectWorkbook { format } = &cli.command {
        let Some(format) = parse_format(format) else {
            return ExitCode::from(2);
        };
        return ExitCode::from(workbook::child_main(format, workbook::Limits::default()) as u8);
    }
    let verbose = matches!(cli.command, Command::Run { .. });
    // Commands that only print end quietly when their reader goes away (`intake log | head`):
    // the default SIGPIPE ends them as it ends any Unix filter. The daemon keeps ignoring it,
    // so that a peer closing a socket is an error to handle, not the end of the service.
    if matches!(
        cli.command,
        Command::Log { .. }
            | Command::Status { .. }
            | Command::CheckConfig
            | Command::Validate { .. }
    ) {
        // SAFETY: called before any thread starts; restores the default disposition.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    logging::init(cli.log_format, if verbose { "info" } else { "warn" });
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("intake: {e:#}");
            if e.downcast_ref::<intake::config::ConfigError>().is_some()
                || e.downcast_ref::<usage::Usage>().is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn parse_format(s: &str) -> Option<WorkbookFormat> {
    Some(match s {
        "xlsx" => WorkbookFormat::Xlsx,
        "xlsm" => WorkbookFormat::Xlsm,
        "xls" => WorkbookFormat::Xls,
        "ods" => WorkbookFormat::Ods,
        _ => return None,
    })
}

fn load_config(path: Option<&Path>) -> Result<Config> {
    Ok(match path {
        Some(p) => Config::load(p)?,
        None => Config::embedded(&std::env::current_dir()?)?,
    })
}

fn inspector(config: &Config) -> Result<Inspector> {
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

fn run(cli: Cli) -> Result<ExitCode> {
    let clock = cli.now.map_or_else(Clock::system, Clock::starting_at);
    let built_in = cli.config.is_none();
    match &cli.command {
        Command::Init { dir, data_dir } => return cmd::init::init(dir, data_dir),
        Command::Completions { shell } => return cmd::docs::completions(*shell, Cli::command()),
        Command::Manpage => return cmd::docs::manpage(Cli::command()),
        _ => {}
    }
    let config = load_config(cli.config.as_deref())?;
    match cli.command {
        Command::Demo {
            fixtures,
            once,
            serve,
        } => {
            use std::io::IsTerminal;
            let serve = serve || (!once && std::io::stdout().is_terminal());
            demo(config, cli.now, fixtures, serve)
        }
        Command::Run { once } => run_daemon(config, clock, once, cli.config.clone()),
        Command::Status { json } => {
            let store = Store::open_read(&config.store_dir)?;
            let status = query::status(&store, &config, clock.now())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print!(
                    "{}",
                    intake::report::status_table(&status, &config, clock.now())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Log {
            agency,
            since,
            limit,
            json,
        } => {
            let agency = agency
                .map(|a| usage::agency(&config, &a).map(|a| a.code.clone()))
                .transpose()?;
            let store = Store::open_read(&config.store_dir)?;
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
                println!("{}", intake::report::log_table(&events, &config));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Release {
            message,
            reason,
            by,
        } => {
            let id = message_number(&message)?;
            let actor = actor(by);
            let (store, beside) = open_for_staff(&config)?;
            let Some(agency) = query::held_claim(&store, id)? else {
                bail!(
                    "message {} is not held for a failed sender check; see intake log",
                    intake::store::receipt_number(id)
                );
            };
            let (new_id, outcome, sent) = attribute(
                &config,
                &store,
                &clock,
                id,
                &agency,
                &actor,
                Some(&reason),
                beside,
            )?;
            println!(
                "Đã cho phép ghi nhận thư {} là của {}: {} (bản ghi mới {}), {}.",
                intake::store::receipt_number(id),
                intake::words::Names::of(&config).agency(&agency),
                intake::words::event(outcome.as_str()),
                intake::store::receipt_number(new_id),
                sent_words(sent)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Assign {
            message,
            agency,
            by,
            reason,
        } => {
            let id = message_number(&message)?;
            let actor = actor(by);
            let (store, beside) = open_for_staff(&config)?;
            let (new_id, outcome, sent) = attribute(
                &config,
                &store,
                &clock,
                id,
                &agency,
                &actor,
                reason.as_deref(),
                beside,
            )?;
            println!(
                "Đã gán thư {} cho {}: {} (bản ghi mới {}), {}.",
                intake::store::receipt_number(id),
                intake::words::Names::of(&config).agency(&agency),
                intake::words::event(outcome.as_str()),
                intake::store::receipt_number(new_id),
                sent_words(sent)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate {
            file,
            agency,
            campaign,
            json,
            annotated,
        } => cmd::forms::validate(
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
        }) => cmd::forms::export_templates(&config, campaign.as_deref(), agency.as_deref(), &out),
        Command::Export {
            what,
            campaign,
            out,
        } => {
            let campaign = cmd::forms::pick_campaign(&config, campaign.as_deref())?;
            let store = Store::open_read(&config.store_dir)?;
            let bytes = match what {
                ExportWhat::Status => {
                    let mut status = query::status(&store, &config, clock.now())?;
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
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("Đã ghi {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Revalidate { campaign, by } => {
            let campaign = cmd::forms::pick_campaign(&config, campaign.as_deref())?;
            let actor = by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "staff".into());
            let store = Store::open(&config.store_dir)?;
            let r = intake::revalidate::revalidate(
                &config,
                &store,
                &inspector(&config)?,
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
        Command::Doctor => cmd::doctor::doctor(&config),
        Command::Backup { dir } => cmd::backup::backup(&config, &dir),
        Command::Verify { repair, json } => cmd::backup::verify(&config, repair, json),
        Command::Restore { backup, force } => cmd::backup::restore(&config, &backup, force),
        Command::Exempt {
            agency,
            deliverable,
            campaign,
            reason,
            by,
        } => {
            let campaign = cmd::forms::pick_campaign(&config, campaign.as_deref())?;
            let agency = usage::campaign_agency(campaign, &config, &agency)?
                .code
                .clone();
            let d = usage::deliverable(campaign, &deliverable)?;
            let actor = by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "staff".into());
            let (store, _) = open_for_staff(&config)?;
            store.exempt(
                &campaign.id,
                &agency,
                &d.id,
                &actor,
                reason.as_deref(),
                clock.now(),
            )?;
            println!(
                "Đã miễn nộp {} cho {} (Công văn {}).",
                d.label,
                intake::words::Names::of(&config).agency(&agency),
                campaign.dispatch
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Extend {
            agency,
            until,
            campaign,
            reason,
            by,
        } => {
            let campaign = cmd::forms::pick_campaign(&config, campaign.as_deref())?;
            let agency = usage::campaign_agency(campaign, &config, &agency)?
                .code
                .clone();
            let actor = by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "staff".into());
            let (store, _) = open_for_staff(&config)?;
            store.extend(
                &campaign.id,
                &agency,
                until,
                &actor,
                reason.as_deref(),
                clock.now(),
            )?;
            let reopened = intake::notices::reopen_after_extension(
                &config,
                &store,
                campaign,
                &agency,
                until,
                clock.now(),
            )?;
            println!(
                "Đã gia hạn cho {} đến {} (Công văn {}); lịch nhắc theo hạn mới: {reopened} bước sẽ được nhắc lại.",
                intake::words::Names::of(&config).agency(&agency),
                intake::words::when(until, config.timezone),
                campaign.dispatch
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::BoardAccount { name } => {
            let password = read_new_password()?;
            if password.chars().count() < 8 {
                return Err(
                    usage::Usage("the password must have at least 8 characters".into()).into(),
                );
            }
            println!("{}", intake::board::auth::account_line(&name, &password));
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox(OutboxCommand::List { json }) => {
            let store = Store::open_read(&config.store_dir)?;
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
        Command::Outbox(OutboxCommand::Retry { id, all: _ }) => {
            let (store, beside) = open_for_staff(&config)?;
            let n = store.requeue(id)?;
            let sent = if beside {
                None
            } else {
                Some(send_now(&config, &store, &clock)?)
            };
            println!("Đã xếp lại {n} thư vào hộp thư đi; {}.", sent_words(sent));
            Ok(ExitCode::SUCCESS)
        }
        Command::Remind {
            dry_run,
            agency,
            json,
        } => {
            let agency = agency
                .map(|a| usage::agency(&config, &a).map(|a| a.code.clone()))
                .transpose()?;
            remind(&config, &clock, dry_run, agency.as_deref(), json)
        }
        Command::CheckConfig => cmd::check::check_config(&config, built_in),
        Command::InspectWorkbook { .. } => unreachable!("handled before logging starts"),
        Command::Init { .. } | Command::Completions { .. } | Command::Manpage => {
            unreachable!("handled before the configuration is read")
        }
    }
}

/// What a pass took in, in words: "Đã xử lý 35 thư/tệp — đã lưu: 23; …".
fn pass_summary(report: &intake::ingest::PassReport) -> String {
    let outcomes: Vec<String> = report
        .outcomes
        .iter()
        .map(|(k, n)| {
            format!(
                "{}: {}",
                intake::words::event(k),
                intake::words::integer(*n as i64)
            )
        })
        .collect();
    let taken = intake::words::integer(report.taken() as i64);
    if outcomes.is_empty() {
        format!("Đã xử lý {taken} thư/tệp.")
    } else {
        format!("Đã xử lý {taken} thư/tệp — {}.", outcomes.join("; "))
    }
}

fn run_daemon(config: Config, clock: Clock, once: bool, path: Option<PathBuf>) -> Result<ExitCode> {
    let inspector = inspector(&config)?;
    let mut worker = Worker::open(config.clone(), inspector, clock)?;
    if once {
        let (report, sent) = worker.pass().map_err(|e| match e {
            daemon::DaemonError::Transport(t) => transport_error(&config, t),
            other => other.into(),
        })?;
        eprintln!(
            "intake: {} Việc dở dang đã làm nốt: {}. Thư đã gửi: {sent}.",
            pass_summary(&report),
            report.recovered
        );
        // A source that could not be read is a failed pass for a script or a timer unit,
        // even though what could be read was taken in.
        for (source, cause) in &report.unread {
            eprintln!("intake: the {source} could not be read: {cause}");
        }
        if !report.unread.is_empty() {
            return Ok(ExitCode::from(1));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let _watchers =
        daemon::watch(&config, tx.clone()).context("cannot watch the mailbox and drop folder")?;
    // Signals are caught by the async runtime; the handlers are installed before the worker
    // starts, so a SIGTERM at any instant stops it between batches.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let (mut term, ctrl_c, mut hup) = {
        let _entered = runtime.enter();
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate())?,
            tokio::signal::ctrl_c(),
            signal(SignalKind::hangup())?,
        )
    };
    // SIGHUP (`systemctl reload intake`): the configuration file is loaded and checked again;
    // a sound one is put in force, read afresh by the worker between batches, the mail sender
    // between rounds and the board per request; a bad one is refused, the one in force stays.
    let live = intake::config::live::Live::new(config.clone());
    worker.follow(live.clone());
    {
        let live = live.clone();
        let wake = tx.clone();
        runtime.spawn(async move {
            while hup.recv().await.is_some() {
                reload(path.as_deref(), &live, &wake);
            }
        });
    }
    let stopper = tx.clone();
    runtime.spawn(async move {
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
        tracing::info!("stopping after the current batch");
        intake::service::stopping();
        let _ = stopper.send(Signal::Stop);
    });
    let mut sender = daemon::MailSender::open(config.clone(), &worker).map_err(|e| match e {
        daemon::DaemonError::Transport(t) => transport_error(&config, t),
        other => other.into(),
    })?;
    sender.follow(live.clone());
    let (mail_tx, mail_rx) = std::sync::mpsc::channel();
    tracing::info!(mailbox = %config.mailbox.describe(), drop = %config.drop.path.display(), store = %config.store_dir.display(), "intake running");
    let board = start_board(&runtime, &live, clock, tx.clone(), mail_tx.clone())?;
    intake::service::ready();
    let _watchdog = intake::service::watchdog();
    // A component that panics stops the others; the exit is then non-zero, for the service
    // manager to start intake again (src/panics.rs says why).
    let stop_worker = tx.clone();
    let mail = intake::panics::spawn(
        "mail sender",
        move || {
            let _ = stop_worker.send(Signal::Stop);
        },
        move || sender.serve(mail_rx),
    );
    let stop_mail = mail_tx.clone();
    let handle = intake::panics::spawn("ingest worker", || {}, move || worker.serve(rx, mail_tx));
    let result = handle
        .join()
        .unwrap_or_else(|_| unreachable!("panics::spawn catches the panic"))
        .map_err(|p| anyhow::anyhow!("the ingest worker panicked: {p}"));
    let _ = stop_mail.send(Signal::Stop);
    let mailed = mail
        .join()
        .unwrap_or_else(|_| unreachable!("panics::spawn catches the panic"))
        .map_err(|p| anyhow::anyhow!("the mail sender panicked: {p}"));
    if let Some((stop, served)) = board {
        let _ = stop.send(());
        let _ = runtime.block_on(served);
    }
    drop(runtime);
    result??;
    mailed?;
    Ok(ExitCode::SUCCESS)
}

/// Tells systemd the daemon is ready again, however a reload ended.
struct ReadyOnDrop;

impl Drop for ReadyOnDrop {
    fn drop(&mut self) {
        intake::service::ready();
    }
}

/// SIGHUP: loads and checks the configuration file again and puts it in force when sound.
fn reload(
    path: Option<&Path>,
    live: &intake::config::live::Live,
    wake: &std::sync::mpsc::Sender<Signal>,
) {
    let Some(path) = path else {
        tracing::warn!(
            "reload asked, but intake runs on the built-in example: there is no file to read again"
        );
        return;
    };
    // systemd waits for READY=1 after RELOADING=1, whether the new configuration is taken.
    intake::service::reloading();
    let _ready = ReadyOnDrop;
    let next = match Config::load(path) {
        Ok(next) => next,
        Err(e) => {
            tracing::error!(file = %path.display(), error = %e, "the new configuration is refused; the one in force stays");
            return;
        }
    };
    let problems = cmd::check::problems_of(&next);
    if !problems.is_empty() {
        tracing::error!(file = %path.display(), error = %problems.join("; "), "the new configuration is refused; the one in force stays");
        return;
    }
    let (next, kept) = intake::config::live::Live::adoptable(&live.get(), next);
    if !kept.is_empty() {
        tracing::warn!(kept = %kept.join(", "), "these settings change only at the next restart; they are kept as they run");
    }
    let campaigns = next.campaigns.len();
    live.set(next);
    tracing::info!(file = %path.display(), campaigns, "configuration reloaded");
    let _ = wake.send(Signal::Wake);
}

/// The board as a component of the daemon: started on the runtime, waking the worker and the
/// mail sender after each staff action. An address that cannot be bound (another program on
/// the port) is logged and the daemon goes on without the board: its main job comes first.
#[allow(clippy::type_complexity)] // a stop switch and the task it stops
fn start_board(
    runtime: &tokio::runtime::Runtime,
    live: &intake::config::live::Live,
    clock: Clock,
    worker: std::sync::mpsc::Sender<Signal>,
    mail: std::sync::mpsc::Sender<Signal>,
) -> Result<
    Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
> {
    let config = &*live.get();
    if !config.board.enabled {
        return Ok(None);
    }
    let bound = runtime.block_on(intake::board::BoardServer::bind_live(
        live.clone(),
        config.store_dir.clone(),
        inspector(config)?,
        clock,
    ));
    let server = match bound {
        Ok(s) => s,
        Err(e @ intake::board::BoardError::Bind { .. }) => {
            tracing::error!(error = %intake::causes::chain(&e), "the board is not served; intake goes on without it");
            eprintln!("intake: {e}; the board is not served (set [board] listen to a free port)");
            return Ok(None);
        }
        Err(e) => {
            return Err(intake::config::ConfigError {
                file: config.origin.display().to_string(),
                key: "board".into(),
                problem: e.to_string(),
                fix: "bind the board to 127.0.0.1, or name staff accounts or a token in [board]"
                    .into(),
            }
            .into());
        }
    };
    let addr = server.local_addr();
    let server = server.on_action(move || {
        let _ = worker.send(Signal::Wake);
        let _ = mail.send(Signal::Wake);
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = runtime.spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    // Not `println!`: a daemon whose stdout was closed must not die of it.
    let _ = writeln!(
        std::io::stdout(),
        "Bảng theo dõi cho cán bộ: http://{addr}/  (Ctrl-C để dừng)"
    );
    Ok(Some((stop, served)))
}

/// One round of sending with the configured transport; the mails sent.
fn send_now(config: &Config, store: &Store, clock: &Clock) -> Result<usize> {
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
fn transport_error(config: &Config, e: intake::outbox::TransportError) -> anyhow::Error {
    intake::config::ConfigError {
        file: config.origin.display().to_string(),
        key: "outbox.smtp".into(),
        problem: e.to_string(),
        fix: "check [outbox.smtp]: the password's environment variable or file, and ca_file".into(),
    }
    .into()
}

fn remind(
    config: &Config,
    clock: &Clock,
    dry_run: bool,
    agency: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let now = clock.now();
    let store = if dry_run {
        Store::open_read(&config.store_dir)?
    } else {
        Store::open(&config.store_dir)?
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

fn demo(
    config: Config,
    now: Option<DateTime<FixedOffset>>,
    fixtures: Option<PathBuf>,
    serve: bool,
) -> Result<ExitCode> {
    // The example campaign ran in July 2018; unless told otherwise, look at it from just after.
    let clock = Clock::starting_at(match now {
        Some(at) => at,
        None => DateTime::parse_from_rfc3339("2018-07-12T09:00:00+07:00")?,
    });
    let dir = fixtures.unwrap_or_else(|| {
        let here = PathBuf::from("mailbox-fixtures");
        if here.is_dir() {
            here
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("mailbox-fixtures")
        }
    });
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read the fixtures in {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    if names.is_empty() {
        bail!("no .eml fixtures in {}", dir.display());
    }
    let maildir = Maildir::open(&config.mailbox.path, config.mailbox.on_filed)?;
    let mut delivered = 0;
    for (i, path) in names.iter().enumerate() {
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let unique = format!("{:010}.demo{i:03}.{stem}", 1_530_000_000 + i);
        let known = ["new", "cur"].iter().any(|sub| {
            std::fs::read_dir(config.mailbox.path.join(sub))
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(&unique))
        });
        if !known {
            maildir.deliver(&unique, &std::fs::read(path)?)?;
            delivered += 1;
        }
    }
    let inspector = inspector(&config)?;
    let mut worker = Worker::open(config.clone(), inspector, clock)?;
    let (report, sent) = worker.pass()?;
    let status = query::status(worker.store(), &config, clock.now())?;
    print!(
        "{}",
        intake::report::status_table(&status, &config, clock.now())
    );
    println!(
        "Thư mẫu đã chuyển vào hộp thư: {delivered} (trong {})",
        dir.display()
    );
    let by_kind: Vec<String> = worker
        .store()
        .sent_by_kind()?
        .iter()
        .map(|(kind, n)| {
            let what = match kind.as_str() {
                "receipt" => "biên nhận",
                "reminder" => "thư nhắc (kèm biểu mẫu trống)",
                "digest" => "thư tổng hợp cho cán bộ",
                other => other,
            };
            format!("{n} {what}")
        })
        .collect();
    println!("{}", pass_summary(&report));
    println!(
        "Thư đã gửi lần này: {sent}; hộp thư đi đến nay: {}.",
        if by_kind.is_empty() {
            "chưa có thư".to_string()
        } else {
            by_kind.join(", ")
        }
    );
    println!(
        "Kho lưu (cây thư mục theo đợt/đơn vị/báo cáo): {}",
        config.store_dir.display()
    );
    println!(
        "Chỉ mục và nhật ký: {}  (xem: intake log)",
        config.store_dir.join("intake.sqlite").display()
    );
    println!(
        "Hộp thư đi (biên nhận, thư nhắc, thư tổng hợp; .eml): {}",
        config.outbox_dir.display()
    );
    println!(
        "Lịch nhắc: intake --now {} remind --dry-run",
        clock
            .now()
            .with_timezone(&config.timezone)
            .format("%Y-%m-%dT%H:%M:%S%:z")
    );
    println!("Hộp thư (Maildir): {}", config.mailbox.path.display());
    if !serve {
        return Ok(ExitCode::SUCCESS);
    }
    // Go on as the daemon, so that the board shows the example campaign at once.
    drop(worker);
    println!(
        "\nintake chạy tiếp như dịch vụ (thư mới vào {} được tiếp nhận ngay).",
        config.mailbox.path.display()
    );
    run_daemon(config, clock, false, None)
}

/// The store for a staff action. With no daemon running, the writer's own. Beside a running
/// daemon, a connection of its own, as the board's staff actions use: SQLite orders its writes
/// with the daemon's, and the daemon's mail sender sends what the action queued (true).
fn open_for_staff(config: &Config) -> Result<(Store, bool)> {
    match Store::open(&config.store_dir) {
        Ok(store) => Ok((store, false)),
        Err(intake::store::StoreError::Locked(_)) => {
            Ok((Store::open_read(&config.store_dir)?, true))
        }
        Err(e) => Err(e.into()),
    }
}

/// What became of the mail a staff action queued: sent now, or left to the running service.
fn sent_words(sent: Option<usize>) -> String {
    match sent {
        Some(n) => format!("đã gửi {n} thư"),
        None => "thư sẽ do dịch vụ intake đang chạy gửi đi (trong vòng một phút)".into(),
    }
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
) -> Result<(i64, intake::pipeline::Outcome, Option<usize>)> {
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

/// A message's row from its receipt number (`BN-000012`) or the number itself.
fn message_number(message: &str) -> Result<i64> {
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

/// A new password: typed twice without echo at a terminal, else one line of standard input
/// (for scripts: `printf '%s\n' "$PW" | intake board-account NAME`).
fn read_new_password() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mật khẩu mới: ")
            .context("cannot read the password from the terminal")?;
        let again = rpassword::prompt_password("Nhập lại mật khẩu: ")
            .context("cannot read the password from the terminal")?;
        if first != again {
            return Err(
                usage::Usage("the two passwords differ; nothing was written".into()).into(),
            );
        }
        return Ok(first);
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

/// Who is acting: `--by`, else the login name.
fn actor(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "staff".into())
}
