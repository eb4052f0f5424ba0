//! Timing a whole command as the benchmarks report it: wall time, the child's own CPU time
//! and peak RSS (`/usr/bin/time`), and medians of several runs.

use std::io::Read;
use std::process::Command;
use std::time::Instant;

/// One measured run: wall seconds, CPU seconds (user + system), peak RSS in MiB.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: f64,
    pub cpu: f64,
    pub rss: f64,
}

/// Medians of each figure on its own.
pub fn median(runs: &[Run]) -> Run {
    let mid = |f: fn(&Run) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Run {
        wall: mid(|r| r.wall),
        cpu: mid(|r| r.cpu),
        rss: mid(|r| r.rss),
    }
}

/// Runs a command under `/usr/bin/time` (which reports the child's own CPU time and peak
/// RSS); fails when it fails.
pub fn measure(cmd: &mut Command) -> Run {
    let report = tempfile::NamedTempFile::new().unwrap();
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg("%M %U %S")
        .arg("-o")
        .arg(report.path())
        .arg(program)
        .args(args);
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            timed.env(k, v);
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    let start = Instant::now();
    let out = timed
        .output()
        .expect("/usr/bin/time runs (apt-get install time)");
    let wall = start.elapsed().as_secs_f64();
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{:?} failed: {}",
        cmd.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut text = String::new();
    std::fs::File::open(report.path())
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let f: Vec<f64> = text
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    Run {
        wall,
        cpu: f[1] + f[2],
        rss: f[0] / 1024.0,
    }
}
