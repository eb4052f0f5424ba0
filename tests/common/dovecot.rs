//! A private Dovecot for the IMAP tests: started on loopback ports chosen free at run time,
//! with TLS from a self-signed, non-CA certificate made here with `openssl`, users from a
//! passwd-file, and Maildir storage in a temporary folder. As root it runs as `nobody` (as
//! root its login processes refuse clients while the port stays open), so readiness is the
//! IMAP greeting, not an open port. Stopped when dropped.
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use intake::config::imap::{Auth, Imap, ImapAction, Security};
use intake::config::secret::SecretSource;

/// The test account.
pub const USER: &str = "alice";
/// The password of every account (also the first line of [`Dovecot::password_file`]).
pub const PASSWORD: &str = "s3cret pw-42";

/// A running private Dovecot.
pub struct Dovecot {
    dir: tempfile::TempDir,
    /// The configuration file (for `doveadm -c`).
    pub conf: PathBuf,
    /// STARTTLS (and loopback plaintext) port.
    pub imap_port: u16,
    /// Implicit-TLS port.
    pub imaps_port: u16,
    /// LMTP port.
    pub lmtp_port: u16,
    /// The server certificate, which is also the trust anchor the client is given.
    pub cert: PathBuf,
    /// The password file the client reads.
    pub password_file: PathBuf,
    run_as: Option<(u32, u32)>,
    child: Option<Child>,
}

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin"])
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `uid:gid` of `nobody` when we are root (Dovecot must not run as root here), else `None`.
fn unprivileged() -> Option<(u32, u32)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let id = |flag: &str| -> u32 {
        run(Command::new("id").args([flag, "nobody"]))
            .trim()
            .parse()
            .expect("numeric id")
    };
    Some((id("-u"), id("-g")))
}

impl Dovecot {
    /// Starts a Dovecot with user `alice`; panics with how to install it when it is missing.
    pub fn start() -> Dovecot {
        Dovecot::start_with_users(&[])
    }

    /// Starts a Dovecot with user `alice` and `users` (e.g. `so-y-te`), all with alice's
    /// password. Logins and LMTP recipients are looked up by their local part only
    /// (`username_format=%n`): `so-y-te@langson.example` is delivered to `so-y-te`'s INBOX,
    /// and a recipient with no account is refused with `550 5.1.1`.
    pub fn start_with_users(users: &[&str]) -> Dovecot {
        let dovecot = find("dovecot");
        let doveadm = find("doveadm");
        if dovecot.is_none() || doveadm.is_none() {
            panic!("dovecot is not installed: apt-get install -y dovecot-imapd dovecot-lmtpd");
        }
        // Unix socket paths must stay short (~108 bytes): a short folder right under /tmp.
        let dir = tempfile::Builder::new()
            .prefix("dc")
            .tempdir_in("/tmp")
            .unwrap();
        let d = dir.path();
        let run_as = unprivileged();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let cert = d.join("cert.pem");
        let key = d.join("key.pem");
        run(Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ]));
        let password_file = d.join("client-password");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        let mut names = vec![USER];
        for u in users {
            assert!(
                !u.is_empty()
                    && u.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
                "a test user name is a plain local part: {u:?}"
            );
            if !names.contains(u) {
                names.push(u);
            }
        }
        let passwd: String = names
            .iter()
            .map(|u| format!("{u}:{{PLAIN}}{PASSWORD}:::::\n"))
            .collect();
        std::fs::write(d.join("passwd"), passwd).unwrap();
        let (user, group, uid, gid) = match run_as {
            Some((uid, gid)) => {
                let group = run(Command::new("id").args(["-gn", "nobody"]));
                ("nobody".to_string(), group.trim().to_string(), uid, gid)
            }
            None => {
                let name = run(Command::new("id").arg("-un"));
                let group = run(Command::new("id").arg("-gn"));
                let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
                (name.trim().to_string(), group.trim().to_string(), uid, gid)
            }
        };
        let (imap_port, imaps_port, lmtp_port) = (free_port(), free_port(), free_port());
        let p = d.display();
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        let conf = d.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                r#"instance_name = intake-{name}
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {p}/run
state_dir = {p}/state
log_path = {p}/dovecot.log
info_log_path = {p}/dovecot.log
ssl = yes
ssl_cert = <{p}/cert.pem
ssl_key = <{p}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:{p}/mail/%n
mail_fsync = never
# The fixtures' own Received headers (July 2018) stay the newest, so the example campaign,
# which ran then, is open when they arrive.
lmtp_add_received_header = no
# Process titles show each session's user and state (IDLE), so a test can pick one.
verbose_proctitle = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {p}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={p}/mail/%n
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
"#
            ),
        )
        .unwrap();
        if run_as.is_some() {
            run(Command::new("chown").args(["-R", &format!("{uid}:{gid}"), d.to_str().unwrap()]));
        }
        let mut dc = Dovecot {
            dir,
            conf,
            imap_port,
            imaps_port,
            lmtp_port,
            cert,
            password_file,
            run_as,
            child: None,
        };
        dc.launch();
        dc
    }

    /// The folder holding the configuration, logs and mail.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Alice's Maildir.
    pub fn maildir(&self) -> PathBuf {
        self.maildir_of(USER)
    }

    /// A user's Maildir (made by Dovecot at the first delivery).
    pub fn maildir_of(&self, user: &str) -> PathBuf {
        self.dir.path().join("mail").join(user)
    }

    /// The server's private key (PEM), the pair of [`Dovecot::cert`].
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// How many messages a user's INBOX holds, counted cheaply as the files in its Maildir's
    /// `new/` and `cur/` (for polling in a loop; no IMAP session).
    pub fn count_new(&self, user: &str) -> usize {
        let md = self.maildir_of(user);
        ["new", "cur"]
            .iter()
            .map(|sub| {
                std::fs::read_dir(md.join(sub)).map_or(0, |rd| {
                    rd.flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .count()
                })
            })
            .sum()
    }

    /// Every message in a user's INBOX, in UID order, as the raw bytes an IMAP client reads
    /// (`BODY.PEEK[]`, so nothing is marked seen), fetched by Python's `imaplib` (a client no
    /// one here wrote) over STARTTLS on the IMAP port, trusting [`Dovecot::cert`].
    pub fn fetch_all(&self, user: &str) -> Vec<Vec<u8>> {
        let out = Command::new("/usr/bin/python3")
            .args([
                "-c",
                FETCH_ALL,
                &self.imap_port.to_string(),
                self.cert.to_str().unwrap(),
                user,
            ])
            .env("PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .output()
            .expect("/usr/bin/python3 runs");
        assert!(
            out.status.success(),
            "reading {user}'s INBOX with imaplib failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Each message as a 4-byte big-endian length and its bytes.
        let mut messages = Vec::new();
        let mut rest = &out.stdout[..];
        while !rest.is_empty() {
            let (len, tail) = rest.split_at(4);
            let n = u32::from_be_bytes(len.try_into().unwrap()) as usize;
            messages.push(tail[..n].to_vec());
            rest = &tail[n..];
        }
        messages
    }

    fn launch(&mut self) {
        let start = Instant::now();
        // Right after a stop the ports may stay busy for a second or two: start again until
        // the greeting comes.
        loop {
            let mut cmd = Command::new("dovecot");
            // What dovecot says before its log is open goes to a file of its own.
            let stderr = std::fs::File::create(self.dir.path().join("dovecot.stderr"))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null());
            cmd.args(["-F", "-c"])
                .arg(&self.conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr);
            if let Some((uid, gid)) = self.run_as {
                cmd.uid(uid).gid(gid);
            }
            let mut child = cmd.spawn().expect("dovecot starts");
            let tried = Instant::now();
            while tried.elapsed() < Duration::from_secs(5) {
                if greeting(self.imap_port) {
                    self.child = Some(child);
                    return;
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            // A loaded machine (a whole test run on two cores) can be slow to bring it up.
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "dovecot gave no greeting; its log:\n{}\nits stderr:\n{}",
                std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default(),
                std::fs::read_to_string(self.dir.path().join("dovecot.stderr")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s).
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
            std::thread::sleep(Duration::from_millis(20));
        }
        // Session processes outlive a master stopped this way (a service manager would stop
        // the whole group): end them too, so clients see the server go, as on a real restart.
        for signal in [libc::SIGTERM, libc::SIGKILL] {
            let left = self.orphans();
            for pid in &left {
                unsafe { libc::kill(*pid, signal) };
            }
            let start = Instant::now();
            while !self.orphans().is_empty() && start.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Wait until the IMAP port no longer answers.
        let start = Instant::now();
        while greeting(self.imap_port) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Processes of this instance still running (their titles start with its name).
    fn orphans(&self) -> Vec<i32> {
        let prefix = format!("dovecot-intake-{}/", self.name());
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.starts_with(prefix.as_bytes()))
            })
            .collect()
    }

    fn name(&self) -> String {
        self.dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// Stops and starts the server on the same ports.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Delivers a message to alice by LMTP, through Python's `smtplib` (a client no one here
    /// wrote), as the mail system would.
    pub fn deliver(&self, raw: &[u8]) {
        let mut child = Command::new("/usr/bin/python3")
            .args([
                "-c",
                "import smtplib, sys\n\
                 s = smtplib.LMTP('127.0.0.1', int(sys.argv[1]))\n\
                 s.sendmail('mx@test.example', ['alice@localhost'], sys.stdin.buffer.read())\n\
                 s.quit()\n",
                &self.lmtp_port.to_string(),
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("/usr/bin/python3 runs");
        child.stdin.take().unwrap().write_all(raw).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "LMTP delivery failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Delivers many messages by LMTP in one session (for the benchmark's backlog).
    pub fn deliver_all(&self, messages: &[Vec<u8>]) {
        self.deliver_all_to(USER, messages);
    }

    /// Delivers many messages to `user`'s INBOX by LMTP in one session.
    pub fn deliver_all_to(&self, user: &str, messages: &[Vec<u8>]) {
        let mut child = Command::new("/usr/bin/python3")
            .args([
                "-c",
                "import smtplib, sys, struct\n\
                 s = smtplib.LMTP('127.0.0.1', int(sys.argv[1]))\n\
                 data = sys.stdin.buffer.read()\n\
                 i = 0\n\
                 while i < len(data):\n\
                 \x20   (n,) = struct.unpack('>I', data[i:i + 4])\n\
                 \x20   s.sendmail('mx@test.example', [sys.argv[2] + '@localhost'], data[i + 4:i + 4 + n])\n\
                 \x20   i += 4 + n\n\
                 s.quit()\n",
                &self.lmtp_port.to_string(),
                user,
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("/usr/bin/python3 runs");
        let mut input = Vec::new();
        for m in messages {
            input.extend_from_slice(&(m.len() as u32).to_be_bytes());
            input.extend_from_slice(m);
        }
        child.stdin.take().unwrap().write_all(&input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "LMTP delivery failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes a message straight into alice's Maildir, as an MTA delivering to Maildir does
    /// (works while Dovecot is down).
    pub fn deliver_to_maildir(&self, unique: &str, raw: &[u8]) {
        let md = self.maildir();
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(md.join(sub)).unwrap();
        }
        let tmp = md.join("tmp").join(unique);
        std::fs::write(&tmp, raw).unwrap();
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&tmp, Some(uid), Some(gid)).unwrap();
            std::os::unix::fs::chown(&md, Some(uid), Some(gid)).unwrap();
            for sub in ["tmp", "new", "cur"] {
                std::os::unix::fs::chown(md.join(sub), Some(uid), Some(gid)).unwrap();
            }
        }
        std::fs::rename(&tmp, md.join("new").join(unique)).unwrap();
    }

    /// The command lines of this server's IMAP session processes (with `verbose_proctitle`
    /// they read like `dovecot/imap [alice 127.0.0.1 IDLE]`), by process id.
    pub fn sessions(&self) -> Vec<(i32, String)> {
        let Some(master) = self.child.as_ref().map(|c| c.id() as i32) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Field 4 of stat, after the parenthesised name, is the parent's pid.
            let parent = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.split(' ').nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if parent == Some(master) && cmdline.contains("imap [") {
                out.push((pid, cmdline.trim().to_string()));
            }
        }
        out
    }

    /// Runs `doveadm -c CONF ARGS` and returns its output.
    pub fn doveadm(&self, args: &[&str]) -> String {
        run(Command::new("doveadm").arg("-c").arg(&self.conf).args(args))
    }

    /// (UID, flags) of every message in a mailbox (UTF-8 name), read with doveadm.
    pub fn messages(&self, mailbox: &str) -> Vec<(u32, String)> {
        self.messages_of(USER, mailbox)
    }

    /// (UID, flags) of every message in `user`'s mailbox (UTF-8 name).
    pub fn messages_of(&self, user: &str, mailbox: &str) -> Vec<(u32, String)> {
        let out = self.doveadm(&[
            "-f",
            "tab",
            "fetch",
            "-u",
            user,
            "uid flags",
            "mailbox",
            mailbox,
        ]);
        out.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (uid, flags) = l.split_once('\t').unwrap_or((l, ""));
                (uid.trim().parse().unwrap(), flags.trim().to_string())
            })
            .collect()
    }

    /// The client settings for alice's INBOX over `security`, with `on_filed`.
    pub fn settings(&self, security: Security, auth: Auth, on_filed: ImapAction) -> Imap {
        Imap {
            host: "127.0.0.1".into(),
            port: match security {
                Security::Tls => self.imaps_port,
                _ => self.imap_port,
            },
            security,
            ca_file: Some(self.cert.clone()),
            user: USER.into(),
            auth,
            secret: SecretSource::File(self.password_file.clone()),
            folder: "INBOX".into(),
            on_filed,
            idle: true,
            idle_renew: Duration::from_secs(300),
            poll: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `imaplib` reading every message of an INBOX (argv: port, CA file, user; the password in
/// `$PASSWORD`), written to stdout as length-prefixed frames.
const FETCH_ALL: &str = r#"
import imaplib, os, ssl, struct, sys
port, cafile, user = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4("127.0.0.1", port, timeout=10)
m.starttls(ssl.create_default_context(cafile=cafile))
m.login(user, os.environ["PASSWORD"])
typ, _ = m.select("INBOX", readonly=True)
assert typ == "OK", typ
typ, data = m.uid("SEARCH", None, "ALL")
assert typ == "OK", typ
out = sys.stdout.buffer
for uid in data[0].split():
    typ, data = m.uid("FETCH", uid, "(BODY.PEEK[])")
    assert typ == "OK", typ
    bodies = [part[1] for part in data if isinstance(part, tuple)]
    assert len(bodies) == 1, data
    out.write(struct.pack(">I", len(bodies[0])) + bodies[0])
m.logout()
"#;

/// True when an IMAP server on the port sends its greeting.
fn greeting(port: u16) -> bool {
    let Ok(s) = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_millis(500),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(1000)));
    let mut line = String::new();
    let ok = BufReader::new(&s).read_line(&mut line).is_ok() && line.starts_with("* OK");
    let _ = (&s).write_all(b"a LOGOUT\r\n");
    ok
}
