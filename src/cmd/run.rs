//! # `intake run`: the daemon, or one pass with `--once`
//!
//! Starts the ingest worker, the mail sender and the staff board, wires the signals to them
//! (SIGTERM and Ctrl-C stop, SIGHUP reloads the configuration) and reports to systemd.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use intake::clock::Clock;
use intake::config::Config;
use intake::daemon::keeper::Keeper;
use intake::daemon::{self, Signal, Worker};

use super::common::{inspector, transport_error};

/// Opens the store for writing, with the sources this daemon works. With a shared (PostgreSQL)
/// index, any number of daemons run at once: each source goes to one of them under a lease
/// (module `daemon::keeper`), taken here for the first pass and kept by the keeper after.
fn open_worker(config: &Config, clock: Clock) -> Result<(Worker, Option<Keeper>)> {
    let mut worker = Worker::open(config.clone(), inspector(config)?, clock)?;
    if !matches!(
        config.store.index,
        intake::config::store::IndexAt::Postgres(_)
    ) {
        return Ok((worker, None));
    }
    let mut keeper = Keeper::new(worker.store(), worker.source_names())?;
    keeper.tick()?;
    worker.share(keeper.leases());
    Ok((worker, Some(keeper)))
}

/// Starts the lease keeper on a thread of its own, waking the worker through `wake` when it
/// takes a source; stop it with the sender returned (it then gives its leases up).
fn keep(
    keeper: Keeper,
    wake: std::sync::mpsc::Sender<Signal>,
) -> (std::sync::mpsc::Sender<Signal>, std::thread::JoinHandle<()>) {
    let (stop, stopped) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("lease keeper".into())
        .spawn(move || keeper.serve(stopped, wake))
        .expect("a thread can be started");
    (stop, handle)
}

/// `intake run [--once]`: one pass, or the daemon until it is told to stop.
pub fn run_daemon(
    config: Config,
    clock: Clock,
    once: bool,
    path: Option<PathBuf>,
) -> Result<ExitCode> {
    let (mut worker, keeper) = open_worker(&config, clock)?;
    if once {
        // The keeper renews while the pass runs, and gives everything up after it.
        let (wake, _) = std::sync::mpsc::channel();
        let kept = keeper.map(|k| keep(k, wake));
        let passed = worker.pass();
        if let Some((stop, handle)) = kept {
            let _ = stop.send(Signal::Stop);
            let _ = handle.join();
        }
        let (report, sent) = passed.map_err(|e| match e {
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
    // The lease keeper outlives every other component: this daemon's leases and mail claims
    // go only after its last batch and its last mail.
    let kept = keeper.map(|keeper| keep(keeper, tx.clone()));
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
    if let Some((stop, handle)) = kept {
        let _ = stop.send(Signal::Stop);
        let _ = handle.join();
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
    let problems = super::check::problems_of(&next);
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

/// What a pass took in, in words: "Đã xử lý 35 thư/tệp — đã lưu: 23; …".
pub fn pass_summary(report: &intake::ingest::PassReport) -> String {
    let outcomes: Vec<String> = report
        .outcomes
        .iter()
        .map(|(k, n)| {
            format!(
                "{}: {}",
                intake::core::words::event(k),
                intake::core::words::integer(*n as i64)
            )
        })
        .collect();
    let taken = intake::core::words::integer(report.taken() as i64);
    if outcomes.is_empty() {
        format!("Đã xử lý {taken} thư/tệp.")
    } else {
        format!("Đã xử lý {taken} thư/tệp — {}.", outcomes.join("; "))
    }
}
