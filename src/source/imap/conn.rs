//! # Connecting and logging in
//!
//! One boxed stream type serves implicit TLS, STARTTLS and (loopback only) plaintext; TLS is
//! rustls with the ring provider, trusting the system roots or the configured CA file. Every
//! command runs under a timeout: async-imap has none of its own, and a FETCH on a dead
//! connection would otherwise wait forever.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session as ImapSession};
use futures::TryStreamExt as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};

use crate::config::imap::{Auth, Imap, Security};

/// The byte stream under a session, whatever protects it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Io for T {}

/// A logged-in IMAP session.
pub type Session = ImapSession<Box<dyn Io>>;

/// What went wrong talking to the IMAP server.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The TCP connection could not be made.
    #[error("cannot connect to {addr}")]
    Connect {
        /// host:port
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The trust anchors could not be loaded.
    #[error("TLS trust anchors: {0}")]
    Trust(String),
    /// The TLS handshake failed (certificate not trusted, wrong name, protocol).
    #[error("TLS handshake with {host}")]
    Tls {
        /// The name the certificate must carry.
        host: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server closed the connection or sent no greeting.
    #[error("no IMAP greeting from {0}")]
    Greeting(String),
    /// The password or token could not be read.
    #[error("the password for {user}: {reason}")]
    Secret {
        /// The login name.
        user: String,
        /// Where it was looked for.
        reason: String,
    },
    /// The server refused the login.
    #[error("login as {user} refused")]
    Login {
        /// The login name.
        user: String,
        /// The server's answer.
        #[source]
        source: async_imap::error::Error,
    },
    /// A command did not complete in time: the connection is deemed dead.
    #[error("{what} took longer than {secs} s")]
    Timeout {
        /// The command.
        what: &'static str,
        /// The limit.
        secs: u64,
    },
    /// A command failed (the server said NO or BAD, or the connection broke).
    #[error("{what} failed")]
    Command {
        /// The command.
        what: &'static str,
        /// The cause.
        #[source]
        source: async_imap::error::Error,
    },
    /// The mailbox has no UIDVALIDITY, so UIDs cannot be trusted.
    #[error("mailbox {0} reports no UIDVALIDITY")]
    NoUidValidity(String),
    /// The mailbox changed under us between listing and acting.
    #[error("{0}")]
    Changed(String),
    /// The sync state could not be read or written in the store.
    #[error("the store: {0}")]
    Store(String),
}

impl ImapError {
    /// The connection broke or stopped answering (as opposed to a refusal or our own state).
    pub fn is_connection(&self) -> bool {
        match self {
            ImapError::Timeout { .. } | ImapError::Connect { .. } | ImapError::Greeting(_) => true,
            ImapError::Command { source, .. } => !matches!(
                source,
                async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_)
            ),
            _ => false,
        }
    }
}

impl From<ImapError> for std::io::Error {
    fn from(e: ImapError) -> Self {
        std::io::Error::other(e)
    }
}

/// The server's capabilities that change what we do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    /// RFC 2177 IDLE.
    pub idle: bool,
    /// RFC 6851 MOVE.
    pub mv: bool,
    /// RFC 4315 UIDPLUS (UID EXPUNGE).
    pub uidplus: bool,
}

/// Runs a command under a timeout.
pub async fn within<T>(
    limit: Duration,
    what: &'static str,
    fut: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(source)) => Err(ImapError::Command { what, source }),
        Err(_) => Err(ImapError::Timeout {
            what,
            secs: limit.as_secs(),
        }),
    }
}

/// `UID FETCH set query`, all responses collected, under a timeout.
pub async fn uid_fetch(
    session: &mut Session,
    limit: Duration,
    set: &str,
    query: &str,
) -> Result<Vec<async_imap::types::Fetch>, ImapError> {
    within(limit, "UID FETCH", async {
        session.uid_fetch(set, query).await?.try_collect().await
    })
    .await
}

/// Connects, protects, logs in and reads the capabilities.
pub async fn open(s: &Imap) -> Result<(Session, Caps), ImapError> {
    let addr = format!("{}:{}", s.host, s.port);
    let connect_limit = s.timeout.min(Duration::from_secs(10));
    let tcp =
        match tokio::time::timeout(connect_limit, TcpStream::connect((s.host.as_str(), s.port)))
            .await
        {
            Ok(Ok(t)) => t,
            Ok(Err(source)) => return Err(ImapError::Connect { addr, source }),
            Err(_) => {
                return Err(ImapError::Timeout {
                    what: "connect",
                    secs: connect_limit.as_secs(),
                });
            }
        };
    let _ = tcp.set_nodelay(true);
    let client = match s.security {
        Security::Tls => {
            let tls = handshake(s, tcp).await?;
            greeted(s, Client::new(Box::new(tls) as Box<dyn Io>)).await?
        }
        Security::StartTls => {
            let mut plain = greeted(s, Client::new(Box::new(tcp) as Box<dyn Io>)).await?;
            within(
                s.timeout,
                "STARTTLS",
                plain.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            // No second greeting after STARTTLS (RFC 3501 §6.2.1).
            let tls = handshake(s, plain.into_inner()).await?;
            Client::new(Box::new(tls) as Box<dyn Io>)
        }
        Security::Plain => greeted(s, Client::new(Box::new(tcp) as Box<dyn Io>)).await?,
    };
    let secret = s.secret.read().map_err(|reason| ImapError::Secret {
        user: s.user.clone(),
        reason,
    })?;
    let login = async {
        match s.auth {
            Auth::Login => client.login(&s.user, secret.expose()).await,
            Auth::Plain => {
                client
                    .authenticate("PLAIN", Sasl(format!("\0{}\0{}", s.user, secret.expose())))
                    .await
            }
            Auth::XOAuth2 => {
                let token = format!("user={}\x01auth=Bearer {}\x01\x01", s.user, secret.expose());
                client.authenticate("XOAUTH2", Sasl(token)).await
            }
        }
    };
    let mut session = match tokio::time::timeout(s.timeout, login).await {
        Ok(Ok(session)) => session,
        Ok(Err((source, _))) => {
            return Err(ImapError::Login {
                user: s.user.clone(),
                source,
            });
        }
        Err(_) => {
            return Err(ImapError::Timeout {
                what: "login",
                secs: s.timeout.as_secs(),
            });
        }
    };
    let caps = within(s.timeout, "CAPABILITY", session.capabilities()).await?;
    let caps = Caps {
        idle: caps.has_str("IDLE"),
        mv: caps.has_str("MOVE"),
        uidplus: caps.has_str("UIDPLUS"),
    };
    Ok((session, caps))
}

/// A SASL mechanism with a single response (PLAIN, XOAUTH2). On an XOAUTH2 failure the
/// server sends a JSON challenge that must be answered with an empty line.
struct Sasl(String);

impl async_imap::Authenticator for Sasl {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        std::mem::take(&mut self.0)
    }
}

async fn greeted(
    s: &Imap,
    mut client: Client<Box<dyn Io>>,
) -> Result<Client<Box<dyn Io>>, ImapError> {
    use async_imap::imap_proto::{Response, Status};
    let first = tokio::time::timeout(s.timeout, client.read_response())
        .await
        .map_err(|_| ImapError::Timeout {
            what: "greeting",
            secs: s.timeout.as_secs(),
        })?
        .map_err(|source| ImapError::Connect {
            addr: format!("{}:{}", s.host, s.port),
            source,
        })?;
    match first.as_ref().map(|r| r.parsed()) {
        Some(Response::Data {
            status: Status::Ok | Status::PreAuth,
            ..
        }) => Ok(client),
        _ => Err(ImapError::Greeting(format!("{}:{}", s.host, s.port))),
    }
}

async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    s: &Imap,
    io: S,
) -> Result<tokio_rustls::client::TlsStream<S>, ImapError> {
    let config = tls_config(s)?;
    let name = ServerName::try_from(s.host.clone())
        .map_err(|e| ImapError::Trust(format!("\"{}\" is not a valid server name: {e}", s.host)))?;
    let connect = TlsConnector::from(Arc::new(config)).connect(name, io);
    match tokio::time::timeout(s.timeout, connect).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(source)) => Err(ImapError::Tls {
            host: s.host.clone(),
            source,
        }),
        Err(_) => Err(ImapError::Timeout {
            what: "TLS handshake",
            secs: s.timeout.as_secs(),
        }),
    }
}

/// The client's TLS configuration: the CA file when one is configured (a private server),
/// the system's roots otherwise. Only the ring provider is built in.
pub fn tls_config(s: &Imap) -> Result<ClientConfig, ImapError> {
    let mut roots = RootCertStore::empty();
    match &s.ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| ImapError::Trust(format!("cannot read {}: {e}", path.display())))?;
            let mut n = 0;
            for cert in rustls_pemfile::certs(&mut &pem[..]) {
                let cert =
                    cert.map_err(|e| ImapError::Trust(format!("{}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| ImapError::Trust(format!("{}: {e}", path.display())))?;
                n += 1;
            }
            if n == 0 {
                return Err(ImapError::Trust(format!(
                    "{} holds no PEM certificate",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(ImapError::Trust(
                    "no system root certificates found; install ca-certificates or set ca_file"
                        .into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Trust(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
