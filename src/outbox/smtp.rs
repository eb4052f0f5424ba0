//! # The SMTP transport
//!
//! Submits mail to the department's server with lettre's asynchronous transport on a tokio
//! runtime of its own: implicit TLS or STARTTLS through rustls (system roots, plus `ca_file`
//! for a private server), AUTH when an account is configured, a pool of connections kept
//! below the server's idle limit. lettre bounds the connection with the configured timeout;
//! this module bounds the whole submission too, in proportion to the mail's size. Each
//! recipient gets an envelope of its own, so one address that no longer exists does not stop
//! the mail to the others. The server's answer decides the [`Failure`]: a login or sender
//! refused, a dropped or silent connection make the server unusable (every mail waits); a 4xx
//! defers this mail; a 5xx to its recipient or data refuses it.

use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Delivered, Failure, Transport, TransportError};
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
    pub fn new(s: &Smtp) -> Result<SmtpTransport, TransportError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TransportError::Setup(format!("cannot start the SMTP runtime: {e}")))?;
        let tls = || -> Result<TlsParameters, TransportError> {
            let mut b = TlsParameters::builder(s.host.clone());
            if let Some(ca) = &s.ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| TransportError::Certificate(format!("{}: {e}", ca.display())))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    TransportError::Certificate(format!(
                        "{}: not a PEM certificate: {e}",
                        ca.display()
                    ))
                })?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls()
                .map_err(|e| TransportError::Setup(format!("TLS settings: {e}")))
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
            let password = secret.read().map_err(TransportError::Secret)?;
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

    /// Connects, greets the server and logs in, for `intake doctor`; bounded in time even
    /// when the server accepts the connection and never speaks (a TLS port spoken to in
    /// plain text, say).
    pub fn check(&self) -> Result<bool, String> {
        let inner = self.inner.as_ref().expect("present until dropped");
        let bound = self.timeout * 2;
        match self
            .runtime
            .block_on(async { tokio::time::timeout(bound, inner.test_connection()).await })
        {
            Ok(r) => r.map_err(|e| error_text(&e)),
            Err(_) => Err(format!(
                "no answer from {} within {bound:?}: check the port and security",
                self.name
            )),
        }
    }
}

impl Drop for SmtpTransport {
    fn drop(&mut self) {
        let _inside = self.runtime.enter();
        self.inner.take();
    }
}

impl Transport for SmtpTransport {
    fn send(&mut self, _id: i64, message: &Message) -> Result<Delivered, Failure> {
        let inner = self.inner.as_ref().expect("present until dropped");
        let raw = message.formatted();
        // Room for a slow link: the timeout, plus a second for every 64 KiB.
        let bound = self.timeout * 2 + std::time::Duration::from_secs(raw.len() as u64 / 65_536);
        let envelope = message.envelope();
        let mut refused = Vec::new();
        let mut answers = Vec::new();
        let mut failure = None;
        for to in envelope.to() {
            let one = Envelope::new(envelope.from().cloned(), vec![to.clone()])
                .map_err(|e| Failure::Refused(format!("envelope for {to}: {e}")))?;
            let sent = self
                .runtime
                .block_on(async { tokio::time::timeout(bound, inner.send_raw(&one, &raw)).await });
            match sent {
                Ok(Ok(response)) => {
                    answers.push(response.message().collect::<Vec<_>>().join(" "));
                }
                Ok(Err(e)) => match classify(&e) {
                    Failure::Refused(why) => refused.push((to.to_string(), why)),
                    other => {
                        failure = Some(other);
                        break;
                    }
                },
                Err(_) => {
                    // The server may have taken it just before the bound: a retry keeps the
                    // same Message-ID, so a repeat is recognisable.
                    failure = Some(Failure::ServerUnusable(format!(
                        "no answer from {} within {bound:?}",
                        self.name
                    )));
                    break;
                }
            }
        }
        match (answers.is_empty(), failure) {
            (true, Some(f)) => Err(f),
            (true, None) => Err(Failure::Refused(
                refused
                    .iter()
                    .map(|(to, why)| format!("{to}: {why}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
            // Taken for some recipients: it is sent; the others are noted for staff (sending it
            // again would repeat it to those who have it).
            (false, f) => {
                if let Some(f) = f {
                    refused.push(("(the remaining recipients)".into(), f.reason().to_string()));
                }
                Ok(Delivered {
                    via: format!("{} {}", self.name, answers.join(" / ")),
                    refused,
                })
            }
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// What an SMTP error means for the mail and for the server.
fn classify(e: &lettre::transport::smtp::Error) -> Failure {
    let text = error_text(e);
    let Some(code) = e.status() else {
        // No answer code: the client would not send it (a refusal of this mail), or the
        // connection, TLS or the network failed (the server is unusable for now).
        return if e.is_client() {
            Failure::Refused(text)
        } else {
            Failure::ServerUnusable(text)
        };
    };
    let n = u16::from(code);
    match n {
        // Authentication (530 required, 534 mechanism too weak, 535 credentials, 538
        // encryption required) and "service not available": nothing will go until fixed.
        421 | 454 | 530 | 534 | 535 | 538 => Failure::ServerUnusable(text),
        400..=499 => Failure::Deferred(text),
        _ => Failure::Refused(text),
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
