//! A private SMTP submission server for the integration tests, in front of the tests' private
//! Dovecot: Python's `aiosmtpd` (`smtp_relay.py` beside this file, run with `/usr/bin/python3`)
//! on a loopback port chosen free at run time, with STARTTLS or implicit TLS (Dovecot's
//! self-signed certificate) and AUTH PLAIN / LOGIN for one account, handing every message to
//! Dovecot over LMTP and answering with Dovecot's verdict (550 for a recipient with no
//! mailbox, 451 when Dovecot is unreachable). Mail sent through it ends up in a real IMAP
//! mailbox. Readiness is the `220` greeting (over TLS in implicit-TLS mode), not an open port.
//! Stopped when dropped.
//!
//! A test file includes it beside Dovecot:
//! `#[path = "common/dovecot.rs"] mod dovecot;` and `#[path = "common/smtp.rs"] mod smtp;`.
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dovecot::Dovecot;

/// The relay's address (its certificate names `127.0.0.1` and `localhost`; bound on IPv4 only).
pub const HOST: &str = "127.0.0.1";
/// The account that may send through the relay.
pub const SMTP_USER: &str = "intake@skhdt.langson.example";
const SMTP_PASSWORD: &str = "subm1t pw-7 x";
const SCRIPT: &str = include_str!("smtp_relay.py");

/// How a client reaches the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// Plain connection, `STARTTLS` required before AUTH (port 587 style).
    StartTls,
    /// TLS from the first byte (port 465 style).
    Tls,
}

/// An AUTH mechanism for [`Smtp::submit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

/// The relay's last reply to a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The SMTP code (250 for a message taken; 0 when there was no reply: refused connection,
    /// TLS failure, timeout).
    pub code: u16,
    /// The reply's text, or what went wrong.
    pub message: String,
    /// Where the exchange ended: `connect`, `auth`, `mail`, `rcpt` or `data`.
    pub stage: String,
}

/// A running relay.
pub struct Smtp {
    dir: tempfile::TempDir,
    /// The port it listens on (loopback).
    pub port: u16,
    /// How clients reach it.
    pub mode: SmtpMode,
    /// The login name AUTH accepts.
    pub user: String,
    /// A file whose first line is the password.
    pub password_file: PathBuf,
    /// The server certificate (PEM), which is also the trust anchor the client is given.
    pub cert: PathBuf,
    /// Dovecot's LMTP port, where mail goes.
    pub lmtp_port: u16,
    child: Option<Child>,
}

impl Smtp {
    /// Starts a relay to `dovecot`'s LMTP; panics with how to install aiosmtpd when it is
    /// missing.
    pub fn start(dovecot: &Dovecot, mode: SmtpMode) -> Smtp {
        let found = Command::new("/usr/bin/python3")
            .args(["-c", "import aiosmtpd"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            panic!("python3-aiosmtpd is not installed: apt-get install -y python3-aiosmtpd");
        }
        let dir = tempfile::Builder::new()
            .prefix("smtp")
            .tempdir_in("/tmp")
            .unwrap();
        let d = dir.path();
        std::fs::write(d.join("smtp_relay.py"), SCRIPT).unwrap();
        // Copies, so the relay outlives a Dovecot restart or drop.
        let cert = d.join("cert.pem");
        std::fs::copy(&dovecot.cert, &cert).unwrap();
        std::fs::copy(dovecot.key(), d.join("key.pem")).unwrap();
        let password_file = d.join("client-password");
        std::fs::write(&password_file, format!("{SMTP_PASSWORD}\n")).unwrap();
        let mut smtp = Smtp {
            dir,
            port: crate::dovecot::free_port(),
            mode,
            user: SMTP_USER.into(),
            password_file,
            cert,
            lmtp_port: dovecot.lmtp_port,
            child: None,
        };
        smtp.launch();
        smtp
    }

    /// The folder holding the script, certificate, logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The password AUTH accepts (the first line of `password_file`).
    pub fn password(&self) -> String {
        SMTP_PASSWORD.into()
    }

    /// What the relay itself wrote to stderr (aiosmtpd's warnings, a failure to bind).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("relay.log")).unwrap_or_default()
    }

    fn launch(&mut self) {
        let d = self.dir.path();
        let start = Instant::now();
        // Right after a stop the port may stay busy for a second or two: start again until
        // the greeting comes.
        loop {
            let stderr = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(d.join("relay.log"))
                .unwrap();
            let mut child = Command::new("/usr/bin/python3")
                .arg(d.join("smtp_relay.py"))
                .arg("--port")
                .arg(self.port.to_string())
                .arg("--lmtp-port")
                .arg(self.lmtp_port.to_string())
                .arg("--cert")
                .arg(&self.cert)
                .arg("--key")
                .arg(d.join("key.pem"))
                .arg("--user")
                .arg(&self.user)
                .arg("--password-file")
                .arg(&self.password_file)
                .arg("--mode")
                .arg(match self.mode {
                    SmtpMode::StartTls => "starttls",
                    SmtpMode::Tls => "tls",
                })
                .arg("--log")
                .arg(d.join("accepted.jsonl"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("/usr/bin/python3 runs");
            let tried = Instant::now();
            while tried.elapsed() < Duration::from_secs(5) {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if self.greeting() {
                    self.child = Some(child);
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the SMTP relay gave no greeting on port {}; its log:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// True when the relay answers with a `220` greeting (read over TLS in implicit-TLS
    /// mode, checking the certificate).
    fn greeting(&self) -> bool {
        let Ok(s) = TcpStream::connect_timeout(
            &format!("{HOST}:{}", self.port).parse().unwrap(),
            Duration::from_millis(500),
        ) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(1000)));
        let _ = s.set_write_timeout(Some(Duration::from_millis(1000)));
        let mut line = String::new();
        match self.mode {
            SmtpMode::StartTls => {
                let ok = BufReader::new(&s).read_line(&mut line).is_ok();
                let _ = (&s).write_all(b"QUIT\r\n");
                ok && line.starts_with("220")
            }
            SmtpMode::Tls => {
                let mut tls = rustls::StreamOwned::new(self.tls_client(), s);
                let ok = BufReader::new(&mut tls).read_line(&mut line).is_ok();
                let _ = tls.write_all(b"QUIT\r\n");
                ok && line.starts_with("220")
            }
        }
    }

    fn tls_client(&self) -> rustls::ClientConnection {
        let pem = std::fs::read(&self.cert).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut &pem[..]) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(HOST).unwrap();
        rustls::ClientConnection::new(Arc::new(config), name).unwrap()
    }

    /// Stops the relay (SIGTERM, then SIGKILL after 10 s) and waits until its port no longer
    /// takes connections.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let addr = format!("{HOST}:{}", self.port).parse().unwrap();
        let start = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            && start.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the relay again on the same port (after [`Smtp::stop`]).
    pub fn start_again(&mut self) {
        self.stop();
        self.launch();
    }

    /// One JSON object per message the relay delivered, in order:
    /// `{"message_id", "rcpt": [...], "mail_from", "bytes"}` (and `"refused"` when some
    /// recipient did not get it). Written before the relay's `250`, so complete as soon as a
    /// client has been told its message was taken.
    pub fn accepted(&self) -> Vec<serde_json::Value> {
        let text =
            std::fs::read_to_string(self.dir.path().join("accepted.jsonl")).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }

    /// Submits a message through the relay with Python's `smtplib` (STARTTLS or SMTP_SSL,
    /// trusting [`Smtp::cert`], AUTH PLAIN with the relay's password), asserting it was taken.
    pub fn send(&self, from: &str, to: &[&str], raw: &[u8]) {
        let reply = self.submit(from, to, raw, &self.password(), Mechanism::Plain);
        assert!(
            reply.code == 250 && reply.stage == "data",
            "the relay did not take the message: {reply:?}\nits log:\n{}",
            self.log()
        );
    }

    /// Submits a message with `password` over `mechanism` and returns the relay's last reply
    /// (the exchange stops at the first refusal). Panics when the client gets no answer within
    /// 30 s (smtplib's own timeout is 10 s per operation).
    pub fn submit(
        &self,
        from: &str,
        to: &[&str],
        raw: &[u8],
        password: &str,
        mechanism: Mechanism,
    ) -> Reply {
        let mut child = Command::new("/usr/bin/python3")
            .args([
                "-c",
                CLIENT,
                match self.mode {
                    SmtpMode::StartTls => "starttls",
                    SmtpMode::Tls => "tls",
                },
                &self.port.to_string(),
                self.cert.to_str().unwrap(),
                &self.user,
                match mechanism {
                    Mechanism::Plain => "PLAIN",
                    Mechanism::Login => "LOGIN",
                },
                from,
                &serde_json::to_string(to).unwrap(),
            ])
            .env("PASSWORD", password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("/usr/bin/python3 runs");
        child.stdin.take().unwrap().write_all(raw).unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the SMTP client got no answer in 30 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("the SMTP client failed ({e}): {stdout}{stderr}"));
        Reply {
            code: v["code"].as_u64().unwrap() as u16,
            message: v["message"].as_str().unwrap().to_string(),
            stage: v["stage"].as_str().unwrap().to_string(),
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `smtplib` submitting one message (argv: mode, port, CA file, user, mechanism, from,
/// recipients as JSON; the password in `$PASSWORD`, the message on stdin), printing the last
/// reply as `{"code", "message", "stage"}`.
const CLIENT: &str = r#"
import json, os, smtplib, ssl, sys
mode, port, cafile, user, mech, mail_from = sys.argv[1:7]
rcpts = json.loads(sys.argv[7])
raw = sys.stdin.buffer.read()
stage = "connect"
def done(code, message):
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    print(json.dumps({"code": code, "message": str(message), "stage": stage}))
    sys.exit(0)
try:
    ctx = ssl.create_default_context(cafile=cafile)
    if mode == "tls":
        s = smtplib.SMTP_SSL("127.0.0.1", int(port), local_hostname="localhost", timeout=10, context=ctx)
    else:
        s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="localhost", timeout=10)
        s.starttls(context=ctx)
    s.ehlo()
    stage = "auth"
    s.user, s.password = user, os.environ["PASSWORD"]
    s.auth(mech, getattr(s, "auth_" + mech.lower()))
    stage = "mail"
    code, msg = s.mail(mail_from)
    if code != 250:
        done(code, msg)
    stage = "rcpt"
    for r in rcpts:
        code, msg = s.rcpt(r)
        if code not in (250, 251):
            done(code, msg)
    stage = "data"
    code, msg = s.data(raw)
    try:
        s.quit()
    except Exception:
        pass
    done(code, msg)
except smtplib.SMTPResponseException as e:
    done(e.smtp_code, e.smtp_error)
except (OSError, smtplib.SMTPException) as e:
    done(0, f"{type(e).__name__}: {e}")
"#;
