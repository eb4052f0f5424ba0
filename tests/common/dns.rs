//! A private DNS server for the mail-authentication tests: Debian's `dnsmasq` (package
//! `dnsmasq-base`) in the foreground as a child process, on 127.0.0.1 and a port chosen free at
//! run time, serving the TXT records a test gives it (DKIM keys, DMARC policies, SPF) and
//! nothing else: it reads no system configuration (`-C /dev/null`), no `/etc/resolv.conf`, no
//! `/etc/hosts`, and forwards nothing.
//!
//! - Names under the test domains (`.example`, `.test`, `.invalid`) that it does not know
//!   answer NXDOMAIN (`--local=/example/`…), so a domain without a DMARC record reads as "no
//!   record", not as a DNS error. Names elsewhere answer REFUSED (a resolver error).
//! - Each domain holding TXT records (the last two labels of their names, e.g.
//!   `langson.example` for `sel._domainkey.langson.example`) also gets an A record 127.0.0.1
//!   (`--host-record`, which leaves its TXT records alone), so "does the domain exist" checks
//!   see it exist. That also gives 127.0.0.1 a PTR record to the first such domain.
//! - Every answer has TTL 0, so no resolver cache hides a later [`DnsServer::stop`].
//! - Long texts (a DKIM key of 2048 bits or more) are split into 255-byte character-strings,
//!   which resolvers join back. A record line, name and quoting included, must stay under
//!   1,000 bytes (dnsmasq's line limit): a 4096-bit RSA key fits.
//!
//! The records go into a file in a private folder read with `--conf-dir` (the command line
//! cannot carry a comma inside a text, a configuration line can, quoted). Readiness is a real
//! DNS answer over UDP, not an open port. As root, dnsmasq drops to `nobody` after binding.
//! Stopped when dropped.
#![allow(dead_code)] // each test file uses a different part of this module

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DNSMASQ: &str = "/usr/sbin/dnsmasq";
/// How to install dnsmasq when it is missing.
const INSTALL: &str = "dnsmasq is not installed: apt-get install -y dnsmasq-base \
                       (or run .ci/install-imap.sh)";
/// Top-level domains the server is authoritative for: unknown names there are NXDOMAIN.
const LOCAL_DOMAINS: [&str; 3] = ["example", "test", "invalid"];
/// dnsmasq refuses configuration lines longer than about 1 KB.
const MAX_LINE: usize = 1000;

/// A running private DNS server.
pub struct DnsServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl DnsServer {
    /// Starts dnsmasq on 127.0.0.1 on a free port serving these TXT records, given as (name,
    /// text) pairs (a name may appear more than once: several TXT records); panics with how to
    /// install it when it is missing.
    pub fn start(txt: &[(&str, &str)]) -> DnsServer {
        if !Path::new(DNSMASQ).is_file() {
            panic!("{INSTALL}");
        }
        let dir = tempfile::Builder::new()
            .prefix("dns")
            .tempdir_in("/tmp")
            .unwrap();
        let conf = dir.path().join("conf");
        std::fs::create_dir(&conf).unwrap();
        std::fs::write(conf.join("records.conf"), records(txt)).unwrap();
        let mut server = DnsServer {
            dir,
            port: 0,
            child: None,
        };
        server.launch();
        server
    }

    /// The UDP and TCP port it answers on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The folder holding the records, pid file and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What dnsmasq logged: startup, every query and its answer (`--log-queries`), and what it
    /// wrote to stderr (a failure to start).
    pub fn log(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name));
        format!(
            "{}{}",
            read("dnsmasq.log").unwrap_or_default(),
            read("stderr.log").unwrap_or_default()
        )
    }

    /// Stops the server (a DNS outage): afterwards the port answers nothing.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the server again after [`DnsServer::stop`], on the same port with the same
    /// records (the end of an outage). Does nothing while it runs.
    pub fn restart(&mut self) {
        if self.child.is_none() {
            self.launch();
        }
    }

    /// Starts dnsmasq on `self.port` (a free port when 0) and waits until it answers a query.
    fn launch(&mut self) {
        let keep_port = self.port != 0;
        let start = Instant::now();
        loop {
            let port = if keep_port { self.port } else { free_port() };
            let mut child = self.spawn(port);
            let tried = Instant::now();
            while tried.elapsed() < Duration::from_secs(10) {
                if answers(port) {
                    self.port = port;
                    self.child = Some(child);
                    return;
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            // Another process may have taken the port between our check and dnsmasq's bind:
            // try again (on a new port, or on the same one once it is free again).
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "dnsmasq did not answer on 127.0.0.1:{port}; its log and stderr:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn spawn(&self, port: u16) -> Child {
        let d = self.dir.path();
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("stderr.log"))
            .unwrap();
        let mut cmd = Command::new(DNSMASQ);
        cmd.arg("--keep-in-foreground")
            .arg("--conf-file=/dev/null")
            .arg(arg("--conf-dir=", &d.join("conf")))
            .args(["--no-resolv", "--no-hosts", "--no-poll"])
            .args(["--listen-address=127.0.0.1", "--bind-interfaces"])
            .arg(format!("--port={port}"))
            .arg(arg("--pid-file=", &d.join("dnsmasq.pid")))
            .arg(arg("--log-facility=", &d.join("dnsmasq.log")))
            .arg("--log-queries")
            .args(LOCAL_DOMAINS.iter().map(|tld| format!("--local=/{tld}/")))
            .args(user_and_group())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        match cmd.spawn() {
            Ok(child) => child,
            Err(e) => panic!("{DNSMASQ} does not start ({e}); {INSTALL}"),
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn arg(flag: &str, path: &Path) -> String {
    format!("{flag}{}", path.display())
}

/// `--user=` and `--group=` that dnsmasq can always switch to: as root `nobody` and its own
/// group (dnsmasq's default group `dip` may not exist), otherwise the running user, which
/// means no switch at all.
fn user_and_group() -> [String; 2] {
    let id = |args: &[&str]| -> String {
        let out = Command::new("id")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("id {args:?}: {e}"));
        assert!(out.status.success(), "id {args:?} failed");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let (user, group) = if unsafe { libc::geteuid() } == 0 {
        ("nobody".to_string(), id(&["-gn", "nobody"]))
    } else {
        (id(&["-un"]), id(&["-gn"]))
    };
    [format!("--user={user}"), format!("--group={group}")]
}

/// The dnsmasq configuration lines serving `txt` and an A record for each domain holding them.
fn records(txt: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut domains: Vec<String> = Vec::new();
    for (name, text) in txt {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        assert!(
            !name.is_empty()
                && name.split('.').all(|l| {
                    !l.is_empty()
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }),
            "a test DNS name is plain ASCII labels: {name:?}"
        );
        let line = format!("txt-record={name},{}\n", quoted_strings(text));
        assert!(
            line.len() < MAX_LINE,
            "the TXT record of {name} is too long for dnsmasq ({} bytes, at most {MAX_LINE})",
            line.len()
        );
        out.push_str(&line);
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() >= 2 {
            let domain = labels[labels.len() - 2..].join(".");
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
    }
    for domain in domains {
        out.push_str(&format!("host-record={domain},127.0.0.1\n"));
    }
    out
}

/// `text` as dnsmasq's comma-separated, double-quoted character-strings of at most 255 bytes
/// each (split on byte boundaries; a test text is ASCII).
fn quoted_strings(text: &str) -> String {
    assert!(
        text.bytes().all(|b| (0x20..0x7f).contains(&b)),
        "a test TXT record is printable ASCII: {text:?}"
    );
    let bytes = text.as_bytes();
    let chunks: Vec<&[u8]> = if bytes.is_empty() {
        vec![&[][..]]
    } else {
        bytes.chunks(255).collect()
    };
    chunks
        .iter()
        .map(|c| {
            let s = std::str::from_utf8(c).unwrap();
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A loopback port free right now for both UDP and TCP.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// True when a DNS server on the loopback port answers a TXT query (for `ready.invalid`, an
/// NXDOMAIN: any answer with our id will do).
fn answers(port: u16) -> bool {
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = sock.set_read_timeout(Some(Duration::from_millis(200)));
    let id: u16 = 0x5a17;
    let mut query = Vec::new();
    query.extend_from_slice(&id.to_be_bytes());
    // Flags: recursion desired; one question, no other records.
    query.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in ["ready", "invalid"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.push(0);
    query.extend_from_slice(&[0, 16, 0, 1]); // TXT, IN
    if sock.send_to(&query, ("127.0.0.1", port)).is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    match sock.recv_from(&mut buf) {
        // Our id, and the QR bit (a response).
        Ok((n, _)) => n >= 12 && buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0,
        Err(_) => false,
    }
}
