//! # Who may use the board: accounts, sessions, CSRF
//!
//! Staff accounts are lines `name:argon2-hash` of a file the configuration names (a `#` line
//! is a comment); a shared token may be read from a file instead or as well. Without either,
//! the board is open, on loopback only, and the name written to the audit log is asked in each
//! action's form and remembered in the session. Sessions live in memory (a restart logs staff
//! out), or in the index when daemons share it (any daemon's board knows them, module
//! `store::board_sessions`); each has a random CSRF token that every action must carry.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

use super::BoardError;
use crate::config::secret::{Secret, SecretSource};

/// The cookie that carries the session id.
pub const COOKIE: &str = "intake_board";
/// A session unused this long is forgotten.
const IDLE: Duration = Duration::from_secs(12 * 3600);
/// Most sessions kept at once; the oldest idle ones go first.
const MAX_SESSIONS: usize = 5_000;
/// Failed logins from one address within [`FAILURE_WINDOW`] before it must wait.
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(300);
/// The shortest token accepted from the token file.
const MIN_TOKEN_CHARS: usize = 16;

/// Hashes a password for the accounts file (argon2id, a fresh random salt, PHC string).
pub fn hash_password(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

/// A line of the accounts file for this staff member (`name:hash`).
pub fn account_line(name: &str, password: &str) -> String {
    format!("{}:{}", name.trim(), hash_password(password))
}

/// True when `password` matches a PHC hash made by [`hash_password`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Reads an accounts file: name → PHC hash.
pub fn read_accounts(path: &Path) -> Result<HashMap<String, String>, BoardError> {
    let bad = |problem: String| BoardError::Accounts {
        path: path.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, hash)) = line.split_once(':') else {
            return Err(bad(format!(
                "line {}: not \"name:hash\" (make one with the board's hash-password command)",
                i + 1
            )));
        };
        let name = name.trim();
        if name.is_empty() || PasswordHash::new(hash.trim()).is_err() {
            return Err(bad(format!(
                "line {}: the name is empty or the hash is not an argon2 hash",
                i + 1
            )));
        }
        out.insert(name.to_string(), hash.trim().to_string());
    }
    if out.is_empty() {
        return Err(bad("holds no account".into()));
    }
    Ok(out)
}

/// How staff get in.
#[derive(Debug, Clone)]
pub enum Access {
    /// No login: loopback only; the name is asked in each action's form.
    Open,
    /// A login with an account's password or the shared token.
    Login {
        /// The accounts file, read again at each login so that new accounts work at once.
        accounts: Option<PathBuf>,
        /// The shared token.
        token: Option<Secret>,
    },
}

impl Access {
    /// Checks the configured files and reads the token.
    pub fn from_config(board: &crate::config::board::Board) -> Result<Access, BoardError> {
        if !board.needs_login() {
            if !board.listen.ip().is_loopback() {
                return Err(BoardError::Unprotected(board.listen));
            }
            return Ok(Access::Open);
        }
        if let Some(path) = &board.accounts {
            read_accounts(path)?;
        }
        let token = match &board.token_file {
            None => None,
            Some(path) => {
                let token = SecretSource::File(path.clone()).read().map_err(|problem| {
                    BoardError::Token {
                        path: path.clone(),
                        problem,
                    }
                })?;
                if token.expose().chars().count() < MIN_TOKEN_CHARS {
                    return Err(BoardError::Token {
                        path: path.clone(),
                        problem: format!("the token is shorter than {MIN_TOKEN_CHARS} characters"),
                    });
                }
                Some(token)
            }
        };
        Ok(Access::Login {
            accounts: board.accounts.clone(),
            token,
        })
    }

    /// True when staff must log in.
    pub fn needs_login(&self) -> bool {
        matches!(self, Access::Login { .. })
    }

    /// Checks a login; `Some(name)` is who logged in. Slow on purpose (argon2): call it off
    /// the async threads.
    pub fn check(&self, name: &str, password: &str) -> Option<String> {
        let Access::Login { accounts, token } = self else {
            return None;
        };
        let name = name.trim();
        if name.is_empty() || password.is_empty() {
            return None;
        }
        let hash = accounts
            .as_deref()
            .and_then(|p| read_accounts(p).ok())
            .and_then(|a| a.get(name).cloned());
        match hash {
            Some(hash) if verify_password(password, &hash) => return Some(name.to_string()),
            Some(_) => {}
            // The same work for an unknown name, so that timing does not tell names apart.
            None => {
                verify_password(password, DUMMY_HASH);
            }
        }
        token
            .as_ref()
            .filter(|t| same(t.expose().as_bytes(), password.as_bytes()))
            .map(|_| name.to_string())
    }
}

/// A hash of nothing anyone types, verified when a login names no account.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Ak6iHvb5Iq/8nQ3q0MxbV+JkJ0N8yB9T1mH3d3WQ2gA";

/// Compares two secrets in time that depends only on their lengths.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    hex::encode(bytes)
}

/// What an action tells the next page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Flash {
    /// `ok` or `error`.
    pub kind: &'static str,
    /// The Vietnamese sentence shown.
    pub text: String,
}

/// One visitor's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie value.
    pub id: String,
    /// The token every action must carry.
    pub csrf: String,
    /// Who logged in, when a login is required.
    pub user: Option<String>,
    /// The name last given in the "Người thực hiện" field (open board).
    pub actor: Option<String>,
    /// A message for the next page.
    pub flash: Option<Flash>,
    last_seen: Instant,
}

impl Session {
    /// The name the audit log gets: the account, else the name given.
    pub fn staff_name(&self) -> Option<&str> {
        self.user.as_deref().or(self.actor.as_deref())
    }
}

/// Sessions in memory (or in the shared index), and failed logins per address.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    /// The shared index's connection, when sessions live there.
    shared: Option<Mutex<crate::store::Store>>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

/// A session as the shared index keeps it (its id is the key, hashed).
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    csrf: String,
    user: Option<String>,
    actor: Option<String>,
    flash: Option<(String, String)>,
}

impl Kept {
    fn of(s: &Session) -> Kept {
        Kept {
            csrf: s.csrf.clone(),
            user: s.user.clone(),
            actor: s.actor.clone(),
            flash: s
                .flash
                .as_ref()
                .map(|f| (f.kind.to_string(), f.text.clone())),
        }
    }

    fn session(self, id: &str) -> Session {
        Session {
            id: id.to_string(),
            csrf: self.csrf,
            user: self.user,
            actor: self.actor,
            flash: self.flash.map(|(kind, text)| Flash {
                kind: if kind == "ok" { "ok" } else { "error" },
                text,
            }),
            last_seen: Instant::now(),
        }
    }
}

impl Sessions {
    /// Sessions kept in a shared index, through `store` (a connection of their own).
    pub fn shared(store: crate::store::Store) -> Sessions {
        Sessions {
            shared: Some(Mutex::new(store)),
            ..Sessions::default()
        }
    }

    /// Runs `f` on the shared index; a failure is logged and reads as no session (the visitor
    /// is asked to log in again, never let in).
    fn in_index<T>(
        &self,
        f: impl FnOnce(&crate::store::Store) -> Result<T, crate::store::StoreError>,
    ) -> Option<T> {
        let store = self
            .shared
            .as_ref()?
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match f(&store) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %crate::causes::chain(&e), "board sessions cannot be read or written in the store");
                None
            }
        }
    }

    /// Writes back a session read from the shared index.
    fn put(&self, s: &Session) {
        let body = serde_json::to_string(&Kept::of(s)).expect("a session serialises");
        self.in_index(|store| store.change_board_session(&id_hash(&s.id), &body));
    }

    /// The live session with this id (its idle time restarts).
    pub fn get(&self, id: &str) -> Option<Session> {
        if self.shared.is_some() {
            let body =
                self.in_index(|store| store.board_session(&id_hash(id), IDLE.as_millis() as i64))??;
            return serde_json::from_str::<Kept>(&body)
                .ok()
                .map(|k| k.session(id));
        }
        let mut map = self.map.lock().expect("sessions lock");
        let s = map.get_mut(id)?;
        if s.last_seen.elapsed() > IDLE {
            map.remove(id);
            return None;
        }
        s.last_seen = Instant::now();
        Some(s.clone())
    }

    /// Starts a session, anonymous or for `user`.
    pub fn create(&self, user: Option<String>) -> Session {
        let s = Session {
            id: random_token(),
            csrf: random_token(),
            actor: user.clone(),
            user,
            flash: None,
            last_seen: Instant::now(),
        };
        if self.shared.is_some() {
            let body = serde_json::to_string(&Kept::of(&s)).expect("a session serialises");
            self.in_index(|store| {
                store.sweep_board_sessions(IDLE.as_millis() as i64, MAX_SESSIONS)?;
                store.add_board_session(&id_hash(&s.id), &body)
            });
            return s;
        }
        let mut map = self.map.lock().expect("sessions lock");
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.last_seen.elapsed() <= IDLE);
            if map.len() >= MAX_SESSIONS
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, s)| s.last_seen)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(s.id.clone(), s.clone());
        s
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        if self.shared.is_some() {
            self.in_index(|store| store.remove_board_session(&id_hash(id)));
            return;
        }
        self.map.lock().expect("sessions lock").remove(id);
    }

    /// Changes a session in place.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut Session)) {
        if self.shared.is_some() {
            if let Some(mut s) = self.get(id) {
                f(&mut s);
                self.put(&s);
            }
            return;
        }
        if let Some(s) = self.map.lock().expect("sessions lock").get_mut(id) {
            f(s);
        }
    }

    /// Takes the session's message for the page being shown.
    pub fn take_flash(&self, id: &str) -> Option<Flash> {
        if self.shared.is_some() {
            let mut s = self.get(id)?;
            let flash = s.flash.take()?;
            self.put(&s);
            return Some(flash);
        }
        self.map
            .lock()
            .expect("sessions lock")
            .get_mut(id)
            .and_then(|s| s.flash.take())
    }

    /// True when this address failed too many logins lately (on any daemon's board, when
    /// sessions live in the shared index).
    pub fn locked_out(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return false };
        if self.shared.is_some() {
            let window = FAILURE_WINDOW.as_millis() as i64;
            // A store that cannot say lets no one try: a login would fail there anyway.
            return self
                .in_index(|store| store.board_login_failures(&ip.to_string(), window))
                .is_none_or(|n| n >= MAX_FAILURES);
        }
        let failures = self.failures.lock().expect("failures lock");
        failures
            .get(&ip)
            .is_some_and(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < FAILURE_WINDOW)
    }

    /// Counts a failed login; a success clears the count.
    pub fn note_login(&self, ip: Option<IpAddr>, ok: bool) {
        let Some(ip) = ip else { return };
        if self.shared.is_some() {
            let window = FAILURE_WINDOW.as_millis() as i64;
            self.in_index(|store| store.note_board_login(&ip.to_string(), ok, window));
            return;
        }
        let mut failures = self.failures.lock().expect("failures lock");
        if ok {
            failures.remove(&ip);
            return;
        }
        let e = failures.entry(ip).or_insert((0, Instant::now()));
        if e.1.elapsed() >= FAILURE_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
}

/// The key a session is kept under in a shared index: never the cookie's id itself.
fn id_hash(id: &str) -> String {
    crate::core::pipeline::sha256_hex(id.as_bytes())
}

/// The session id in a request's `Cookie` header.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value for a session (`Secure` when the browser came over HTTPS).
pub fn set_cookie(id: &str, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_accounts_parse() {
        let h = hash_password("mật khẩu đúng");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("mật khẩu đúng", &h));
        assert!(!verify_password("sai", &h));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts");
        std::fs::write(
            &path,
            format!(
                "# staff\n{}\n\n",
                account_line("Nguyễn Văn A", "mật khẩu đúng")
            ),
        )
        .unwrap();
        let a = read_accounts(&path).unwrap();
        assert!(verify_password("mật khẩu đúng", &a["Nguyễn Văn A"]));
        std::fs::write(&path, "x:plain\n").unwrap();
        assert!(read_accounts(&path).is_err());
        std::fs::write(&path, "# none\n").unwrap();
        assert!(read_accounts(&path).is_err());
    }

    #[test]
    fn sessions_and_lockout() {
        let s = Sessions::default();
        let a = s.create(None);
        assert_eq!(s.get(&a.id).unwrap().csrf, a.csrf);
        assert_ne!(a.id, s.create(None).id);
        s.remove(&a.id);
        assert!(s.get(&a.id).is_none());
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..MAX_FAILURES {
            assert!(!s.locked_out(ip));
            s.note_login(ip, false);
        }
        assert!(s.locked_out(ip));
        s.note_login(ip, true);
        assert!(!s.locked_out(ip));
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
