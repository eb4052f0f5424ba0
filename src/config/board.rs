//! # The staff board settings
//!
//! `[board]` of `intake.toml`: whether the daemon serves the web board, on which address, and
//! who may use it. On loopback the board may be open to whoever sits at the machine; on any
//! other address it needs staff accounts (an accounts file of argon2 hashes) or a shared token
//! read from a file, and the configuration says so before anything listens.

use std::net::SocketAddr;
use std::path::PathBuf;

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
}

impl Default for Board {
    fn default() -> Self {
        Board {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            accounts: None,
            token_file: None,
            page_size: 50,
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
    let board = Board {
        enabled: raw.enabled.unwrap_or(true),
        listen,
        accounts: raw.accounts.as_deref().map(abs),
        token_file: raw.token_file.as_deref().map(abs),
        page_size,
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
    }
}
