//! # The SMTP transport
//!
//! Submits mail to the department's server with lettre's asynchronous transport on a tokio
//! runtime of its own: implicit TLS or STARTTLS through rustls (system roots, plus `ca_file`
//! for a private server), AUTH when an account is configured, a pool of connections kept
//! below the server's idle limit, and a timeout on every exchange. The server's answer
//! decides the outcome: 2xx sent, 5xx refused for good, anything else tried again.

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Failure, Transport};
use crate::config::imap::Security;
use crate::config::smtp::Smtp;

/// The SMTP transport.
pub struct SmtpTransport {
    runtime: tokio::runtime::Runtime,
    // Some until dropped: the pool spawns tasks when made and when dropped, both inside the
    // runtime.
    inner: Option<AsyncSmtpTransport<Tokio1Executor>>,
    name: String,
    timeout: std::time::Duration,
}

impl SmtpTransport {
    /// Prepares the transport (no connection is made until the first mail); the error says
    /// what in the settings is unusable.
    pub fn new(s: &Smtp) -> Result<SmtpTransport, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the SMTP runtime: {e}"))?;
        let tls = || -> Result<TlsParameters, String> {
            let mut b = TlsParameters::builder(s.host.clone());
            if let Some(ca) = &s.ca_file {
                let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| format!("{}: not a PEM certificate: {e}", ca.display()))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(|e| format!("TLS settings: {e}"))
        };
        let tls = match s.security {
            Security::Tls => Tls::Wrapper(tls()?),
            Security::StartTls => Tls::Required(tls()?),
            Security::Plain => Tls::None,
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port)
            .tls(tls)
            .timeout(Some(s.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(s.max_connections)
                    .idle_timeout(s.pool_idle),
            );
        if let Some(name) = &s.helo_name {
            b = b.hello_name(ClientId::Domain(name.clone()));
        }
        if let Some((user, secret)) = &s.auth {
            let password = secret.read()?;
            b = b.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        let inner = {
            let _inside = runtime.enter();
            b.build()
        };
        Ok(SmtpTransport {
            runtime,
            inner: Some(inner),
            name: format!("smtp://{}:{}", s.host, s.port),
            timeout: s.timeout,
        })
    }

    /// Connects and greets the server, for `intake doctor`.
    pub fn check(&self) -> Result<bool, String> {
        let inner = self.inner.as_ref().expect("present until dropped");
        self.runtime
            .block_on(inner.test_connection())
            .map_err(|e| error_text(&e))
    }
}

impl Drop for SmtpTransport {
    fn drop(&mut self) {
        let _inside = self.runtime.enter();
        self.inner.take();
    }
}

impl Transport for SmtpTransport {
    fn send(&mut self, _id: i64, message: &Message) -> Result<String, Failure> {
        // lettre's timeout covers each exchange; this one bounds the whole submission.
        let whole = self.timeout * 4;
        let inner = self.inner.as_ref().expect("present until dropped");
        let sent = self
            .runtime
            .block_on(async { tokio::time::timeout(whole, inner.send(message.clone())).await });
        match sent {
            Ok(Ok(response)) => Ok(format!(
                "{} {}",
                self.name,
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Ok(Err(e)) => Err(Failure {
                transient: !e.is_permanent(),
                // No answer from the server at all: the next mail would fare no better.
                unreachable: e.status().is_none() && !e.is_permanent(),
                reason: error_text(&e),
            }),
            Err(_) => Err(Failure {
                transient: true,
                unreachable: true,
                reason: format!("no answer from {} within {:?}", self.name, whole),
            }),
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// The error with its causes (lettre's own text omits the underlying IO error).
fn error_text(e: &lettre::transport::smtp::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}
