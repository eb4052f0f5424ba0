//! # The SMTP submission settings
//!
//! `[outbox.smtp]` of `intake.toml`, read when `[outbox] kind = "smtp"`: the department's
//! submission server, how to reach it safely and whose account sends. The password is named
//! (`password_env`, `password_file`), never written here.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::imap::Security;
use super::secret::SecretSource;

/// `[outbox.smtp]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<String>,
    pub allow_plaintext: Option<bool>,
    pub ca_file: Option<String>,
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    pub helo_name: Option<String>,
    pub timeout_secs: Option<u64>,
    pub pool_idle_secs: Option<u64>,
    pub max_connections: Option<u32>,
}

/// A submission server, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    /// Server host name (also the name its certificate must carry).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// How the connection is protected (`Tls`: implicit, port 465; `StartTls`: port 587).
    pub security: Security,
    /// Extra trust anchors (PEM) for a private server; system roots otherwise.
    pub ca_file: Option<PathBuf>,
    /// The login name and where its password is read from; None sends without AUTH.
    pub auth: Option<(String, SecretSource)>,
    /// The name given in EHLO (default: this machine's host name).
    pub helo_name: Option<String>,
    /// The longest one SMTP exchange may take.
    pub timeout: Duration,
    /// Pooled connections are closed after this long unused (keep it below the server's).
    pub pool_idle: Duration,
    /// Most connections open at once.
    pub max_connections: u32,
}

/// Resolves `[outbox.smtp]`; `Err((key, problem, fix))` names the key under `outbox.smtp`.
pub fn resolve(
    raw: &RawSmtp,
    abs: &dyn Fn(&str) -> PathBuf,
) -> Result<Smtp, (String, String, String)> {
    let e = |k: &str, p: &str, f: &str| (format!("outbox.smtp.{k}"), p.to_string(), f.to_string());
    let host = raw
        .host
        .clone()
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| {
            e(
                "host",
                "is missing",
                "give the submission server's name, e.g. host = \"mail.example.vn\"",
            )
        })?;
    let security = match raw.security.as_deref().unwrap_or("starttls") {
        "tls" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::Plain,
        other => {
            return Err(e(
                "security",
                &format!("unknown value \"{other}\""),
                "use \"starttls\" (port 587), \"tls\" (port 465) or, for a server on this machine, \"plain\"",
            ));
        }
    };
    if security == Security::Plain {
        let loopback =
            host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback || raw.allow_plaintext != Some(true) {
            return Err(e(
                "security",
                "\"plain\" sends mail and password unencrypted",
                "use \"starttls\" or \"tls\"; \"plain\" is accepted only for a loopback host with allow_plaintext = true",
            ));
        }
    }
    let port = raw.port.unwrap_or(match security {
        Security::Tls => 465,
        Security::StartTls => 587,
        Security::Plain => 25,
    });
    let secret = SecretSource::named(
        raw.password_env.as_deref(),
        raw.password_file.as_deref(),
        abs,
    )
    .map_err(|_| {
        e(
            "password_env",
            "both password_env and password_file are given",
            "name one place the password is read from",
        )
    })?;
    let auth = match (raw.user.clone().filter(|u| !u.is_empty()), secret) {
        (Some(user), Some(secret)) => Some((user, secret)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(e(
                "password_env",
                "a user is given without a password",
                "name the environment variable (password_env) or file (password_file) that holds it",
            ));
        }
        (None, Some(_)) => {
            return Err(e(
                "user",
                "is missing",
                "give the login name of the sending account",
            ));
        }
    };
    let secs = |v: Option<u64>, d: u64, k: &str, max: u64| match v.unwrap_or(d) {
        n if (1..=max).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err(e(
            k,
            &format!("must be between 1 and {max} seconds"),
            "give a whole number of seconds",
        )),
    };
    let max_connections = raw.max_connections.unwrap_or(2);
    if !(1..=16).contains(&max_connections) {
        return Err(e(
            "max_connections",
            "must be between 1 and 16",
            "a department's server rarely allows more than a few connections per account",
        ));
    }
    Ok(Smtp {
        host,
        port,
        security,
        ca_file: raw.ca_file.as_deref().map(abs),
        auth,
        helo_name: raw.helo_name.clone(),
        timeout: secs(raw.timeout_secs, 30, "timeout_secs", 600)?,
        pool_idle: secs(raw.pool_idle_secs, 50, "pool_idle_secs", 3600)?,
        max_connections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Smtp, (String, String, String)> {
        let raw: RawSmtp = toml::from_str(text).unwrap();
        resolve(&raw, &|p| PathBuf::from("/etc/intake").join(p))
    }

    #[test]
    fn defaults_and_errors() {
        let s = parse("host = \"mail.example.vn\"\nuser = \"u\"\npassword_env = \"P\"").unwrap();
        assert_eq!((s.port, s.security), (587, Security::StartTls));
        assert_eq!(s.auth, Some(("u".into(), SecretSource::Env("P".into()))));
        assert_eq!(parse("host = \"h\"\nsecurity = \"tls\"").unwrap().port, 465);
        let err = parse("host = \"mail.example.vn\"\nsecurity = \"plain\"\nallow_plaintext = true")
            .unwrap_err();
        assert_eq!(err.0, "outbox.smtp.security");
        let ok = parse("host = \"127.0.0.1\"\nport = 2525\nsecurity = \"plain\"\nallow_plaintext = true\nuser = \"u\"\npassword_file = \"pw\"").unwrap();
        assert_eq!(
            ok.auth.unwrap().1,
            SecretSource::File("/etc/intake/pw".into())
        );
        assert_eq!(
            parse("host = \"h\"\nuser = \"u\"").unwrap_err().0,
            "outbox.smtp.password_env"
        );
        assert!(parse("port = 25").is_err());
        assert!(parse("host = \"h\"\nmax_connections = 0").is_err());
    }
}
