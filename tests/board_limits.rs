//! The board protects itself, measured from outside over real sockets: `intake run` serves the
//! shipped configuration with short limits, and the test floods it with half-open connections
//! (a partial request line, or nothing at all), counts the daemon's open file descriptors in
//! /proc, times when the server closes each connection, and checks that a staff page still
//! answers at once; then an idle keep-alive, a slow form body, oversized bodies and a live
//! stream that must outlive the idle timeout.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const IDLE_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_CONNECTIONS: usize = 64;
const MAX_BODY: usize = 4096;
/// Slack for a busy machine: the server looks at deadlines five times a second.
const MARGIN: Duration = Duration::from_secs(2);

/// A daemon with the board on a free loopback port, stopped (SIGTERM) when dropped.
struct Daemon {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn copy_config(to: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for sub in ["campaigns", "rosters", "forms", "templates"] {
        std::fs::create_dir_all(to.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, to.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    std::fs::read_to_string(src.join("intake.toml")).unwrap()
}

fn set(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the shipped intake.toml has `{from}`");
    text.replacen(from, to, 1)
}

impl Daemon {
    async fn start() -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut main = copy_config(&cfg);
        main = set(
            main,
            "listen = \"127.0.0.1:8080\"",
            &format!("listen = \"{addr}\""),
        );
        main = set(
            main,
            "header_timeout_secs = 10",
            &format!("header_timeout_secs = {}", HEADER_TIMEOUT.as_secs()),
        );
        main = set(
            main,
            "idle_timeout_secs = 60",
            &format!("idle_timeout_secs = {}", IDLE_TIMEOUT.as_secs()),
        );
        main = set(
            main,
            "request_timeout_secs = 30",
            &format!("request_timeout_secs = {}", REQUEST_TIMEOUT.as_secs()),
        );
        main = set(
            main,
            "max_connections = 256",
            &format!("max_connections = {MAX_CONNECTIONS}"),
        );
        main = set(
            main,
            "max_body_bytes = 65536",
            &format!("max_body_bytes = {MAX_BODY}"),
        );
        std::fs::write(cfg.join("intake.toml"), main).unwrap();
        let child = Command::new(common::bin())
            .args(["--config", cfg.join("intake.toml").to_str().unwrap(), "run"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut d = Daemon {
            child,
            addr,
            _dir: dir,
        };
        let start = Instant::now();
        loop {
            if TcpStream::connect(&d.addr).await.is_ok()
                && let Ok(r) = tokio::time::timeout(Duration::from_secs(2), d.get("/", None)).await
                && r.status == 200
            {
                break;
            }
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!("intake run ended at start-up: {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the board did not answer within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        d
    }

    fn fds(&self) -> usize {
        let dir = PathBuf::from(format!("/proc/{}/fd", self.child.id()));
        std::fs::read_dir(dir).unwrap().count()
    }

    /// One request on a fresh connection (closed after it).
    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        self.send(
            format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\n{cookie}Connection: close\r\n\r\n",
                self.addr
            )
            .as_bytes(),
        )
        .await
    }

    async fn send(&self, request: &[u8]) -> Reply {
        let mut s = TcpStream::connect(&self.addr).await.unwrap();
        s.write_all(request).await.unwrap();
        read_reply(&mut s).await
    }

    /// A session cookie, from a first visit.
    async fn session(&self) -> String {
        let r = self.get("/", None).await;
        let set = r
            .header("set-cookie")
            .expect("a first visit gets a session");
        set.split(';').next().unwrap().to_string()
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads until the server closes (every request here says `Connection: close`, and refusals
/// close by themselves).
async fn read_reply(s: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// Waits until the server closes `s` (EOF or reset); returns when.
async fn closed(mut s: TcpStream, limit: Duration) -> Option<Instant> {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_half_open_connections_is_cut_and_staff_still_get_their_page() {
    let d = Daemon::start().await;
    let baseline = d.fds();

    // Below the cap, silent clients are closed by the header timeout, not before.
    let opened = Instant::now();
    let mut few = Vec::new();
    for i in 0..10 {
        let mut s = TcpStream::connect(&d.addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0")
                .await
                .unwrap();
        }
        few.push(tokio::spawn(closed(s, HEADER_TIMEOUT + MARGIN + MARGIN)));
    }
    for t in few {
        let at = t
            .await
            .unwrap()
            .expect("a silent client is closed by the server");
        let after = at - opened;
        assert!(
            after >= HEADER_TIMEOUT - Duration::from_millis(100)
                && after <= HEADER_TIMEOUT + MARGIN,
            "closed {after:?} after connecting; header timeout {HEADER_TIMEOUT:?}"
        );
    }

    // 300 half-open connections: half with a partial request line, half with nothing.
    let opened = Instant::now();
    let mut flood = Vec::new();
    for i in 0..300 {
        let mut s = TcpStream::connect(&d.addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /campaign/742-2018 HTT").await.unwrap();
        }
        flood.push(tokio::spawn(closed(s, HEADER_TIMEOUT + MARGIN + MARGIN)));
    }
    let flooded = opened.elapsed();

    // Staff still get their page at once, several times during the flood.
    let mut slowest = Duration::ZERO;
    let mut most_fds = d.fds();
    for _ in 0..5 {
        let t = Instant::now();
        let r = d.get("/", None).await;
        slowest = slowest.max(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.head);
        assert!(r.body.contains("<h1>Tổng quan</h1>"), "the overview");
        most_fds = most_fds.max(d.fds());
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a page took {slowest:?} during the flood"
    );

    // Every flooding connection is closed within the header timeout and the margin.
    let mut last = Duration::ZERO;
    for t in flood {
        most_fds = most_fds.max(d.fds());
        let at = t
            .await
            .unwrap()
            .expect("a half-open connection is closed by the server");
        last = last.max(at - opened);
    }
    assert!(
        last <= flooded + HEADER_TIMEOUT + MARGIN,
        "the last half-open connection was closed {last:?} after the flood began"
    );
    // The daemon's descriptors stay within its cap, whatever the clients hold.
    assert!(
        most_fds <= baseline + MAX_CONNECTIONS + 4,
        "the daemon held {most_fds} descriptors (baseline {baseline}, cap {MAX_CONNECTIONS})"
    );
    eprintln!(
        "300 half-open connections opened in {flooded:?}; pages during the flood: slowest {slowest:?}; \
         last one closed {last:?} after the flood began; daemon descriptors: {baseline} before, at most {most_fds} during (cap {MAX_CONNECTIONS})"
    );
    // Once it is over, the daemon is back where it started.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        d.fds() <= baseline + 2,
        "{} descriptors after the flood",
        d.fds()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_slow_and_oversized_requests_are_cut_but_live_pages_stay() {
    let d = Daemon::start().await;
    let cookie = d.session().await;

    // An idle keep-alive connection outlives the header timeout, and ends at the idle timeout.
    let mut s = TcpStream::connect(&d.addr).await.unwrap();
    s.write_all(format!("GET /static/board.css HTTP/1.1\r\nHost: {}\r\n\r\n", d.addr).as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 64 << 10];
    let n = s.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    let at = closed(s, IDLE_TIMEOUT + MARGIN + MARGIN)
        .await
        .expect("an idle keep-alive connection is closed");
    let idle = at - answered;
    assert!(
        idle >= IDLE_TIMEOUT - Duration::from_millis(300) && idle <= IDLE_TIMEOUT + MARGIN,
        "idle connection closed after {idle:?}"
    );

    // Headers sent a byte at a time (slowloris): closed at the header timeout all the same.
    let mut s = TcpStream::connect(&d.addr).await.unwrap();
    let began = Instant::now();
    let trickle = tokio::spawn(async move {
        for b in
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter()
        {
            if s.write_all(&[*b]).await.is_err() {
                return Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the server let the headers trickle for {:?}",
            began.elapsed()
        );
    });
    let cut = trickle.await.unwrap() - began;
    assert!(
        cut <= HEADER_TIMEOUT + MARGIN,
        "trickling headers cut after {cut:?}"
    );

    // A form body that never finishes: 408 after the request timeout.
    let mut s = TcpStream::connect(&d.addr).await.unwrap();
    let sent = Instant::now();
    s.write_all(
        format!(
            "POST /login HTTP/1.1\r\nHost: {0}\r\nOrigin: http://{0}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=a",
            d.addr
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let r = read_reply(&mut s).await;
    let took = sent.elapsed();
    assert_eq!(r.status, 408, "{}", r.head);
    assert!(r.body.contains("quá chậm"), "{}", r.body);
    assert!(
        took >= REQUEST_TIMEOUT - Duration::from_millis(300) && took <= REQUEST_TIMEOUT + MARGIN,
        "slow body cut after {took:?}"
    );

    // Bodies above the limit: 413, declared or chunked.
    let big = "x".repeat(MAX_BODY * 4);
    let head = |extra: &str| {
        format!(
            "POST /login HTTP/1.1\r\nHost: {0}\r\nOrigin: http://{0}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n{extra}\r\n",
            d.addr
        )
    };
    let declared = d
        .send(
            format!(
                "{}name={big}",
                head(&format!("Content-Length: {}\r\n", big.len() + 5))
            )
            .as_bytes(),
        )
        .await;
    assert_eq!(declared.status, 413, "{}", declared.head);
    assert!(declared.body.contains("quá lớn"), "{}", declared.body);
    let chunked = d
        .send(
            format!(
                "{}{:x}\r\nname={big}\r\n0\r\n\r\n",
                head("Transfer-Encoding: chunked\r\n"),
                big.len() + 5
            )
            .as_bytes(),
        )
        .await;
    assert_eq!(chunked.status, 413, "{}", chunked.head);
    assert!(chunked.body.contains("quá lớn"), "{}", chunked.body);
    // A small form is still taken (the login form answers, whatever it says of the name).
    let small = d
        .send(format!("{}name=a", head("Content-Length: 6\r\n")).as_bytes())
        .await;
    assert!(
        small.status != 413 && small.status != 408 && small.status != 0,
        "{}",
        small.head
    );

    // The live stream outlives the idle timeout: it speaks more often than that.
    let mut s = TcpStream::connect(&d.addr).await.unwrap();
    s.write_all(
        format!(
            "GET /events HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\r\n",
            d.addr
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    let until = tokio::time::Instant::now() + IDLE_TIMEOUT * 2;
    loop {
        match tokio::time::timeout_at(until, s.read(&mut buf)).await {
            Err(_) => break,
            Ok(Ok(0)) | Ok(Err(_)) => panic!(
                "the live stream was closed: {}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.matches("\n:").count() >= 2,
        "keep-alive comments on the live stream: {text}"
    );
}
