//! A private PostgreSQL for the tests of the shared index: a cluster made with `initdb` in a
//! temporary folder, a login with a password (SCRAM), listening on a loopback port chosen
//! free at run time and on a socket in its own folder. As root it runs as the `postgres`
//! user (initdb refuses root). Stopped (immediately) when dropped.
#![allow(dead_code)] // each test file uses a different part of this module

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The login the tests use.
pub const USER: &str = "intake";
/// Its password.
pub const PASSWORD: &str = "pg pw-42";

/// A running private PostgreSQL.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Its loopback port.
    pub port: u16,
    child: Option<Child>,
}

fn find_bin() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = path.split(':').map(PathBuf::from).collect();
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = rd.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        dirs.extend(versions.into_iter().rev());
    }
    dirs.into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("postgres").is_file())
}

fn as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `program args` as the server's user.
fn command(bin: &Path, program: &str) -> Command {
    if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    }
}

impl Postgres {
    /// Makes and starts a cluster; fails, saying how to install PostgreSQL, when it is not
    /// there.
    pub fn start() -> Postgres {
        Self::start_with(false)
    }

    /// [`Postgres::start`], serving TLS with a self-signed, non-CA certificate for 127.0.0.1
    /// ([`Postgres::certificate`]).
    pub fn start_with_tls() -> Postgres {
        Self::start_with(true)
    }

    /// The server's certificate (its own trust anchor), when it serves TLS.
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("server.crt")
    }

    fn start_with(tls: bool) -> Postgres {
        let bin = find_bin().unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server programs (initdb, postgres) are not installed: \
                 apt-get install postgresql"
            )
        });
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        if tls {
            let out = Command::new("openssl")
                .args([
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
                ])
                .arg(dir.path().join("server.key"))
                .arg("-out")
                .arg(dir.path().join("server.crt"))
                .output()
                .expect("openssl runs");
            assert!(
                out.status.success(),
                "openssl: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::set_permissions(
                dir.path().join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        if as_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown to postgres");
        }
        let out = command(&bin, "initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = command(&bin, "postgres")
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(dir.path())
            .args(["-c", "fsync=off", "-c", "max_connections=200"])
            .args(if tls {
                vec![
                    "-c".to_string(),
                    "ssl=on".to_string(),
                    "-c".to_string(),
                    format!("ssl_cert_file={}", dir.path().join("server.crt").display()),
                    "-c".to_string(),
                    format!("ssl_key_file={}", dir.path().join("server.key").display()),
                ]
            } else {
                Vec::new()
            })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        let mut pg = Postgres {
            dir,
            bin,
            port,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() && pg.client("postgres").is_ok() {
                break;
            }
            if let Some(Ok(Some(status))) = pg.child.as_mut().map(Child::try_wait) {
                panic!("postgres exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pg
    }

    /// The address of `database`, without the password (as the configuration names it).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// A client of `database` (without TLS; a TLS server takes both).
    pub fn client(&self, database: &str) -> Result<postgres::Client, postgres::Error> {
        let mut config: postgres::Config = self.url(database).parse().unwrap();
        config.password(PASSWORD);
        config.connect(postgres::NoTls)
    }

    /// Makes a new, empty database.
    pub fn database(&self, name: &str) {
        self.client("postgres")
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
    }

    /// Stops the server now.
    pub fn stop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
