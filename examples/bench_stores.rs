//! The store's backends against each other on one backlog: `intake run --once` with the
//! embedded store (SQLite, objects on disk) and with the index in PostgreSQL and the objects
//! in an S3 bucket (a private PostgreSQL cluster and moto's S3 server on loopback, started
//! here as the tests start them), interleaved, `--rounds` times; then one and three daemons
//! (`intake run`) on PostgreSQL + S3 taking in the same backlog, timed until the index holds
//! every message, the backlog split over six mailboxes (`[[mailbox]]`), with each daemon's
//! peak RSS; then, with the three daemons running, how long the sources of one SIGKILLed
//! daemon take to pass to the others (`--rounds` kills). On a 2-core machine the point of
//! three daemons is what sharing costs (leases, claims, the writers' lock), not a speed-up.
//!
//! ```text
//! cargo build --release --bins --examples
//! target/release/examples/bench_stores 500 [--rounds 3] [--seed 742] [--intake PATH]
//! ```

#[path = "common/backlog.rs"]
#[allow(dead_code)] // the shapes' names are for the backlog benchmark's report
mod backlog;
#[path = "../tests/common/postgres.rs"]
mod postgres;
#[path = "../tests/common/s3.rs"]
mod s3;
#[path = "common/timed.rs"]
mod timed;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use timed::{Run, measure, median};

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |s| {
            s.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n: usize = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map_or(500, |a| a.parse().expect("a number of messages"));
    let rounds: usize = arg(&args, "--rounds", 3);
    let seed: u64 = arg(&args, "--seed", 742);
    let intake = args
        .iter()
        .position(|a| a == "--intake")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| root.join("target/release/intake"), PathBuf::from);

    let work = tempfile::tempdir().unwrap();
    let template = work.path().join("template");
    let setting = backlog::Setting::shipped(root);
    backlog::write_maildir(&setting, seed, n, &template);
    let pg = postgres::Postgres::start();
    let moto = s3::Moto::start();
    println!(
        "{n} messages (seed {seed}); PostgreSQL on port {}, moto on port {}",
        pg.port, moto.port
    );

    let once = |cfg: &Path| {
        measure(
            Command::new(&intake)
                .arg("--config")
                .arg(cfg)
                .args(RUN_ONCE)
                .env("RUST_LOG", "off"),
        )
    };
    let (mut embedded, mut indexed, mut shared) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        let dir = work.path().join(format!("embedded{round}"));
        let e = once(&site(root, &dir, &template, None, None));
        println!(
            "  round {round} embedded:                    {}",
            line(n, e)
        );
        embedded.push(e);
        std::fs::remove_dir_all(&dir).unwrap();

        let dir = work.path().join(format!("indexed{round}"));
        let database = format!("indexed{round}");
        pg.database(&database);
        let i = once(&site(root, &dir, &template, Some((&pg, &database)), None));
        assert_eq!(recorded(&pg, &database), n, "every message recorded");
        println!(
            "  round {round} PostgreSQL, objects on disk: {}",
            line(n, i)
        );
        indexed.push(i);
        std::fs::remove_dir_all(&dir).unwrap();

        let dir = work.path().join(format!("shared{round}"));
        let database = format!("shared{round}");
        pg.database(&database);
        moto.bucket(&database);
        let objects = Some((&moto, database.as_str()));
        let s = once(&site(
            root,
            &dir,
            &template,
            Some((&pg, &database)),
            objects,
        ));
        assert_eq!(recorded(&pg, &database), n, "every message recorded");
        println!(
            "  round {round} PostgreSQL + S3 (moto):      {}",
            line(n, s)
        );
        shared.push(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let (e, i, s) = (median(&embedded), median(&indexed), median(&shared));
    println!("median of {rounds}, {n} messages, intake run --once:");
    println!("  embedded:                    {}", line(n, e));
    println!("  PostgreSQL, objects on disk: {}", line(n, i));
    println!("  PostgreSQL + S3 (moto):      {}", line(n, s));
    println!(
        "  PostgreSQL / embedded: {:.2}× the time, {:.2}× the CPU; PostgreSQL + S3 / embedded: {:.2}× the time, {:.2}× the CPU",
        i.wall / e.wall,
        i.cpu / e.cpu,
        s.wall / e.wall,
        s.cpu / e.cpu
    );

    for daemons in [1, 3] {
        let dir = work.path().join(format!("daemons{daemons}"));
        let name = format!("daemons{daemons}");
        pg.database(&name);
        moto.bucket(&name);
        let cfg = site_with(
            root,
            &dir,
            &template,
            Some((&pg, &name)),
            Some((&moto, &name)),
            6,
        );
        let start = Instant::now();
        let spawn = || {
            Command::new(&intake)
                .arg("--config")
                .arg(&cfg)
                .args(["--now", NOW, "run"])
                .env("RUST_LOG", "off")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut children: Vec<_> = (0..daemons).map(|_| spawn()).collect();
        while recorded(&pg, &name) < n {
            assert!(
                start.elapsed() < Duration::from_secs(1800),
                "the daemons stalled"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let wall = start.elapsed().as_secs_f64();
        let rss: Vec<String> = children
            .iter()
            .map(|c| format!("{:.1}", peak_rss_mib(c.id())))
            .collect();
        println!(
            "{daemons} daemon(s) on PostgreSQL + S3, six mailboxes: {n} messages in {wall:.1} s, {:.1} msg/s; peak RSS per daemon {} MiB",
            n as f64 / wall,
            rss.join(", ")
        );
        if daemons > 1 {
            // A lease's move: SIGKILL the daemon holding the most sources, time until every
            // source is held by a daemon alive; then a new daemon, and again.
            let mut moves = Vec::new();
            for _ in 0..rounds {
                let held = holders(&pg, &name, 7, 3);
                let (victim, _) = held
                    .iter()
                    .max_by_key(|(_, sources)| *sources)
                    .cloned()
                    .expect("sources held");
                let at = children
                    .iter()
                    .position(|c| c.id() == victim)
                    .expect("the holder is one of ours");
                let mut c = children.remove(at);
                let killed = Instant::now();
                c.kill().unwrap();
                c.wait().unwrap();
                holders(&pg, &name, 7, 2);
                moves.push(killed.elapsed().as_secs_f64());
                children.push(spawn());
            }
            moves.sort_by(f64::total_cmp);
            println!(
                "  a SIGKILLed daemon's sources held by the others after {} s (median {:.2} s)",
                moves
                    .iter()
                    .map(|m| format!("{m:.2}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                moves[moves.len() / 2]
            );
        }
        for c in &mut children {
            let _ = c.kill();
            let _ = c.wait();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

const NOW: &str = "2018-07-12T09:00:00+07:00";
const RUN_ONCE: [&str; 4] = ["--now", NOW, "run", "--once"];

/// A data folder with the shipped configuration (board off) and the backlog in its Maildir
/// (hard links); with the index and objects on the servers given. Returns the configuration.
fn site(
    root: &Path,
    dir: &Path,
    template: &Path,
    index: Option<(&postgres::Postgres, &str)>,
    objects: Option<(&s3::Moto, &str)>,
) -> PathBuf {
    site_with(root, dir, template, index, objects, 1)
}

/// [`site`] with the backlog dealt round-robin over `mailboxes` Maildirs (`[[mailbox]]`
/// `m0`, `m1`, …) when more than one.
fn site_with(
    root: &Path,
    dir: &Path,
    template: &Path,
    index: Option<(&postgres::Postgres, &str)>,
    objects: Option<(&s3::Moto, &str)>,
    mailboxes: usize,
) -> PathBuf {
    let config = dir.join("config");
    copy_tree(&root.join("config"), &config);
    let main = config.join("intake.toml");
    let mut text = std::fs::read_to_string(&main).unwrap().replacen(
        "enabled = true\nlisten = \"127.0.0.1:8080\"",
        "enabled = false\nlisten = \"127.0.0.1:8080\"",
        1,
    );
    std::fs::create_dir_all(dir).unwrap();
    if let Some((pg, database)) = index {
        let secret = dir.join("pg.secret");
        std::fs::write(&secret, postgres::PASSWORD).unwrap();
        text = text.replacen("[store]\n", "", 1);
        text.push_str(&format!(
            "\n[store]\nkind = \"postgres\"\nurl = \"{}\"\npassword_file = \"{}\"\n",
            pg.url(database),
            secret.display(),
        ));
    }
    if let Some((moto, bucket)) = objects {
        let keys = dir.join("s3.secret");
        std::fs::write(&keys, s3::SECRET).unwrap();
        text.push_str(&format!(
            "\n[store.objects]\nkind = \"s3\"\nendpoint = \"{}\"\nbucket = \"{bucket}\"\naccess_key_id_file = \"{}\"\nsecret_access_key_file = \"{}\"\nallow_http = true\n",
            moto.endpoint(),
            keys.display(),
            keys.display(),
        ));
    }
    let maildirs: Vec<PathBuf> = if mailboxes > 1 {
        let shipped = "[mailbox]\nkind = \"maildir\"";
        let start = text.find(shipped).expect("the shipped [mailbox] moved");
        let end = start + text[start..].find("on_filed = \"seen\"\n").unwrap() + 18;
        text.replace_range(start..end, "");
        (0..mailboxes)
            .map(|m| {
                let path = dir.join(format!("var/maildir-{m}"));
                text.push_str(&format!(
                    "\n[[mailbox]]\nname = \"m{m}\"\npath = \"{}\"\n",
                    path.display()
                ));
                path
            })
            .collect()
    } else {
        vec![dir.join("var/maildir")]
    };
    std::fs::write(&main, text).unwrap();
    for maildir in &maildirs {
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
    }
    let mut names: Vec<_> = std::fs::read_dir(template.join("new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for (n, path) in names.iter().enumerate() {
        let maildir = &maildirs[n % maildirs.len()];
        std::fs::hard_link(path, maildir.join("new").join(path.file_name().unwrap())).unwrap();
    }
    main
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            copy_tree(&p, &to.join(p.file_name().unwrap()));
        } else {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// Messages the index in `database` holds.
fn recorded(pg: &postgres::Postgres, database: &str) -> usize {
    let Ok(mut client) = pg.client(database) else {
        return 0;
    };
    client
        .query_one(
            "SELECT CASE WHEN to_regclass('messages') IS NULL THEN 0 ELSE (SELECT count(*) FROM messages) END",
            &[],
        )
        .map_or(0, |r| r.get::<_, i64>(0) as usize)
}

/// Waits until `sources` leases are held, unexpired, by exactly `daemons` daemons alive; answers
/// (pid, sources held) per daemon.
fn holders(
    pg: &postgres::Postgres,
    database: &str,
    sources: usize,
    daemons: usize,
) -> Vec<(u32, usize)> {
    let start = Instant::now();
    loop {
        let mut client = pg.client(database).unwrap();
        let rows = client
            .query(
                "SELECT d.pid, count(l.name) FROM daemons d JOIN leases l ON l.holder = d.holder \
                 WHERE l.expires_ms > extract(epoch FROM clock_timestamp()) * 1000 \
                 AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = d.backend) GROUP BY d.pid",
                &[],
            )
            .unwrap();
        let held: Vec<(u32, usize)> = rows
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u32, r.get::<_, i64>(1) as usize))
            .collect();
        if held.len() == daemons && held.iter().map(|(_, n)| n).sum::<usize>() == sources {
            return held;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the leases did not settle: {held:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn line(n: usize, r: Run) -> String {
    format!(
        "{:.1} msg/s, {:.1} CPU-ms/msg, {:.1} MiB peak RSS ({:.1} s)",
        n as f64 / r.wall,
        r.cpu * 1000.0 / n as f64,
        r.rss,
        r.wall
    )
}
