//! # The IMAP mailbox settings
//!
//! `[mailbox.imap]` of `intake.toml`, read when `[mailbox] kind = "imap"`: where the server is,
//! how to reach it safely, whose mailbox it is, and what to do with a message once its filing
//! is committed. The password or token is named (`password_env`, `password_file`), never
//! written here.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::secret::SecretSource;

/// `[mailbox.imap]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImap {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<String>,
    pub allow_plaintext: Option<bool>,
    pub ca_file: Option<String>,
    pub user: Option<String>,
    pub auth: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    pub folder: Option<String>,
    pub on_filed: Option<String>,
    pub move_to: Option<String>,
    pub keyword: Option<String>,
    pub idle: Option<bool>,
    pub idle_renew_secs: Option<u64>,
    pub poll_secs: Option<u64>,
    pub timeout_secs: Option<u64>,
}

/// An IMAP account's mailbox, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imap {
    /// Server host name (also the name the certificate must carry).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
    /// Extra trust anchors (PEM) for a private server; system roots otherwise.
    pub ca_file: Option<PathBuf>,
    /// The login name.
    pub user: String,
    /// How to authenticate.
    pub auth: Auth,
    /// Where the password (or the OAuth2 access token) is read from.
    pub secret: SecretSource,
    /// The watched mailbox, as people name it (UTF-8).
    pub folder: String,
    /// What to do with a message once its filing is committed.
    pub on_filed: ImapAction,
    /// Use IDLE when the server offers it (polling otherwise).
    pub idle: bool,
    /// IDLE is ended and re-issued this often (well under the 29 minutes of RFC 2177).
    pub idle_renew: Duration,
    /// How often to poll when there is no IDLE.
    pub poll: Duration,
    /// The longest any other command may take before the connection is deemed dead.
    pub timeout: Duration,
}

impl Imap {
    /// `user@host/folder`: the account and mailbox as one name, for keys and logs.
    pub fn account(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }
}

/// Connection protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS before login (port 143).
    StartTls,
    /// No TLS: only to a loopback address, and only when explicitly allowed.
    Plain,
}

/// Authentication mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `LOGIN user password`.
    Login,
    /// `AUTHENTICATE PLAIN`.
    Plain,
    /// `AUTHENTICATE XOAUTH2` with an access token as the secret.
    XOAuth2,
}

/// What happens to a message at the server once its filing is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapAction {
    /// Move it to this folder (UTF-8 name; created if missing).
    Move(String),
    /// Set this keyword or system flag (e.g. `$Filed`, `\Seen`).
    Keyword(String),
    /// Leave it as it is; the store remembers it.
    Keep,
}

/// Resolves `[mailbox.imap]`; `Err((key, problem, fix))` names the key under `mailbox.imap`.
pub fn resolve(
    raw: &RawImap,
    abs: &dyn Fn(&str) -> PathBuf,
) -> Result<Imap, (String, String, String)> {
    let e = |k: &str, p: &str, f: &str| (format!("mailbox.imap.{k}"), p.to_string(), f.to_string());
    let host = raw
        .host
        .clone()
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| {
            e(
                "host",
                "is missing",
                "give the IMAP server's name, e.g. host = \"mail.example.vn\"",
            )
        })?;
    let security = match raw.security.as_deref().unwrap_or("tls") {
        "tls" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::Plain,
        other => {
            return Err(e(
                "security",
                &format!("unknown value \"{other}\""),
                "use \"tls\" (port 993), \"starttls\" (port 143) or, for a server on this machine, \"plain\"",
            ));
        }
    };
    if security == Security::Plain {
        let loopback =
            host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback || raw.allow_plaintext != Some(true) {
            return Err(e(
                "security",
                "\"plain\" sends the password unencrypted",
                "use \"tls\" or \"starttls\"; \"plain\" is accepted only for a loopback host with allow_plaintext = true",
            ));
        }
    }
    let port = raw.port.unwrap_or(match security {
        Security::Tls => 993,
        _ => 143,
    });
    let user = raw
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| e("user", "is missing", "give the mailbox's login name"))?;
    let auth = match raw.auth.as_deref().unwrap_or("login") {
        "login" => Auth::Login,
        "plain" => Auth::Plain,
        "xoauth2" => Auth::XOAuth2,
        other => {
            return Err(e(
                "auth",
                &format!("unknown mechanism \"{other}\""),
                "use \"login\", \"plain\" or \"xoauth2\" (the token then comes from password_env or password_file)",
            ));
        }
    };
    let secret = match (&raw.password_env, &raw.password_file) {
        (Some(v), None) => SecretSource::Env(v.clone()),
        (None, Some(f)) => SecretSource::File(abs(f)),
        _ => {
            return Err(e(
                "password_env",
                "exactly one of password_env and password_file must be given",
                "name the environment variable or the file that holds the password",
            ));
        }
    };
    let on_filed = match raw.on_filed.as_deref().unwrap_or("move") {
        "move" => ImapAction::Move(
            raw.move_to
                .clone()
                .filter(|f| !f.trim().is_empty())
                .ok_or_else(|| {
                    e(
                        "move_to",
                        "is missing",
                        "name the folder filed messages go to, e.g. move_to = \"Đã xử lý\"",
                    )
                })?,
        ),
        "keyword" => ImapAction::Keyword(raw.keyword.clone().unwrap_or_else(|| "$Filed".into())),
        "keep" => ImapAction::Keep,
        other => {
            return Err(e(
                "on_filed",
                &format!("unknown action \"{other}\""),
                "use \"move\" (with move_to), \"keyword\" (with keyword) or \"keep\"",
            ));
        }
    };
    if let ImapAction::Keyword(k) = &on_filed
        && (k.is_empty()
            || k.chars()
                .any(|c| c.is_whitespace() || "(){%*\"]".contains(c)))
    {
        return Err(e(
            "keyword",
            "is not an IMAP keyword",
            "use an atom such as \"$Filed\" or \"\\\\Seen\"",
        ));
    }
    let secs = |v: Option<u64>, d: u64, k: &str, max: u64| match v.unwrap_or(d) {
        n if (1..=max).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err(e(
            k,
            &format!("must be between 1 and {max} seconds"),
            "give a whole number of seconds",
        )),
    };
    Ok(Imap {
        host,
        port,
        security,
        ca_file: raw.ca_file.as_deref().map(abs),
        user,
        auth,
        secret,
        folder: raw.folder.clone().unwrap_or_else(|| "INBOX".into()),
        on_filed,
        idle: raw.idle.unwrap_or(true),
        // Re-issued well before 29 minutes and before NATs drop idle TCP (~15 minutes).
        idle_renew: secs(raw.idle_renew_secs, 300, "idle_renew_secs", 25 * 60)?,
        poll: secs(raw.poll_secs, 60, "poll_secs", 3600)?,
        timeout: secs(raw.timeout_secs, 30, "timeout_secs", 600)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Imap, (String, String, String)> {
        let raw: RawImap = toml::from_str(text).unwrap();
        resolve(&raw, &|p| PathBuf::from("/etc/intake").join(p))
    }

    #[test]
    fn defaults_and_errors() {
        let i = parse("host = \"mail.example.vn\"\nuser = \"u\"\npassword_env = \"P\"\nmove_to = \"Đã xử lý\"").unwrap();
        assert_eq!(
            (i.port, i.security, i.auth),
            (993, Security::Tls, Auth::Login)
        );
        assert_eq!(i.on_filed, ImapAction::Move("Đã xử lý".into()));
        assert_eq!(i.idle_renew, Duration::from_secs(300));
        let err = parse("host = \"mail.example.vn\"\nuser = \"u\"\npassword_env = \"P\"\nsecurity = \"plain\"\nallow_plaintext = true").unwrap_err();
        assert_eq!(err.0, "mailbox.imap.security");
        let ok = parse("host = \"127.0.0.1\"\nuser = \"u\"\npassword_file = \"pw\"\nsecurity = \"plain\"\nallow_plaintext = true\non_filed = \"keep\"").unwrap();
        assert_eq!(ok.secret, SecretSource::File("/etc/intake/pw".into()));
        assert_eq!(ok.port, 143);
        assert!(parse("host = \"h\"\nuser = \"u\"").is_err());
        assert!(parse("host = \"h\"\nuser = \"u\"\npassword_env = \"P\"\non_filed = \"keyword\"\nkeyword = \"a b\"").is_err());
    }
}
