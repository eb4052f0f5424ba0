//! # The staff board settings
//!
//! `[board]` of `intake.toml`: whether the daemon serves the web board, on which address, and
//! who may use it. On loopback the board may be open to whoever sits at the machine; on any
//! other address it needs staff accounts (an accounts file of argon2 hashes) or a shared token
//! read from a file, and the configuration says so before anything listens. The limits keep
//! the board answering whatever a client does: a slow or silent client is closed, connections
//! are capped below the process's file descriptors, and request bodies are small.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// `[board]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBoard {
    pub enabled: Option<bool>,
    pub listen: Option<String>,
    pub accounts: Option<String>,
    pub token_file: Option<String>,
    pub page_size: Option<usize>,
    pub header_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub request_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_body_bytes: Option<usize>,
}

/// The web board, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Whether the daemon serves the board.
    pub enabled: bool,
    /// The address it listens on (default 127.0.0.1:8080).
    pub listen: SocketAddr,
    /// The accounts file: one `name:argon2-hash` line per staff member.
    pub accounts: Option<PathBuf>,
    /// A file whose first line is a shared token staff log in with.
    pub token_file: Option<PathBuf>,
    /// Rows per page of the intake log.
    pub page_size: usize,
    /// A client must have sent a request's complete headers within this time of connecting
    /// (or of its first byte after an idle keep-alive pause).
    pub header_timeout: Duration,
    /// A connection with no bytes either way for this long is closed (idle keep-alive, a
    /// stalled transfer); live pages send a comment well within it.
    pub idle_timeout: Duration,
    /// From complete headers to the response's start (a slow body included).
    pub request_timeout: Duration,
    /// Connections served at once; beyond it one that never sent a request makes room, or
    /// the newcomer waits briefly and is closed.
    pub max_connections: usize,
    /// The largest request body (the board takes only small forms).
    pub max_body_bytes: usize,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            accounts: None,
            token_file: None,
            page_size: 50,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_connections: 256,
            max_body_bytes: 64 << 10,
        }
    }
}

impl Board {
    /// True when staff must log in: accounts or a token are configured.
    pub fn needs_login(&self) -> bool {
        self.accounts.is_some() || self.token_file.is_some()
    }
}

/// Resolves `[board]`; `Err((key, problem, fix))` names the key under `board`.
pub fn resolve(
    raw: Option<&RawBoard>,
    abs: &dyn Fn(&str) -> PathBuf,
) -> Result<Board, (String, String, String)> {
    let e = |k: &str, p: &str, f: &str| (format!("board.{k}"), p.to_string(), f.to_string());
    let Some(raw) = raw else {
        return Ok(Board::default());
    };
    let default = Board::default();
    let listen = match &raw.listen {
        None => default.listen,
        Some(s) => s.parse::<SocketAddr>().map_err(|_| {
            e(
                "listen",
                &format!("\"{s}\" is not an address and port"),
                "write an IP address and a port, e.g. listen = \"127.0.0.1:8080\"",
            )
        })?,
    };
    let page_size = raw.page_size.unwrap_or(default.page_size);
    if !(10..=1000).contains(&page_size) {
        return Err(e(
            "page_size",
            "must be between 10 and 1000",
            "give the number of log rows per page, e.g. page_size = 50",
        ));
    }
    let secs = |v: Option<u64>, d: Duration, key: &str, max: u64| match v {
        None => Ok(d),
        Some(n) if (1..=max).contains(&n) => Ok(Duration::from_secs(n)),
        Some(_) => Err(e(
            key,
            &format!("must be between 1 and {max} seconds"),
            &format!(
                "give a whole number of seconds, e.g. {key} = {}",
                d.as_secs()
            ),
        )),
    };
    let header_timeout = secs(
        raw.header_timeout_secs,
        default.header_timeout,
        "header_timeout_secs",
        300,
    )?;
    let idle_timeout = secs(
        raw.idle_timeout_secs,
        default.idle_timeout,
        "idle_timeout_secs",
        3600,
    )?;
    let request_timeout = secs(
        raw.request_timeout_secs,
        default.request_timeout,
        "request_timeout_secs",
        3600,
    )?;
    let max_connections = raw.max_connections.unwrap_or(default.max_connections);
    if !(4..=65536).contains(&max_connections) {
        return Err(e(
            "max_connections",
            "must be between 4 and 65536",
            "give the number of connections served at once, below the open-file limit of the service (ulimit -n), e.g. max_connections = 256",
        ));
    }
    let max_body_bytes = raw.max_body_bytes.unwrap_or(default.max_body_bytes);
    if !(1024..=(64 << 20)).contains(&max_body_bytes) {
        return Err(e(
            "max_body_bytes",
            "must be between 1024 and 67108864",
            "give the largest request body in bytes, e.g. max_body_bytes = 65536",
        ));
    }
    let board = Board {
        enabled: raw.enabled.unwrap_or(true),
        listen,
        accounts: raw.accounts.as_deref().map(abs),
        token_file: raw.token_file.as_deref().map(abs),
        page_size,
        header_timeout,
        idle_timeout,
        request_timeout,
        max_connections,
        max_body_bytes,
    };
    if board.enabled && !board.listen.ip().is_loopback() && !board.needs_login() {
        return Err(e(
            "listen",
            &format!(
                "{} is reachable from other machines, but no staff accounts are configured",
                board.listen
            ),
            "name an accounts file (accounts = \"board-accounts\") or a token file (token_file = \"/run/secrets/board\"), or listen on 127.0.0.1",
        ));
    }
    Ok(board)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Board, (String, String, String)> {
        let raw: RawBoard = toml::from_str(text).unwrap();
        resolve(Some(&raw), &|p| PathBuf::from("/etc/intake").join(p))
    }

    #[test]
    fn defaults_and_errors() {
        let none = resolve(None, &|p| PathBuf::from(p)).unwrap();
        assert!(!none.enabled);
        let b = parse("").unwrap();
        assert!(b.enabled && !b.needs_login());
        assert_eq!(b.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(b.page_size, 50);
        let b = parse("listen = \"0.0.0.0:8443\"\naccounts = \"board-accounts\"").unwrap();
        assert_eq!(
            b.accounts,
            Some(PathBuf::from("/etc/intake/board-accounts"))
        );
        assert!(b.needs_login());
        assert_eq!(
            parse("listen = \"0.0.0.0:80\"").unwrap_err().0,
            "board.listen"
        );
        assert!(parse("listen = \"0.0.0.0:80\"\nenabled = false").is_ok());
        assert_eq!(
            parse("listen = \"localhost\"").unwrap_err().0,
            "board.listen"
        );
        assert_eq!(parse("page_size = 1").unwrap_err().0, "board.page_size");
        assert_eq!(b.header_timeout, Duration::from_secs(10));
        let b =
            parse("header_timeout_secs = 2\nidle_timeout_secs = 5\nmax_connections = 8").unwrap();
        assert_eq!(b.header_timeout, Duration::from_secs(2));
        assert_eq!(b.idle_timeout, Duration::from_secs(5));
        assert_eq!(b.max_connections, 8);
        assert_eq!(
            parse("header_timeout_secs = 0").unwrap_err().0,
            "board.header_timeout_secs"
        );
        assert_eq!(
            parse("max_connections = 1").unwrap_err().0,
            "board.max_connections"
        );
        assert_eq!(
            parse("max_body_bytes = 10").unwrap_err().0,
            "board.max_body_bytes"
        );
    }
}
